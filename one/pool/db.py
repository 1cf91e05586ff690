"""Opening the database and keeping its schema, for SQLite or PostgreSQL.

Models are unbound at import time and `open_database` binds them. peewee binds
model classes, so the binding is per process: one oned per process, one
database at a time (tests run servers one after another, never side by side).
"""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlparse

import peewee

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


def connect(url: str) -> peewee.Database:
    """Build a peewee database from a path or a `sqlite:`/`postgresql:` URL; the query
    of a PostgreSQL URL holds libpq options (`?application_name=oned-ha-1`)."""
    path = sqlite_path(url)
    if path is None:
        parsed = urlparse(url)
        options: dict[str, Any] = dict(parse_qsl(parsed.query))
        return peewee.PostgresqlDatabase(
            parsed.path.lstrip("/"), user=parsed.username, password=parsed.password,
            host=parsed.hostname, port=parsed.port or 5432, autorollback=True,
            **options,
        )
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
