"""oneacct: the HISTORY records of a period, grouped by user, with what they used.

As OpenNebula's oneacct: one table per user of the records that overlap the
period, with the VM's memory, CPU, traffic and disk; and, for pay-as-you-go,
the hours of each record inside the period and the CPU-hours and memory
MB-hours they make (what CPU_COST and MEMORY_COST are priced in).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from itertools import groupby
from typing import Callable

from one.cli.base import Command, Context, Tool, arg
from one.cli.format import size, timestamp
from one.cli.pools import HOST
from one.cli.table import Column, label, render_table, right, sized
from one.cli.usage import FILTER_ARGS, group_id, moment, user_flag, write_csv
from one.cli.xmldoc import Element
from one.states import HistoryAction

NO_LIMIT = -1


@dataclass(frozen=True)
class Period:
    start: int
    end: int

    def hours(self, record: Element) -> float:
        """Hours of the record inside the period (an open record runs until now)."""
        stime, etime = int(record.findtext("STIME", "0")), int(record.findtext("ETIME", "0"))
        finish = etime or int(time.time())
        if self.end != NO_LIMIT:
            finish = min(finish, self.end)
        begin = max(stime, self.start) if self.start != NO_LIMIT else stime
        return max(finish - begin, 0) / 3600.0


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _action(record: Element) -> str:
    number = int(record.findtext("ACTION", "0"))
    known = number in HistoryAction._value2member_map_
    return HistoryAction(number).name.lower().replace("_", "-") if known else str(number)


def _disk(record: Element) -> float:
    """MB of the VM's disks and their snapshots."""
    return sum(float(d.findtext(key) or 0) for d in record.iterfind("VM/TEMPLATE/DISK")
               for key in ("SIZE", "DISK_SNAPSHOT_TOTAL_SIZE"))


def _traffic(name: str) -> Column:
    def value(record: Element) -> str:
        octets = record.findtext(f"VM/MONITORING/{name}", "")
        return size(int(octets) // 1024 if octets.isdigit() else 0)
    return right(name, value, 6)


def _metrics(period: Period) -> dict[str, Callable[[Element], float]]:
    """HOURS inside the period, and the CPU-hours and memory MB-hours they make."""
    def of(path: str) -> Callable[[Element], float]:
        return lambda r: float(r.findtext(path) or 0) * period.hours(r)
    return {"HOURS": period.hours, "CPU_HOURS": of("VM/TEMPLATE/CPU"),
            "MEM_HOURS": of("VM/TEMPLATE/MEMORY")}


def _shown(metric: Callable[[Element], float]) -> Callable[[Element], str]:
    return lambda record: _number(metric(record))


def _columns(period: Period) -> tuple[Column, ...]:
    """Every column (CSV); the tables leave out UID (in their heading) and SEQ."""
    metered = tuple(right(name, _shown(metric), len(name))
                    for name, metric in _metrics(period).items())
    return (
        right("UID", "UID", 4), right("VID", "OID", 4), right("SEQ", "SEQ", 3),
        label("HOSTNAME", "HOSTNAME", 15), Column("ACTION", _action, 14),
        right("START_TIME", lambda r: timestamp(r.findtext("STIME", "0")), 14),
        right("END_TIME", lambda r: timestamp(r.findtext("ETIME", "0")), 14),
        right("MEMORY", sized("VM/TEMPLATE/MEMORY", "M"), 6),
        right("CPU", "VM/TEMPLATE/CPU", 3), _traffic("NETRX"), _traffic("NETTX"),
        right("DISK", lambda r: size(_disk(r) * 1024), 6), *metered,
    )


def _selected(ctx: Context, ns: argparse.Namespace, root: Element) -> list[Element]:
    """The records -g and -H keep (the server filtered by user and time)."""
    gid = group_id(ctx, ns)
    hid = None if ns.host is None else str(ctx.one(HOST, ns.host))
    return [r for r in root.iterfind("HISTORY")
            if (gid is None or r.findtext("VM/GID") == gid)
            and (hid is None or r.findtext("HID") == hid)]


def _owner(record: Element) -> int:
    return int(record.findtext("VM/UID") or record.findtext("UID") or 0)


def _by_user(ctx: Context, period: Period, rows: list[Element]) -> None:
    """A table per user, then the user's totals."""
    columns = tuple(c for c in _columns(period) if c.name not in ("UID", "SEQ"))
    metrics = _metrics(period)
    for uid, records in groupby(sorted(rows, key=_owner), key=_owner):
        group = list(records)
        ctx.say(f"# User {uid}")
        ctx.say("")
        render_table(ctx.out, columns, group)
        total = {name: _number(sum(f(r) for r in group)) for name, f in metrics.items()}
        vms = len({r.findtext("OID") for r in group})
        ctx.say(f"Total: {vms} VM{'s' * (vms != 1)}, {total['HOURS']} hours, "
                f"{total['CPU_HOURS']} CPU-hours, {total['MEM_HOURS']} memory MB-hours")
        ctx.say("")


def _report(ctx: Context, ns: argparse.Namespace) -> None:
    period = Period(ns.start, ns.end)

    def render(root: Element) -> None:
        rows = _selected(ctx, ns, root)
        if ns.csv:
            write_csv(_columns(period), rows)
        else:
            _by_user(ctx, period, rows)

    document = ctx.call("one.vmpool.accounting", user_flag(ctx, ns), ns.start, ns.end)
    ctx.emit(ns, document, render, "HISTORY")


ARGS = (
    arg("-s", "--start", type=moment, default=NO_LIMIT, help="first moment of the period"),
    arg("-e", "--end", type=moment, default=NO_LIMIT, help="end of the period (excluded)"),
    arg("-H", "--host", help="only records on this host (name or id)"),
    *FILTER_ARGS,
)
TOOL = Tool("oneacct", "Shows the accounting records (HISTORY) of a period, by user.",
            (Command("records", _report, "Records of the period", ARGS, document=True),))


def main(argv: list[str] | None = None) -> int:
    """`oneacct [options]`: the tool has one command, so its name is not typed."""
    return TOOL.main(["records", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
