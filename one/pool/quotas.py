"""The quota rows of users and groups: loaded and saved inside the store's writes.

A row holds the quota data and its rendered sections. The sections of every
owner are cached as escaped text, as pools cache documents, so `*.info` and
pool listings splice them in without a query; a commit that saves a row drops
its entry, and a reader only caches what it read if no commit came in between.
Charging runs on every allocation, so rows are read and written with
precompiled statements, and the default quotas (read by every charge, written
by an administrator now and then, both under the writer lock) are kept in memory.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Sequence

from one.pool.models import Quota
from one.pool.pool import Store, cached
from one.pool.render.common import esc
from one.pool.render.quota import EMPTY, sections

DEFAULTS = -1  # the oid of the default quotas' row
_CHUNK = 900


class QuotaStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._texts: dict[tuple[str, int], bytes] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._defaults: dict[str, dict[str, Any]] = {}
        db, mark = store.db, store.db.param
        table = f"{db.quote[0]}{Quota._meta.table_name}{db.quote[1]}"
        where = f"WHERE owner = {mark} AND oid = {mark}"
        self._select = f"SELECT data FROM {table} {where}"
        self._update = f"UPDATE {table} SET data = {mark}, body = {mark} {where}"
        self._insert = f"INSERT INTO {table} (owner, oid, data, body) VALUES ({', '.join([mark] * 4)})"

    def load(self, owner: str, oid: int) -> dict[str, Any]:
        """The quota data of an owner ({} when it has none yet); a copy to change."""
        if oid == DEFAULTS and owner in self._defaults:
            return json.loads(json.dumps(self._defaults[owner]))
        row = self.store.db.execute_sql(self._select, (owner, oid)).fetchone()
        data = json.loads(row[0]) if row is not None and row[0] else {}
        if oid == DEFAULTS:
            self._defaults[owner] = json.loads(json.dumps(data))
        return data

    def save(self, owner: str, oid: int, data: dict[str, Any]) -> None:
        """Store the data and its sections; call inside `store.write()`."""
        body = sections(data, default_limit=-2 if oid == DEFAULTS else -1)
        text = json.dumps(data, separators=(",", ":"))
        if self.store.db.execute_sql(self._update, (text, body, owner, oid)).rowcount == 0:
            self.store.db.execute_sql(self._insert, (owner, oid, text, body))
        if oid == DEFAULTS:
            self._drop_defaults(owner)
            self.store.after_rollback(lambda: self._drop_defaults(owner))
        self.store.after_commit(lambda: self._forget(owner, oid))

    def _drop_defaults(self, owner: str) -> None:
        self._defaults.pop(owner, None)

    def drop(self, owner: str, oid: int) -> None:
        """The owner is deleted: its quotas go with it (inside its write)."""
        Quota.delete().where((Quota.owner == owner) & (Quota.oid == oid)).execute()
        self.store.after_commit(lambda: self._forget(owner, oid))

    def _forget(self, owner: str, oid: int) -> None:
        with self._lock:
            self._generation += 1
            self._texts.pop((owner, oid), None)

    def bodies(self, owner: str, oids: Sequence[int]) -> dict[int, str]:
        """The stored sections of each owner (the empty sections when it has no row)."""
        found = {oid: EMPTY for oid in oids}
        for start in range(0, len(oids), _CHUNK):
            query = Quota.select(Quota.oid, Quota.body).where(
                (Quota.owner == owner) & Quota.oid.in_(list(oids[start:start + _CHUNK])))
            for oid, body in query.tuples().iterator():
                found[oid] = body or EMPTY
        return found

    def texts(self, owner: str, oids: Sequence[int]) -> list[bytes]:
        """The four sections of each owner, escaped as XML-RPC string text."""
        found, missing = cached(lambda oid: self._texts.get((owner, oid)), oids)
        if missing:
            generation = self._generation
            fetched = {oid: esc(body).encode() for oid, body in self.bodies(owner, missing).items()}
            with self._lock:
                if generation == self._generation:
                    self._texts.update({(owner, oid): text for oid, text in fetched.items()})
            found.update(fetched)
        return [found[oid] for oid in oids]
