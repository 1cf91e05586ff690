"""Opening the database and keeping its schema, for SQLite or PostgreSQL.

Models are unbound at import time and `open_database` binds them. peewee binds
model classes, so the binding is per process: one oned per process, one
database at a time (tests run servers one after another, never side by side).
"""
from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlparse

import peewee

from one.errors import OneError
from one.pool import models
from one.pool.migrations import upgrade

SCHEMA_VERSION = 7


def sqlite_path(url: str) -> str | None:
    """The file of an SQLite database (a path or `sqlite:` URL); None for PostgreSQL."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        return None
    return os.path.abspath(parsed.path if parsed.scheme == "sqlite" else url)


def _private(path: str) -> None:
    """The database file and its WAL companions readable by oned's user only
    (SQLite gives the companions the mode of the database file)."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)


# libpq's "connection to server at "h", port p failed: " before the reason: the
# message names the server already.
_ATTEMPT = re.compile(r'^connection to server at .*? failed: ')


class DatabaseUnavailable(OneError):
    """The configured database cannot be used: the server, the database, the
    credentials or the driver. Its message is one line, for oned's stderr."""


def _connect_postgresql(url: str) -> peewee.Database:
    """A PostgreSQL database, connected in this thread so that a wrong `DB` is
    reported at once, in one line, rather than on the first query."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    where = f"PostgreSQL database {name} at {parsed.hostname}:{parsed.port or 5432}"
    options: dict[str, Any] = dict(parse_qsl(parsed.query))
    db = peewee.PostgresqlDatabase(name, user=parsed.username, password=parsed.password,
                                   host=parsed.hostname, port=parsed.port or 5432, **options)
    try:
        db.connect()
    except peewee.ImproperlyConfigured:
        raise DatabaseUnavailable(
            f"cannot use {where}: the PostgreSQL driver psycopg2 is not installed "
            "(pip install 'one[postgres]')") from None
    except peewee.OperationalError as exc:
        reason = _ATTEMPT.sub("", " ".join(str(exc).split("\n")[0].split()))
        raise DatabaseUnavailable(f"cannot connect to {where}: {reason}") from None
    return db


def connect(url: str) -> peewee.Database:
    """Build a peewee database from a path or a `sqlite:`/`postgresql:` URL; the query
    of a PostgreSQL URL holds libpq options (`?application_name=oned-ha-1`)."""
    path = sqlite_path(url)
    if path is None:
        return _connect_postgresql(url)
    _private(path)
    # WAL lets readers (info, pool listings) run beside the single writer. Every
    # server thread has its own connection, so the page cache is kept small:
    # documents are served from the pools' own text cache anyway. secure_delete
    # zeroes what is deleted or overwritten, so replaced credentials leave no trace.
    return peewee.SqliteDatabase(path, check_same_thread=False, pragmas={
        "journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1,
        "cache_size": -4000, "busy_timeout": 10000, "secure_delete": 1,
    })


def open_database(url: str) -> peewee.Database:
    """Connect, bind every model and create or check the schema.

    Refused while another database is open in this process: models would
    silently move to the new one under the first server's feet.
    """
    current = models.SchemaVersion._meta.database
    if current is not None and not current.is_closed():
        raise RuntimeError("another one database is open in this process; close it first")
    db = connect(url)
    db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
    db.connect(reuse_if_open=True)
    try:
        with db.atomic():
            db.create_tables(models.ALL_MODELS, safe=True)
            row = models.SchemaVersion.get_or_none()
            if row is None:
                models.SchemaVersion.create(version=SCHEMA_VERSION)
            elif row.version < SCHEMA_VERSION:
                upgrade(db, row.version, SCHEMA_VERSION)
                models.SchemaVersion.update(version=SCHEMA_VERSION).execute()
            elif row.version != SCHEMA_VERSION:
                raise RuntimeError(
                    f"database schema version {row.version}, this oned needs {SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    return db
