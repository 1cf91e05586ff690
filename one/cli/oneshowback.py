"""oneshowback: monthly cost per VM and user (`list`), and its computation (`calculate`).

As OpenNebula's oneshowback: `calculate` asks oned to meter the history of the
months given (oneadmin's group only); `list` shows what it stored, a table per
month, here followed by each user's total for the month.
"""
from __future__ import annotations

import argparse
import sys
from itertools import groupby

from one.cli.base import Command, Context, Tool, arg
from one.cli.table import Column, label, render_table, right
from one.cli.usage import FILTER_ARGS, group_id, month, user_flag, write_csv
from one.cli.xmldoc import Element

NO_MONTH = (-1, -1)
COLUMNS = (
    right("UID", "UID"), label("USER_NAME", "UNAME", 12), right("GID", "GID"),
    label("GROUP_NAME", "GNAME", 12), right("VM_ID", "VMID"), label("VM_NAME", "VMNAME", 12),
    right("MONTH", "MONTH"), right("YEAR", "YEAR"), right("HOURS", "HOURS"),
    right("RUNNING_HOURS", lambda s: s.findtext("RHOURS") or "-"),
    right("COST", "TOTAL_COST"),
)
WINDOW_ARGS = (
    arg("-s", "--start", type=month, default=NO_MONTH, help="first month: 3/2026 or 2026-03"),
    arg("-e", "--end", type=month, default=NO_MONTH, help="last month: 3/2026 or 2026-03"),
)


def _cost(text: str | None) -> float:
    return float(text or 0)


def _by_month(ctx: Context, rows: list[Element]) -> None:
    """A table per month (the server sends them by year, month and VM), then each user's total."""
    def when(row: Element) -> tuple[str, str]:
        return row.findtext("YEAR", ""), row.findtext("MONTH", "")

    for (year, number), found in groupby(rows, key=when):
        records = list(found)
        ctx.say(f"# Showback for {number}/{year}")
        ctx.say("")
        render_table(ctx.out, COLUMNS[1:2] + COLUMNS[3:], records)
        users: dict[str, float] = {}
        for record in records:
            name = record.findtext("UNAME", "")
            users[name] = users.get(name, 0.0) + _cost(record.findtext("TOTAL_COST"))
        for name, total in users.items():
            ctx.say(f"Total for {name}: {f'{total:.6f}'.rstrip('0').rstrip('.')}")
        ctx.say("")


def _list(ctx: Context, ns: argparse.Namespace) -> None:
    def render(root: Element) -> None:
        gid = group_id(ctx, ns)
        rows = [s for s in root.iterfind("SHOWBACK") if gid is None or s.findtext("GID") == gid]
        if ns.csv:
            write_csv(COLUMNS, rows)
        else:
            _by_month(ctx, rows)

    document = ctx.call("one.vmpool.showback", user_flag(ctx, ns), *ns.start, *ns.end)
    ctx.emit(ns, document, render, "SHOWBACK")


def _calculate(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vmpool.calculateshowback", *ns.start, *ns.end)


COMMANDS = (
    Command("list", _list, "Lists the monthly costs of VMs", WINDOW_ARGS + FILTER_ARGS,
            document=True),
    Command("calculate", _calculate, "Computes the monthly costs from the history records",
            WINDOW_ARGS),
)
TOOL = Tool("oneshowback", "Shows and computes the cost of VMs, month by month.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
