"""One exception tree for the whole core.

Each class carries OpenNebula's XML-RPC error code, so the XML-RPC boundary
turns any of them into ``[False, message, code]`` in exactly one place and the
CLI into a message and a non-zero exit.
"""
from __future__ import annotations


class OneError(Exception):
    """Base of every error the core reports to a caller."""

    code = 0x2000

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthenticationError(OneError):
    code = 0x0100


class AuthorizationError(OneError):
    code = 0x0200


class NoExistsError(OneError):
    code = 0x0400


class ActionError(OneError):
    """Wrong state for an action, or an action a driver does not support."""

    code = 0x0800


class ApiError(OneError):
    """A parameter of the right XML-RPC type but a meaningless value."""

    code = 0x1000


class InternalError(OneError):
    code = 0x2000


class AllocateError(OneError):
    """The object could not be created (name taken, no lease, bad reference)."""

    code = 0x4000


class LockedError(OneError):
    code = 0x8000


class TemplateSyntaxError(InternalError):
    """A template could not be parsed; line and column are 1-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"Parse error{where}: {message}")
        self.line = line
        self.column = column


class TemplateLimitError(ApiError):
    """A user-supplied template, or one of its values, is larger than oned accepts."""


class ActionNotSupported(ActionError):
    """Raised by a driver for an action it does not implement."""
