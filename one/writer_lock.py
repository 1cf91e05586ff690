"""One writer per state: oned's exclusive locks and its pid file.

Two oneds on the same VAR_LOCATION or database would both write it and undo
each other's work, so oned takes, before it writes anything:

- `fcntl.flock` on `<var>/oned.lock`;
- for SQLite, `flock` on `<db>.lock` beside the database file as well (a
  database may be named by another oned's `DB` from another var directory);
- for PostgreSQL, a session advisory lock, held by a connection of its own
  (`oned --ha` servers share the database: for them that lock is the
  leadership, see `one.core.lease`, and this one takes only the files).

Each lock belongs to the process and dies with it, so a restart after
`kill -9` simply takes it again: nothing stale to clean. The lock files hold
their owner's pid, for the message a second oned prints.

`oned.pid` is written once the locks are held and removed on exit. One found
at start is necessarily stale (its owner would hold the lock): it is reported
in the log and replaced.
"""
from __future__ import annotations

import fcntl
import logging
import os
from urllib.parse import urlparse

import peewee

from one.errors import OneError
from one.pool.db import connect, sqlite_path

log = logging.getLogger("oned")
PG_LOCK_KEY = 0x6F6E65640A  # any constant: oned's advisory lock in its database


class AlreadyRunning(OneError):
    """Another oned holds the state this one was asked to use."""


def _owner(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


class WriterLock:
    def __init__(self, var: str, db_url: str, database: bool = True) -> None:
        self.var = var
        self.db_url = db_url
        self.database = database  # False: the var directory only (an HA server)
        self.pid_file = os.path.join(var, "oned.pid")
        self._files: list[int] = []
        self._pg: peewee.Database | None = None

    def _paths(self) -> list[tuple[str, str]]:
        """(lock file, what it protects) pairs."""
        paths = [(os.path.join(self.var, "oned.lock"), self.var)]
        database = sqlite_path(self.db_url)
        if database is not None:
            paths.append((f"{database}.lock", database))
        return paths

    def acquire(self) -> None:
        """Take every lock or none; AlreadyRunning names the holder."""
        try:
            for path, what in self._paths():
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    owner = _owner(fd)
                    os.close(fd)
                    raise AlreadyRunning(f"oned is already running on {what}{owner}") from None
                self._files.append(fd)
                _write_pid(fd)
            if sqlite_path(self.db_url) is None and self.database:
                self._lock_postgres()
        except BaseException:
            self.release()
            raise

    def _lock_postgres(self) -> None:
        db = connect(self.db_url)
        self._pg = db
        locked = db.execute_sql("SELECT pg_try_advisory_lock(%s)", (PG_LOCK_KEY,)).fetchone()[0]
        if not locked:
            parsed = urlparse(self.db_url)
            raise AlreadyRunning(
                f"oned is already running on database {parsed.path.lstrip('/')} "
                f"at {parsed.hostname}:{parsed.port or 5432}")

    def record_pid(self) -> None:
        """Write oned.pid (and the pid in the lock files): after a daemon's forks."""
        for fd in self._files:
            _write_pid(fd)
        try:
            with open(self.pid_file) as old:
                stale = old.read().strip()
        except OSError:
            stale = None
        if stale is not None and stale != str(os.getpid()):
            log.warning("stale %s of pid %s found (that oned is gone): replaced",
                        self.pid_file, stale or "?")
        temporary = f"{self.pid_file}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{os.getpid()}\n")
        os.replace(temporary, self.pid_file)

    def release(self) -> None:
        """Remove our pid file and drop the locks (the lock files stay: removing a
        file another process may be about to lock would let two oneds in)."""
        try:
            with open(self.pid_file) as current:
                if current.read().strip() == str(os.getpid()):
                    os.unlink(self.pid_file)
        except OSError:
            pass
        while self._files:
            os.close(self._files.pop())
        if self._pg is not None:
            try:  # unlocked now: a closed session frees it only once its backend has gone
                self._pg.execute_sql("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))
            except peewee.PeeweeException:
                pass  # the connection is gone, and the lock with it
            self._pg.close()
            self._pg = None
