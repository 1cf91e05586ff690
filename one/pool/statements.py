"""The SQL of one model, written once: on hot paths (every life-cycle step,
every monitoring update) peewee's query builder costs more than SQLite itself,
so pools run these precompiled statements on a raw cursor.

An object built here remembers the column values it was loaded with, and a
save writes only the columns whose value differs from them: a writer never
puts back a column it did not change (someone else's password, a VM's state),
and a save that changes nothing costs no write at all.
"""
from __future__ import annotations

from typing import Any, Generic, Sequence, TypeVar, cast

import peewee as pw

M = TypeVar("M", bound=pw.Model)
_STORED = "_stored"  # attribute of a loaded object: its stored values, as `others`


class Statements(Generic[M]):
    def __init__(self, model: type[M], db: pw.Database) -> None:
        meta = model._meta
        self.model = model
        self.fields: list[pw.Field] = list(meta.sorted_fields)
        self.pk = cast(pw.Field, meta.primary_key)  # False only for models without one
        self.others = [f for f in self.fields if f is not self.pk]
        self.db = db
        quote, mark = (lambda name: f'{db.quote[0]}{name}{db.quote[1]}'), db.param
        table, key = quote(meta.table_name), quote(self.pk.column_name)
        self._quote, self._table, self._key = quote, table, key
        columns = ", ".join(quote(f.column_name) for f in self.fields)
        self.select = f"SELECT {columns} FROM {table} WHERE {key} = {mark}"
        self._assign = [f"{quote(f.column_name)} = {mark}" for f in self.others]
        self._update_head, self._update_tail = f"UPDATE {table} SET ", f" WHERE {key} = {mark}"
        self._updates: dict[tuple[int, ...], str] = {}  # changed columns -> statement
        self._pk_at = self.fields.index(self.pk)
        self.insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * len(self.fields))})"

    def find(self, key: Any) -> M | None:
        row = self.db.execute_sql(self.select, (key,)).fetchone()
        return None if row is None else self.build(row)

    def reread(self, obj: M) -> M | None:
        """`obj` as stored now (None once deleted): `obj` itself when its row is as it was
        loaded or last saved, so a writer that re-reads many objects parses only the
        ones someone else changed meanwhile."""
        row = self.db.execute_sql(self.select, (getattr(obj, self.pk.name),)).fetchone()
        return None if row is None else self.reuse(row, obj)

    def reuse(self, row: Sequence[Any], obj: M | None) -> M:
        """The object of `row`: `obj` (loaded earlier) if the row is still as `obj` was
        loaded or saved, else built from the row."""
        at = self._pk_at
        if obj is not None and getattr(obj, _STORED, None) == tuple(row[:at]) + tuple(row[at + 1:]):
            return obj
        return self.build(row)

    def build(self, row: Sequence[Any]) -> M:
        obj = self.model(**{f.name: f.python_value(value) for f, value in zip(self.fields, row)})
        obj._dirty.clear()  # type: ignore[attr-defined]  # peewee's private set, not in its stubs
        at = self._pk_at
        setattr(obj, _STORED, tuple(row[:at]) + tuple(row[at + 1:]))
        return obj

    def _values(self, obj: M, fields: Sequence[pw.Field]) -> list[Any]:
        return [f.db_value(getattr(obj, f.name)) for f in fields]

    def _statement(self, changed: tuple[int, ...]) -> str:
        sql = self._updates.get(changed)
        if sql is None:
            assign = ", ".join(self._assign[i] for i in changed)
            sql = self._updates[changed] = f"{self._update_head}{assign}{self._update_tail}"
        return sql

    def save(self, obj: M) -> bool:
        """Write the columns that changed since the object was loaded (all of them
        for an object not built here); False when there was nothing to write."""
        values = self._values(obj, self.others)
        stored = getattr(obj, _STORED, None)
        if stored is None:
            changed = tuple(range(len(values)))
        else:
            changed = tuple(i for i, (new, old) in enumerate(zip(values, stored)) if new != old)
            if not changed:
                return False
        self.db.execute_sql(self._statement(changed),
                            [values[i] for i in changed] + [getattr(obj, self.pk.name)])
        setattr(obj, _STORED, tuple(values))
        return True

    def stored(self, obj: M, field: pw.Field) -> Any:
        """The value `field` had in the database when `obj` was loaded or last saved, as
        stored; None for an object never loaded nor saved."""
        values = getattr(obj, _STORED, None)
        if values is None:
            return None
        return values[next(i for i, f in enumerate(self.others) if f is field)]

    def forget(self, obj: M) -> None:
        """The stored values are unknown again (the write that set them rolled back)."""
        setattr(obj, _STORED, None)

    def create(self, obj: M) -> None:
        values = self._values(obj, self.fields)
        self.db.execute_sql(self.insert, values)
        at = self._pk_at
        setattr(obj, _STORED, tuple(values[:at] + values[at + 1:]))

    def column(self, field: pw.Field, keys: Sequence[Any]) -> list[tuple[Any, Any]]:
        """(key, stored value of `field`) of the rows with these keys (at most 999 at a
        time for SQLite): building a query of hundreds of parameters costs more than it."""
        marks = ", ".join([self.db.param] * len(keys))
        sql = (f"SELECT {self._key}, {self._quote(field.column_name)} FROM {self._table} "
               f"WHERE {self._key} IN ({marks})")
        return list(self.db.execute_sql(sql, list(keys)).fetchall())

    def rows(self, query: pw.SelectQuery, known: dict[Any, M] | None = None) -> list[M]:
        """Objects of a query that selects every field, built as `find` builds them, or
        taken from `known` (by key) when their row has not changed since."""
        if not known:
            return [self.build(row) for row in self.db.execute(query).fetchall()]
        at = self._pk_at
        return [self.reuse(row, known.get(row[at])) for row in self.db.execute(query).fetchall()]
