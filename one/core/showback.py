"""Showback arithmetic: what each VM cost in each calendar month of a window.

Follows oned's `calculate_showback`: months are the server's local calendar
months; a record counts in a month for the part of [STIME, ETIME) inside it (an
open record up to the end of the window, never past now). CPU costs CPU_COST
per CPU per hour, memory MEMORY_COST per MB per hour, disk DISK_COST per MB per
hour (DISK SIZE plus DISK_SNAPSHOT_TOTAL_SIZE); a VM without a cost uses
oned.conf's DEFAULT_COST. With SHOWBACK_ONLY_RUNNING, CPU and memory are only
charged for the running part [RSTIME, RETIME), as in oned.
"""
from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from one.errors import ApiError
from one.pool.render.common import el

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Prices:
    """DEFAULT_COST of oned.conf and SHOWBACK_ONLY_RUNNING."""

    cpu: float = 0.0
    memory: float = 0.0
    disk: float = 0.0
    only_running: bool = False


@dataclass
class Month:
    """One VM's totals in one month (oned's SBRecord)."""

    cpu: float = 0.0
    memory: float = 0.0
    disk: float = 0.0
    hours: float = 0.0
    rhours: float = 0.0


@dataclass
class VmCost:
    uid: int = -1
    gid: int = -1
    names: tuple[str, str, str] = ("", "", "")  # VM, owner, group
    months: dict[int, Month] = field(default_factory=dict)  # by the month's first second


def check_month(month: int, year: int, which: str) -> bool:
    """True when given; (-1, -1) means no limit; anything else is refused (0x1000)."""
    if month == -1 and year == -1:
        return False
    if not 1 <= month <= 12 or not 1970 <= year <= 9999:
        raise ApiError(f"Wrong {which} month/year: {month}/{year}.")
    return True


def month_start(year: int, month: int) -> int:
    """The first second of a local calendar month (month 13 is January of the next year)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return int(time.mktime((year, month, 1, 0, 0, 0, 0, 0, -1)))


def year_month(begin: int) -> tuple[int, int]:
    """(year, month) of a local moment."""
    when = time.localtime(begin)
    return when.tm_year, when.tm_mon


def slots(start: int, end: int) -> list[tuple[int, int]]:
    """[month start, next boundary) from the month holding `start` up to `end`."""
    first = time.localtime(start)
    year, month = first.tm_year, first.tm_mon
    bounds = []
    begin = month_start(year, month)
    while begin < end:
        month += 1
        bounds.append(begin)
        begin = month_start(year, month)
    return [(b, min(n, end)) for b, n in zip(bounds, bounds[1:] + [end])]


def _hours(st: int, et: int, begin: int, end: int) -> float:
    """Hours of [st, et) (et 0: still open) inside [begin, end)."""
    if st == 0 or st >= end or (et != 0 and et <= begin):
        return 0.0
    return ((min(et, end) if et else end) - max(st, begin)) / SECONDS_PER_HOUR


def _charge(totals: Month, use: Mapping[str, Any], prices: Prices, whole: float,
            running: float) -> None:
    cpu_cost, memory_cost, disk_cost = (
        p if p is not None else d
        for p, d in zip(use["costs"], (prices.cpu, prices.memory, prices.disk)))
    metered = running if prices.only_running else whole
    totals.cpu += cpu_cost * use["cpu"] * metered
    totals.memory += memory_cost * use["memory"] * metered
    totals.disk += disk_cost * use["disk"] * whole
    totals.hours += whole
    totals.rhours += running


def _touched(starts: list[int], first: int, last: int) -> range:
    """Indices of the slots [first, last) may overlap (last 0: still open)."""
    begin = max(bisect_right(starts, first) - 1, 0)
    return range(begin, bisect_left(starts, last) if last else len(starts))


def meter(rows: Iterable[tuple[int, int, int, int, int, Mapping[str, Any]]],
          window: list[tuple[int, int]], prices: Prices) -> dict[int, VmCost]:
    """Costs per VM and month from history rows (vid, uid, gid, stime, etime, usage)."""
    costs: dict[int, VmCost] = {}
    starts = [begin for begin, _ in window]
    for vid, uid, gid, st, et, use in rows:
        cost = costs.setdefault(vid, VmCost())
        cost.uid, cost.gid = uid, gid
        cost.names = (use["name"], use["uname"], use["gname"])
        rst, ret = use["rstime"], use["retime"]
        first = min(st, rst) if rst else st
        last = 0 if not et or (rst and not ret) else max(et, ret)
        for index in _touched(starts, first, last):
            begin, end = window[index]
            whole = _hours(st, et, begin, end)
            running = _hours(rst, ret, begin, end)
            if whole or running:
                _charge(cost.months.setdefault(begin, Month()), use, prices, whole, running)
    return costs


def number(value: float) -> str:
    """A cost or a number of hours: six decimals at most, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _showback_xml(vid: int, cost: VmCost, year: int, month: int, totals: Month) -> str:
    """One SHOWBACK element (showback.xsd)."""
    name, uname, gname = cost.names
    values = (("CPU_COST", totals.cpu), ("MEMORY_COST", totals.memory),
              ("DISK_COST", totals.disk), ("TOTAL_COST", totals.cpu + totals.memory + totals.disk),
              ("HOURS", totals.hours), ("RHOURS", totals.rhours))
    return (f"<SHOWBACK><VMID>{vid}</VMID>{el('VMNAME', name)}<UID>{cost.uid}</UID>"
            f"<GID>{cost.gid}</GID>{el('UNAME', uname)}{el('GNAME', gname)}"
            f"<YEAR>{year}</YEAR><MONTH>{month}</MONTH>"
            f"{''.join(f'<{k}>{number(v)}</{k}>' for k, v in values)}</SHOWBACK>")


def entries(costs: Mapping[int, VmCost]) -> Iterator[tuple[int, int, int, str]]:
    """(vid, year, month, SHOWBACK element) of every VM and month metered."""
    for vid, cost in costs.items():
        for begin, totals in cost.months.items():
            year, month = year_month(begin)
            yield vid, year, month, _showback_xml(vid, cost, year, month, totals)
