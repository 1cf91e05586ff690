"""What can go wrong in a CLI run, and the exit status each case gets.

The classes join the project's one exception tree (one.errors), adding the
status scripts tell failures apart by: 1 the server (or a local file) said
no, USAGE the command line was wrong, UNREACHABLE no server answered.
"""
from __future__ import annotations

from one.errors import OneError

FAILED, USAGE, UNREACHABLE = 1, 2, 3


class CliError(OneError):
    """A failure reported to the operator as one red line on stderr."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ServerError(CliError):
    """A `[False, message, code]` reply or an XML-RPC fault; `code` is the server's.

    Its own class because a refusal for one id must not stop `onevm
    terminate 1 2 3` from trying the others, while other failures do.
    """

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
