"""Schema upgrades: one step per version, run by `open_database` inside its
transaction, so a database is either fully upgraded or left as it was."""
from __future__ import annotations

import json
from typing import Any, Callable

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from one.pool.credentials import hash_password, token_digest
from one.pool.history import fill_history


def _hashed_credentials(db: pw.Database) -> None:
    """1 -> 2: SHA1/SHA256 password columns become one salted scrypt of the SHA1
    (the SHA1 is all it needs, so no password is required), plain login
    tokens become digests. Bodies are emptied: they render again on first read.

    Each user costs one slow hash, about 0.1 s.
    """
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("user", "password", pw.CharField(default="")))
    # A bare table: its columns become attributes at run time, unknown to the types.
    users: Any = pw.Table("user", ("oid", "sha1", "tokens", "password", "body",
                                   "pool_body")).bind(db)
    for oid, sha1, tokens in list(users.select(users.oid, users.sha1, users.tokens).tuples()):
        hashed = [{"DIGEST": token_digest(t["TOKEN"]), "EXPIRATION_TIME": t["EXPIRATION_TIME"],
                   "EGID": t["EGID"]} for t in json.loads(tokens or "[]")]
        users.update({users.password: hash_password(sha1) if sha1 else "",
                      users.tokens: json.dumps(hashed, separators=(",", ":")),
                      users.body: "", users.pool_body: ""}).where(users.oid == oid).execute()
    migrate(migrator.drop_column("user", "sha1"), migrator.drop_column("user", "sha256"))


def _datastore_state(db: pw.Database) -> None:
    """3 -> 4: datastores get STATE (0 READY, 1 DISABLED), all READY; bodies are
    rendered on read, so none needs emptying. A table made at this start (a
    database from before datastores) has it already."""
    if "state" not in {column.name for column in db.get_columns("datastore")}:
        migrator = SchemaMigrator.from_database(db)
        migrate(migrator.add_column("datastore", "state", pw.IntegerField(default=0)))


def _vm_lock(db: pw.Database) -> None:
    """5 -> 6: VMs get a lock (one.vm.lock), all unlocked; bodies have no LOCK to drop."""
    if "lock" not in {column.name for column in db.get_columns("vm")}:
        migrator = SchemaMigrator.from_database(db)
        migrate(migrator.add_column("vm", "lock", pw.TextField(default="{}")))


def _vm_short_bodies(db: pw.Database) -> None:
    """4 -> 5: short VM bodies list the EC2_* attributes (what one-econe's DescribeInstances
    reads); the stored ones of VMs that have some are emptied, so they render on next read."""
    # The pattern is a parameter: psycopg2 would read its % as placeholders.
    db.execute_sql(f"UPDATE vm SET pool_body = '' WHERE body LIKE {db.param}", ("%<EC2_%",))


def _vm_disk_snapshots(db: pw.Database) -> None:
    """6 -> 7: VMs get their disk snapshot trees (one.vm.disksnapshot*), all empty; bodies
    have no SNAPSHOTS to drop."""
    if "snapshots" not in {column.name for column in db.get_columns("vm")}:
        migrator = SchemaMigrator.from_database(db)
        migrate(migrator.add_column("vm", "snapshots", pw.TextField(default="[]")))


# 2 -> 3: the history table (created empty at start) gets a row per record of every VM.
STEPS: dict[int, Callable[[pw.Database], None]] = {1: _hashed_credentials, 2: fill_history,
                                                   3: _datastore_state, 4: _vm_short_bodies,
                                                   5: _vm_lock, 6: _vm_disk_snapshots}


def upgrade(db: pw.Database, version: int, target: int) -> None:
    """Run every step from `version` up to `target`."""
    for step in range(version, target):
        STEPS[step](db)
