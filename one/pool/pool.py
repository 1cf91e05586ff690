"""Pools: repositories with OpenNebula's verbs over the peewee models.

A pool allocates ids (never reused), loads objects, saves them together with
their freshly rendered XML, and dumps stored XML for listings. Writers go
through `Store.write()`, which holds the one lock that serialises changes to
the database, as oned's pool mutexes do.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Generic, Iterator, TypeVar

import peewee as pw

from one.errors import NoExistsError
from one.pool.models import PoolControl, PoolObject

M = TypeVar("M", bound=PoolObject)
Renderer = Callable[[M], "tuple[str, str]"]


class Store:
    """The database and its writer lock."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self.lock = threading.RLock()

    @contextmanager
    def write(self) -> Iterator[None]:
        """One atomic change: nested calls join the outer transaction."""
        with self.lock, self.db.atomic():
            yield


class Pool(Generic[M]):
    """Repository of one object type."""

    def __init__(self, store: Store, model: type[M], kind: str, render: Renderer) -> None:
        self.store = store
        self.model = model
        self.kind = kind            # "virtual machine", "host", ... for messages
        self.render = render        # obj -> (body, pool_body)

    def next_oid(self) -> int:
        """Reserve the next id; call inside `store.write()`."""
        name = self.model._meta.table_name
        control = PoolControl.get_or_none(PoolControl.pool == name)
        if control is None:
            top = self.model.select(pw.fn.MAX(self.model.oid)).scalar()
            control = PoolControl.create(pool=name, last_oid=-1 if top is None else top)
        control.last_oid += 1
        control.save()
        return control.last_oid

    def allocate(self, obj: M, oid: int | None = None) -> M:
        """Insert a new object; its id comes from the pool unless forced."""
        with self.store.write():
            obj.oid = self.next_oid() if oid is None else oid
            obj.body, obj.pool_body = self.render(obj)
            obj.save(force_insert=True)
        return obj

    def get(self, oid: int) -> M:
        obj = self.model.get_or_none(self.model.oid == oid)
        if obj is None:
            raise NoExistsError(f"Error getting {self.kind} [{oid}].")
        return obj

    def peek(self, oid: int, *columns: pw.Field) -> M:
        """Only some columns: enough to check permissions without parsing templates."""
        obj = self.model.select(self.model.oid, *columns).where(self.model.oid == oid).first()
        if obj is None:
            raise NoExistsError(f"Error getting {self.kind} [{oid}].")
        return obj

    def get_by_name(self, name: str) -> M | None:
        return self.model.get_or_none(self.model.name == name)

    def save(self, obj: M, lazy: bool = False) -> None:
        """Store the object with its XML re-rendered, or (lazy) rendered on next read.

        Lazy saves suit objects that change in bursts and render slowly, such
        as a network whose leases change with every VM allocated.
        """
        with self.store.write():
            obj.body, obj.pool_body = ("", "") if lazy else self.render(obj)
            obj.save()

    def _fill(self, oid: int) -> tuple[str, str]:
        """Render and store the XML of a lazily saved object."""
        with self.store.write():
            obj = self.get(oid)
            obj.body, obj.pool_body = self.render(obj)
            self.model.update(body=obj.body, pool_body=obj.pool_body).where(
                self.model.oid == oid).execute()
        return obj.body, obj.pool_body

    def drop(self, obj: M) -> None:
        with self.store.write():
            obj.delete_instance()

    def body(self, oid: int) -> str:
        """The stored `*.info` document, without loading the object."""
        row = (self.model.select(self.model.body)
               .where(self.model.oid == oid).tuples().first())
        if row is None:
            raise NoExistsError(f"Error getting {self.kind} [{oid}].")
        return row[0] or self._fill(oid)[0]

    def stored_body(self, obj: M) -> str:
        """`obj.body` as peeked, rendered first if it was saved lazily."""
        return obj.body or self._fill(obj.oid)[0]

    def dump(self, where: pw.Expression | None = None, *, full: bool = False,
             limit: int = 0, offset: int = 0, desc: bool = False) -> list[str]:
        """Stored XML of the matching objects, ordered by id."""
        column = self.model.body if full else self.model.pool_body
        query = self.model.select(self.model.oid, column)
        if where is not None:
            query = query.where(where)
        query = query.order_by(self.model.oid.desc() if desc else self.model.oid)
        if limit:
            query = query.limit(limit).offset(offset)
        which = 0 if full else 1
        return [xml or self._fill(oid)[which] for oid, xml in query.tuples().iterator()]

    def select(self, where: pw.Expression | None = None) -> list[M]:
        query = self.model.select()
        if where is not None:
            query = query.where(where)
        return list(query.order_by(self.model.oid))
