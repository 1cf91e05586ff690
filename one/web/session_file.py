"""Signed-in browsers kept on disk, so that a restart of one-web signs nobody out.

The file holds oned login tokens, which are passwords for oned's API: it is
written 0600 (a new file renamed over the old one, never a wider mode in
between), and one-web refuses to start on a file that another user owns or
that others may read. A file that is not ours to parse starts empty.
"""
from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any, Mapping

log = logging.getLogger(__name__)


class UnsafeSessionFile(ValueError):
    """The file could be read by someone else than one-web's user."""


class SessionFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        """The unexpired logins by cookie id ({} without a file or with a damaged one)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise UnsafeSessionFile(
                f"session file {self.path} has mode {stat.filemode(info.st_mode)} and owner "
                f"{info.st_uid}: it holds oned login tokens, make it yours and 0600")
        try:
            stored = json.loads(self.path.read_text())
            return {str(sid): _login(entry) for sid, entry in stored.items()
                    if float(entry["expires"]) >= time.time()}
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("session file %s ignored (%s): everyone signs in again", self.path, error)
            return {}

    def save(self, logins: Mapping[str, Mapping[str, Any]]) -> None:
        """Replaces the file by `logins` at once (a reader sees the old one or the new).
        A file that cannot be written costs the restart, not the sign-in: a warning."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as out:
                os.fchmod(out.fileno(), 0o600)  # an older leftover keeps its mode otherwise
                json.dump(logins, out)
            os.replace(fresh, self.path)
        except OSError as error:
            log.warning("session file %s not written (%s): sign-ins last until a restart",
                        self.path, error)


def _login(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"user": str(entry["user"]), "token": str(entry["token"]),
            "csrf": str(entry["csrf"]), "expires": float(entry["expires"])}
