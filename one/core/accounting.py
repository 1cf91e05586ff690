"""Accounting and showback: the HISTORY records of a period, and monthly costs.

`records` and `showback` hand back stored, escaped text (the history and
showback tables), filtered as oned filters them: by the VM's current owner,
group and permissions (OpenNebula's filter flag) and by time.
`calculate` meters the records of a window (see one.core.showback) and stores
one SHOWBACK row per VM and month, replacing what an earlier run stored.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import peewee as pw

from one.config import Config
from one.core.showback import (Prices, VmCost, check_month, entries, meter, month_start,
                                slots, year_month)
from one.core.auth import Session
from one.core.authz import pool_filter, require_admin
from one.core.lifecycle import records as clock
from one.errors import ApiError, OneError
from one.pool.models import HistoryRow, ShowbackRow, Vm
from one.pool.pools import Pools
from one.pool.render.common import esc

_COSTS = ("CPU_COST", "MEMORY_COST", "DISK_COST")
MMAP_SIZE = 1 << 30  # bytes of the database a large read may map


def prices(config: Config) -> Prices:
    """DEFAULT_COST = [ CPU_COST, MEMORY_COST, DISK_COST ] and SHOWBACK_ONLY_RUNNING of
    oned.conf; a cost that is not a number stops oned, as any bad setting does."""
    default = config.template.vector("DEFAULT_COST") or {}
    try:
        cpu, memory, disk = (float(default.get(k) or 0) for k in _COSTS)
    except ValueError:
        raise OneError(f"Configuration: DEFAULT_COST = {default} holds a cost that is not "
                       f"a number") from None
    running = str(config.template.get("SHOWBACK_ONLY_RUNNING") or "no").lower() in ("yes", "true")
    return Prices(cpu, memory, disk, running)


def _scope(column: pw.Field, session: Session, flag: int) -> pw.Expression | None:
    """Rows of the VMs the filter flag selects (the VM's current owner, as oned joins)."""
    if flag < -4:
        raise ApiError("Incorrect filter_flag")
    where = pool_filter(Vm, session, flag)
    return None if where is None else column.in_(Vm.select(Vm.oid).where(where))


def _where(query: pw.SelectQuery, *parts: pw.Expression | None) -> pw.SelectQuery:
    """The query with each condition given (None: no condition) ANDed in."""
    for part in parts:
        if part is not None:
            query = query.where(part)
    return query


def _months(first: tuple[int, int], last: tuple[int, int]) -> tuple[bool, bool]:
    """Which bounds are given; a window that ends before it starts is refused."""
    has_first = check_month(*first, "first")
    has_last = check_month(*last, "last")
    if has_first and has_last and (first[1], first[0]) > (last[1], last[0]):
        raise ApiError(f"Wrong window: {first[0]}/{first[1]} is after {last[0]}/{last[1]}.")
    return has_first, has_last


class Accounting:
    def __init__(self, pools: Pools, config: Config) -> None:
        self.pools = pools
        self.prices = prices(config)
        self._insert = _insert_statement(pools.store.db)

    def _texts(self, query: pw.SelectQuery) -> list[bytes]:
        db = self.pools.store.db
        with _mapped(db):
            return [bytes(row[0]) for row in db.execute(query).fetchall()]

    def records(self, session: Session, flag: int, start: int, end: int) -> list[bytes]:
        """The escaped HISTORY elements of records overlapping [start, end) (-1: open)."""
        h = HistoryRow
        since = ((h.etime > start) | (h.etime == 0)) if start != -1 else None
        until = (h.stime < end) if end != -1 else None
        query = _where(h.select(h.body), _scope(h.vid, session, flag), since, until)
        return self._texts(query.order_by(h.vid, h.seq))

    def showback(self, session: Session, flag: int, first_month: int, first_year: int,
                 last_month: int, last_year: int) -> list[bytes]:
        """The escaped SHOWBACK elements stored for the months of the window."""
        s = ShowbackRow
        has_first, has_last = _months((first_month, first_year), (last_month, last_year))
        after = ((s.year > first_year) | ((s.year == first_year) & (s.month >= first_month))
                 if has_first else None)
        before = ((s.year < last_year) | ((s.year == last_year) & (s.month <= last_month))
                  if has_last else None)
        query = _where(s.select(s.body), _scope(s.vmid, session, flag), after, before)
        return self._texts(query.order_by(s.year, s.month, s.vmid))

    def calculate(self, session: Session, first_month: int, first_year: int, last_month: int,
                  last_year: int) -> None:
        """Meter the window's records and store each VM's cost per month."""
        require_admin(session, "CALCULATE SHOWBACK")
        has_first, has_last = _months((first_month, first_year), (last_month, last_year))
        now = clock.now()
        h = HistoryRow
        if has_first:
            start = month_start(first_year, first_month)
        else:
            start = h.select(pw.fn.MIN(h.stime)).scalar() or now
        end = min(now, month_start(last_year, last_month + 1)) if has_last else now
        window = slots(start, end)
        if not window:
            return
        query = (h.select(h.vid, h.uid, h.gid, h.stime, h.etime, h.usage)
                 .where(((h.etime > start) | (h.etime == 0)) & (h.stime < end))
                 .order_by(h.vid, h.seq))
        # A raw cursor: peewee's per-row conversion would cost more than the metering.
        found = ((vid, uid, gid, st, et, h.usage.python_value(use))
                 for vid, uid, gid, st, et, use in self.pools.store.db.execute(query))
        self._store(window, meter(found, window, self.prices))

    def _store(self, window: list[tuple[int, int]], costs: dict[int, VmCost]) -> None:
        """The window's months as metered now, replacing their earlier rows in one
        transaction (a VM that no longer costs anything in a month loses its row)."""
        found = [(vid, year, month, esc(xml).encode())
                 for vid, year, month, xml in entries(costs)]
        s, db = ShowbackRow, self.pools.store.db
        with self.pools.store.write():
            for year, month in (year_month(begin) for begin, _ in window):
                s.delete().where((s.year == year) & (s.month == month)).execute()
            db.cursor().executemany(self._insert, found)  # peewee would build 1 query a row


@contextmanager
def _mapped(db: pw.Database) -> Iterator[None]:
    """An SQLite read of up to hundreds of MB through mmap: the pages come straight from
    the file instead of through the small page cache, and are unmapped afterwards so they
    never stay in oned's resident memory."""
    if not isinstance(db, pw.SqliteDatabase):
        yield
        return
    db.execute_sql(f"PRAGMA mmap_size = {MMAP_SIZE}")
    try:
        yield
    finally:
        db.execute_sql("PRAGMA mmap_size = 0")


def _insert_statement(db: pw.Database) -> str:
    def quote(name: str) -> str:
        return f"{db.quote[0]}{name}{db.quote[1]}"
    columns = ", ".join(quote(f.column_name) for f in ShowbackRow._meta.sorted_fields)
    marks = ", ".join([db.param] * len(ShowbackRow._meta.sorted_fields))
    return f"INSERT INTO {quote(ShowbackRow._meta.table_name)} ({columns}) VALUES ({marks})"
