"""The quota rows of users and groups: loaded and saved inside the store's writes.

A row holds the quota data and its rendered sections. The sections of every
owner are cached as escaped text, as pools cache documents, so `*.info` and
pool listings splice them in without a query; a commit that saves a row drops
its entry, and a reader only caches what it read if no commit came in between.
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

from one.pool.models import Quota
from one.pool.pool import Store
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

    def load(self, owner: str, oid: int) -> dict[str, Any]:
        """The quota data of an owner ({} when it has none yet)."""
        row = Quota.get_or_none((Quota.owner == owner) & (Quota.oid == oid))
        return row.data if row is not None and row.data else {}

    def save(self, owner: str, oid: int, data: dict[str, Any]) -> None:
        """Store the data and its sections; call inside `store.write()`."""
        body = sections(data, default_limit=-2 if oid == DEFAULTS else -1)
        Quota.insert(owner=owner, oid=oid, data=data, body=body).on_conflict_replace().execute()
        self.store.after_commit(lambda: self._forget(owner, oid))

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
        found: dict[int, bytes] = {}
        missing = []
        for oid in oids:
            text = self._texts.get((owner, oid))
            if text is None:
                missing.append(oid)
            else:
                found[oid] = text
        if missing:
            generation = self._generation
            fetched = {oid: esc(body).encode() for oid, body in self.bodies(owner, missing).items()}
            with self._lock:
                if generation == self._generation:
                    self._texts.update({(owner, oid): text for oid, text in fetched.items()})
            found.update(fetched)
        return [found[oid] for oid in oids]
