"""The leadership of highly available oneds sharing one PostgreSQL database.

Exactly one `oned --ha` leads: it holds oned's advisory lock (`PG_LOCK_KEY`, the
one a single oned takes, so a plain oned and an HA group exclude each other) on
a connection of its own, and the lease row `one_ha_lease` names it with a term,
the fencing token, raised by one at every election.

- The leader's process dies (even `kill -9`): its session ends, the lock is
  free, and the first follower to poll takes it.
- The leader hangs (stopped, partitioned): its server row stops being
  refreshed; after ELECTION_TIMEOUT a follower ends the session holding the lock
  and takes it.
- Either way the winner raises the term, in a transaction that locks the lease
  row: every write transaction of a leader reads that row FOR SHARE first and
  compares the term with its own (`fence`), so a write of the old leader either
  committed before the new term did, or sees the new term and is rolled back.
  A deposed leader never commits.

Times come from the database's clock (`now()`), so the servers' clocks never
have to agree.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import peewee

from one.errors import InternalError
from one.writer_lock import PG_LOCK_KEY

log = logging.getLogger("oned.ha")
_SETUP_KEY = PG_LOCK_KEY + 1  # serialises creating the schema among servers starting at once
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS one_ha_lease (id INTEGER PRIMARY KEY, term BIGINT NOT NULL, "
    "leader INTEGER NOT NULL)",
    "INSERT INTO one_ha_lease VALUES (0, 0, -1) ON CONFLICT DO NOTHING",
    "CREATE TABLE IF NOT EXISTS one_ha_server (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "endpoint TEXT NOT NULL, seen TIMESTAMPTZ NOT NULL)",
)


class NotLeader(InternalError):
    """This oned may not change the state: another server leads (or none does yet)."""


@dataclass(frozen=True)
class Server:
    """A row of the zone's server pool, as the others see it."""

    id: int
    name: str
    endpoint: str
    alive: bool   # refreshed within the election timeout
    leader: bool  # named by the lease


def application_name(server_id: int) -> str:
    """How this server's sessions are named in pg_stat_activity (to end them when deposed)."""
    return f"oned-ha-{server_id}"


class Lease:
    """One server's view of the lease, over its own connection (the watch thread's)."""

    def __init__(self, db: peewee.Database, server_id: int, name: str, endpoint: str,
                 timeout: float) -> None:
        self.db = db
        self.server_id, self.name, self.endpoint = server_id, name, endpoint
        self.timeout = timeout
        self.term: int | None = None  # ours while we lead

    def _one(self, sql: str, params: tuple = ()) -> tuple:
        return self.db.execute_sql(sql, params).fetchone()

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """One server at a time creates or upgrades the schema (they may start together)."""
        self._one("SELECT pg_advisory_lock(%s)", (_SETUP_KEY,))
        try:
            yield
        finally:
            self._one("SELECT pg_advisory_unlock(%s)", (_SETUP_KEY,))

    def setup(self) -> None:
        """The tables, and this server in the pool (its row replaced: it restarted)."""
        with self.db.atomic():
            self._one("SELECT pg_advisory_xact_lock(%s)", (_SETUP_KEY,))
            for statement in _SCHEMA:
                self.db.execute_sql(statement)
            self.db.execute_sql(
                "INSERT INTO one_ha_server VALUES (%s, %s, %s, now()) ON CONFLICT (id) DO UPDATE "
                "SET name = EXCLUDED.name, endpoint = EXCLUDED.endpoint, seen = now()",
                (self.server_id, self.name, self.endpoint))

    def beat(self) -> None:
        """Tell the others this server is alive."""
        self.db.execute_sql("UPDATE one_ha_server SET seen = now() WHERE id = %s",
                            (self.server_id,))

    def current(self) -> tuple[int, int]:
        """(term, leader) as stored."""
        term, leader = self._one("SELECT term, leader FROM one_ha_lease WHERE id = 0")
        return int(term), int(leader)

    def leads(self) -> bool:
        """Whether the lease still names us with our term."""
        return self.term is not None and self.current() == (self.term, self.server_id)

    def _leader_silent(self, leader: int) -> bool:
        row = self._one("SELECT now() - seen > %s * interval '1 second' FROM one_ha_server "
                        "WHERE id = %s", (self.timeout, leader))
        return row is None or bool(row[0])

    def _end_sessions(self, leader: int, lock_only: bool) -> None:
        """End the deposed leader's session holding the lock (or all of its sessions)."""
        if lock_only:
            self.db.execute_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND classid = %s AND objid = %s AND objsubid = 1 "
                "AND pid <> pg_backend_pid()", (PG_LOCK_KEY >> 32, PG_LOCK_KEY & 0xFFFFFFFF))
        else:
            self.db.execute_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "application_name = %s AND datname = current_database() "
                "AND pid <> pg_backend_pid()", (application_name(leader),))

    def _try_lock(self) -> bool:
        return bool(self._one("SELECT pg_try_advisory_lock(%s)", (PG_LOCK_KEY,))[0])

    def _wait_lock(self) -> bool:
        """The lock, once the session just ended has let it go (up to the timeout)."""
        try:
            with self.db.atomic():
                self.db.execute_sql("SET LOCAL lock_timeout = %s", (self._timeout_ms(),))
                self._one("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))
        except peewee.OperationalError:
            return False
        return True

    def _timeout_ms(self) -> str:
        return f"{int(self.timeout * 1000)}ms"

    def try_lead(self) -> int | None:
        """Become the leader if the lock is free or its holder went silent: the new
        term, or None (someone else leads)."""
        if not self._try_lock():
            term, leader = self.current()
            if leader < 0 or leader == self.server_id or not self._leader_silent(leader):
                return None  # a plain oned holds it, or a live leader does
            log.warning("leader %s silent for %g s (term %s): ending its lock session",
                        leader, self.timeout, term)
            self._end_sessions(leader, lock_only=True)
            if not self._wait_lock():
                return None
        return self._raise_term()

    def _raise_term(self) -> int | None:
        """With the lock held: the next term is ours, once no write of the old leader
        holds the lease row (one stuck mid-transaction is ended)."""
        try:
            with self.db.atomic():
                self.db.execute_sql("SET LOCAL lock_timeout = %s", (self._timeout_ms(),))
                _, old = self._one("SELECT term, leader FROM one_ha_lease WHERE id = 0 FOR UPDATE")
                (term,) = self._one("UPDATE one_ha_lease SET term = term + 1, leader = %s "
                                    "WHERE id = 0 RETURNING term", (self.server_id,))
        except peewee.OperationalError:
            _, old = self.current()
            log.warning("a transaction of leader %s holds the lease: ending its sessions", old)
            if old != self.server_id:
                self._end_sessions(old, lock_only=False)
            self.release()
            return None
        self.term = int(term)
        return self.term

    def release(self) -> None:
        """Give the lock back (a takeover that could not finish)."""
        self.term = None
        self._one("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))

    def fence_on(self, db: peewee.Database) -> "Fence":
        return Fence(self, db)

    def servers(self) -> list[Server]:
        rows = self.db.execute_sql(
            "SELECT s.id, s.name, s.endpoint, now() - s.seen <= %s * interval '1 second', "
            "s.id = l.leader FROM one_ha_server s, one_ha_lease l WHERE l.id = 0 ORDER BY s.id",
            (self.timeout,)).fetchall()
        return [Server(int(i), n, e, bool(a), bool(lead)) for i, n, e, a, lead in rows]

    def leader(self) -> Server | None:
        """The live leader, if the lease names one."""
        return next((s for s in self.servers() if s.leader and s.alive), None)


class Fence:
    """The check a leader's store runs first in every write transaction, and its driver
    threads before every action: the lease still holds our term."""

    def __init__(self, lease: Lease, db: peewee.Database) -> None:
        self.lease, self.db = lease, db

    def _stored_term(self, lock: str) -> int:
        return int(self.db.execute_sql(f"SELECT term FROM one_ha_lease WHERE id = 0{lock}")
                   .fetchone()[0])

    def _refuse(self, stored: int) -> None:
        if stored != self.lease.term:
            raise NotLeader(f"Cannot process request, not the leader (term {self.lease.term}, "
                            f"the lease is at term {stored})")

    def __call__(self) -> None:
        """Inside the transaction: the row stays locked until it ends, so no new term
        can be taken before this transaction commits or rolls back."""
        self._refuse(self._stored_term(" FOR SHARE"))

    def check(self) -> None:
        """Before a driver action (outside any transaction)."""
        self._refuse(self._stored_term(""))
