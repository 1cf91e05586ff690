"""Pools: repositories with OpenNebula's verbs over the peewee models.

A pool allocates ids (never reused), loads objects, saves them together with
their freshly rendered XML, and lists stored XML. Writers go through
`Store.write()`, which holds the one lock that serialises changes to the
database, as oned's pool mutexes do. An object that is changed and saved must
be loaded under that same lock (`Pool.modify` does both), or a concurrent
writer's change is lost; a save writes only the columns that changed.

Every API returns documents as XML-RPC strings, i.e. as escaped text. Pools
keep that text form of each document in memory, encoded, so `*.info` and
listings of thousands of objects hand ready byte strings to the socket
instead of fetching, escaping and encoding megabytes per call. Entries are dropped after every commit that touches the
object, and a reader only caches what it read if no commit came in between.

A highly available oned (see `one.core.lease`) sets `Store.fence`, run first in
every outermost write transaction, so a server that lost the leadership can never
commit; a follower's store is `read_only`: it caches nothing, since the leader's
commits never reach it, and renders lazily saved documents without storing them.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable, Generic, Iterator, Sequence, TypeVar

import peewee as pw

from one.errors import NoExistsError
from one.pool.fairlock import FairLock
from one.pool.models import PoolControl, PoolObject
from one.pool.render.common import esc
from one.pool.statements import Statements

M = TypeVar("M", bound=PoolObject)
Renderer = Callable[[M], "tuple[str, str]"]
FULL, SHORT = 0, 1
_CHUNK = 900  # SQLite's historic limit on query parameters is 999
FULL_CACHE = 4096  # `*.info` documents kept; listings (SHORT) are kept for every object
log = logging.getLogger(__name__)


class Store:
    """The database, its writer lock, and work to run once a change is committed."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self.lock = FairLock()  # writers take turns: a batching writer never shuts others out
        self._depth = 0
        self._after: list[tuple[Callable[[], None], bool]] = []  # (work, only if committed)
        self._undo: list[Callable[[], None]] = []
        self.fence: Callable[[], None] | None = None  # raises when this oned may not write
        self.read_only = False  # a follower's: another oned writes this database

    @contextmanager
    def write(self) -> Iterator[None]:
        """One atomic change: nested calls join the outer transaction in a savepoint,
        so a nested change that fails undoes only itself (its in-memory undo runs, its
        work for after the commit is dropped). That work runs once the outermost write
        has ended and the lock is released, so no writer waits on it."""
        callbacks: list[Callable[[], None]] = []
        try:
            with self.lock:
                self._depth += 1
                marks = len(self._after), len(self._undo)
                failed = True
                try:
                    with self.db.atomic():
                        if self._depth == 1 and self.fence is not None:
                            self.fence()
                        yield
                    failed = False
                finally:
                    self._depth -= 1
                    if failed:
                        self._unwind(*marks)
                    if self._depth == 0:
                        callbacks = [callback for callback, _ in self._after]
                        self._after, self._undo = [], []
        finally:
            for callback in callbacks:
                _run_after(callback)

    def _unwind(self, after: int, undo: int) -> None:
        """A write rolled back: undo its in-memory changes (latest first) and drop the
        work it queued for after a commit."""
        undone, self._undo = self._undo[undo:], self._undo[:undo]
        for callback in reversed(undone):
            _run_after(callback)
        self._after[after:] = [entry for entry in self._after[after:] if not entry[1]]

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run when the outermost write ends (after commit or rollback): for caches to
        forget what they hold either way. Work a change sets off goes to `on_commit`."""
        self._after.append((callback, False))

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run when the outermost write ends, only if this change was committed."""
        self._after.append((callback, True))

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Run when this write is rolled back (in-memory state to forget), under the lock."""
        self._undo.append(callback)


def cached(lookup: Callable[[int], bytes | None],
           oids: Sequence[int]) -> tuple[dict[int, bytes], list[int]]:
    """The texts a cache holds for these ids, and the ids it lacks (to read and escape)."""
    found: dict[int, bytes] = {}
    missing: list[int] = []
    for oid in oids:
        text = lookup(oid)
        if text is None:
            missing.append(oid)
        else:
            found[oid] = text
    return found, missing


def _run_after(callback: Callable[[], None]) -> None:
    """Work after the outcome is decided must not change it: a committed change is
    reported as done (and the callbacks after it still run), so an error reply
    always means that nothing was committed."""
    try:
        callback()
    except Exception:  # noqa: BLE001 - logged; the commit (or rollback) stands
        log.exception("work after a database change failed")


class Pool(Generic[M]):
    """Repository of one object type."""

    def __init__(self, store: Store, model: type[M], kind: str, render: Renderer) -> None:
        self.store = store
        self.model = model
        self.kind = kind            # "virtual machine", "host", ... for messages
        self.render = render        # obj -> (body, pool_body)
        # SHORT texts of every object (listings); FULL ones of the most recently read.
        self._full: OrderedDict[int, bytes] = OrderedDict()
        self._texts: tuple[dict[int, bytes], dict[int, bytes]] = (self._full, {})
        self._lru_lock = threading.Lock()
        self._generation = 0
        self.sql = Statements(model, store.db)
        self._last_oid: int | None = None  # PoolControl, read once, written on each allocate

    # -- writing ------------------------------------------------------------
    def _changed(self, oid: int) -> None:
        def forget() -> None:
            with self._lru_lock:
                self._generation += 1
                for texts in self._texts:
                    texts.pop(oid, None)
        self.store.after_commit(forget)

    def next_oid(self) -> int:
        """Reserve the next id; call inside `store.write()`."""
        name = self.model._meta.table_name
        if self._last_oid is None:
            control = PoolControl.get_or_none(PoolControl.pool == name)
            if control is None:
                top = self.model.select(pw.fn.MAX(self.model.oid)).scalar()
                control = PoolControl.create(pool=name, last_oid=-1 if top is None else top)
            self._last_oid = control.last_oid
        oid = self._last_oid + 1
        PoolControl.update(last_oid=oid).where(PoolControl.pool == name).execute()
        self._last_oid = oid
        self.store.after_rollback(lambda: setattr(self, "_last_oid", None))
        return oid

    def allocate(self, obj: M, oid: int | None = None) -> M:
        """Insert a new object; its id comes from the pool unless forced."""
        with self.store.write():
            obj.oid = self.next_oid() if oid is None else oid
            obj.body, obj.pool_body = self.render(obj)
            self.sql.create(obj)
            self._changed(obj.oid)
        return obj

    def save(self, obj: M, lazy: bool = False) -> None:
        """Store the object with its XML re-rendered, or (lazy) rendered on next read.

        Lazy saves suit objects that change in bursts and render slowly, such
        as a network whose leases change with every VM allocated. Only changed
        columns are written; when none changed, nothing is (and cached texts stay).
        """
        with self.store.write():
            obj.body, obj.pool_body = ("", "") if lazy else self.render(obj)
            if self.sql.save(obj):
                self._changed(obj.oid)
                self.store.after_rollback(lambda: self.sql.forget(obj))

    @contextmanager
    def modify(self, oid: int, lazy: bool = False) -> Iterator[M]:
        """`with pool.modify(oid) as obj:` loads, yields and saves the object in
        one write, so no other writer's change can fall between the read and the
        save; an exception in the block saves nothing and rolls the write back."""
        with self.store.write():
            obj = self.get(oid)
            yield obj
            self.save(obj, lazy)

    def drop(self, obj: M) -> None:
        with self.store.write():
            obj.delete_instance()
            self._changed(obj.oid)

    def _fill(self, oid: int) -> tuple[str, str]:
        """Render and store the XML of a lazily saved object."""
        if self.store.read_only:
            return self.render(self.get(oid))
        with self.store.write():
            obj = self.get(oid)
            obj.body, obj.pool_body = self.render(obj)
            self.model.update(body=obj.body, pool_body=obj.pool_body).where(
                self.model.oid == oid).execute()
        return obj.body, obj.pool_body

    # -- reading objects ----------------------------------------------------
    def get(self, oid: int) -> M:
        obj = self.sql.find(oid)
        if obj is None:
            raise NoExistsError(f"Error getting {self.kind} [{oid}].")
        return obj

    def find(self, oid: int) -> M | None:
        return self.sql.find(oid)

    def reread(self, obj: M) -> M | None:
        """The object as stored now, `obj` itself if unchanged since it was loaded; inside
        a write, before changing it (see `Statements.reread`)."""
        return self.sql.reread(obj)

    def peek(self, oid: int, *columns: pw.Field) -> M:
        """Only some columns: enough to check permissions without parsing templates."""
        obj = self.model.select(self.model.oid, *columns).where(self.model.oid == oid).first()
        if obj is None:
            raise NoExistsError(f"Error getting {self.kind} [{oid}].")
        return obj

    def get_by_name(self, name: str) -> M | None:
        query = self.model.select(*self.sql.fields).where(self.model.name == name).limit(1)
        found = self.sql.rows(query)
        return found[0] if found else None

    def select(self, where: pw.Expression | None = None,
               known: dict[int, M] | None = None) -> list[M]:
        """The matching objects; those of `known` (by id) whose row has not changed since
        they were loaded or saved are reused, not parsed again."""
        query = self.model.select(*self.sql.fields)
        if where is not None:
            query = query.where(where)
        return self.sql.rows(query.order_by(self.model.oid), known)

    def each(self, where: pw.Expression, *columns: pw.Field) -> Iterator[M]:
        """The matching objects (only `columns`, with oid first, when given) one by one.

        A row that cannot be read at all (a corrupt or oversized document) is logged
        and skipped, so one bad object never stops a scan made for everyone: the
        scheduler's cycle, the capacity check, the start-up repairs.
        """
        fields = list(columns) or self.sql.fields
        query = self.model.select(*fields).where(where).order_by(self.model.oid)
        for row in self.store.db.execute(query).fetchall():
            try:
                obj = (self.model(**{f.name: f.python_value(v) for f, v in zip(fields, row)})
                       if columns else self.sql.build(row))
            except Exception:  # noqa: BLE001 - skipped and logged, never fatal to the scan
                oid = row[fields.index(self.model.oid)]
                log.error("%s [%s] skipped: its row cannot be read", self.kind, oid, exc_info=True)
                continue
            yield obj

    # -- reading documents --------------------------------------------------
    def ids(self, where: pw.Expression | None = None, limit: int = 0, offset: int = 0) -> list[int]:
        query = self.model.select(self.model.oid)
        if where is not None:
            query = query.where(where)
        query = query.order_by(self.model.oid)
        if limit:
            query = query.limit(limit).offset(offset)
        # A raw cursor: peewee's per-row conversion costs more than the query here.
        return [row[0] for row in self.store.db.execute(query).fetchall()]

    def _documents(self, oids: Sequence[int], which: int) -> dict[int, str]:
        column = self.model.body if which == FULL else self.model.pool_body
        found: dict[int, str] = {}
        for start in range(0, len(oids), _CHUNK):
            for oid, xml in self.sql.column(column, oids[start:start + _CHUNK]):
                found[oid] = xml or self._fill(oid)[which]
        return found

    def texts(self, oids: Sequence[int], which: int = SHORT) -> list[bytes]:
        """The documents of these objects as escaped XML text (UTF-8), in the given order."""
        cache = self._texts[which]
        found, missing = cached(cache.get, oids)
        if missing:
            generation = self._generation
            fetched = {oid: esc(xml).encode() for oid, xml in self._documents(missing, which).items()}
            if generation == self._generation and not self.store.read_only and (
                    which == SHORT or len(oids) <= FULL_CACHE):
                cache.update(fetched)
            found.update(fetched)
        if which == FULL and len(oids) <= FULL_CACHE:
            self._trim(found)  # a bulk read (infoextended) must not flush the hot set
        return [found[oid] for oid in oids if oid in found]

    def _trim(self, used: dict[int, bytes]) -> None:
        """Keep the full documents most recently read, up to FULL_CACHE."""
        with self._lru_lock:
            for oid in used:
                if oid in self._full:
                    self._full.move_to_end(oid)
            while len(self._full) > FULL_CACHE:
                self._full.popitem(last=False)

    def text(self, oid: int) -> bytes:
        """One `*.info` document as escaped XML text."""
        found = self.texts([oid], FULL)
        if not found:
            raise NoExistsError(f"Error getting {self.kind} [{oid}].")
        return found[0]
