"""Local files the tools read: templates, the auth file, VM logs.

Each failure (missing, unreadable, not UTF-8 text) is one clear line naming
the file, never a traceback.
"""
from __future__ import annotations

from pathlib import Path

from one.cli.errors import CliError


def read_file(path: str | Path, what: str = "file") -> str:
    """The file's text; templates are UTF-8, as oned parses them."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{what[:1].upper()}{what[1:]} {path} is not UTF-8 text "
                       f"(byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
