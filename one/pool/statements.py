"""The SQL of one model, written once: on hot paths (every life-cycle step,
every monitoring update) peewee's query builder costs more than SQLite itself,
so pools run these precompiled statements on a raw cursor.
"""
from __future__ import annotations

from typing import Any, Generic, Sequence, TypeVar

import peewee as pw

M = TypeVar("M", bound=pw.Model)


class Statements(Generic[M]):
    def __init__(self, model: type[M], db: pw.Database) -> None:
        meta = model._meta
        self.model = model
        self.fields: list[pw.Field] = list(meta.sorted_fields)
        self.pk: pw.Field = meta.primary_key
        self.others = [f for f in self.fields if f is not self.pk]
        self.db = db
        quote, mark = (lambda name: f'{db.quote[0]}{name}{db.quote[1]}'), db.param
        table, key = quote(meta.table_name), quote(self.pk.column_name)
        columns = ", ".join(quote(f.column_name) for f in self.fields)
        self.select = f"SELECT {columns} FROM {table} WHERE {key} = {mark}"
        self.update = (f"UPDATE {table} SET "
                       f"{', '.join(f'{quote(f.column_name)} = {mark}' for f in self.others)} "
                       f"WHERE {key} = {mark}")
        self.insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * len(self.fields))})"

    def find(self, key: Any) -> M | None:
        row = self.db.execute_sql(self.select, (key,)).fetchone()
        return None if row is None else self.build(row)

    def build(self, row: Sequence[Any]) -> M:
        obj = self.model(**{f.name: f.python_value(value) for f, value in zip(self.fields, row)})
        obj._dirty.clear()
        return obj

    def _values(self, obj: M, fields: Sequence[pw.Field]) -> list[Any]:
        return [f.db_value(getattr(obj, f.name)) for f in fields]

    def save(self, obj: M) -> None:
        self.db.execute_sql(self.update, self._values(obj, self.others) + [getattr(obj, self.pk.name)])

    def create(self, obj: M) -> None:
        self.db.execute_sql(self.insert, self._values(obj, self.fields))
