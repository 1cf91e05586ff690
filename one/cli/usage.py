"""What oneacct and oneshowback share: their time options, the user and group
filters, and CSV output of a table's columns."""
from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from datetime import datetime
from typing import Iterable

from one.cli.base import Context, arg
from one.cli.pools import GROUP, USER
from one.cli.table import Column
from one.cli.xmldoc import Element

_MONTH = re.compile(r"(?:(\d{1,2})/(\d{4})|(\d{4})-(\d{1,2}))")
ALL = -2


def moment(text: str) -> int:
    """-s/-e of oneacct: `2026-03-05`, `2026-03-05 14:30` (local time) or epoch seconds."""
    if text.isdigit():
        return int(text)
    try:
        return int(time.mktime(datetime.fromisoformat(text).timetuple()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-03-05 or '2026-03-05 14:30', not '{text}'") from None


def month(text: str) -> tuple[int, int]:
    """-s/-e of oneshowback: `3/2026` or `2026-03` as (month, year)."""
    found = _MONTH.fullmatch(text)
    if not found:
        raise argparse.ArgumentTypeError(f"expected a month like 3/2026 or 2026-03, not '{text}'")
    first, year, iso_year, iso_month = found.groups()
    return (int(first), int(year)) if first else (int(iso_month), int(iso_year))


FILTER_ARGS = (
    arg("-u", "--userfilter", metavar="USER", help="only this user's VMs (name or id)"),
    arg("-g", "--group", help="only VMs of this group (name or id)"),
    arg("--csv", action="store_true", help="comma-separated values, one line per row"),
)


def user_flag(ctx: Context, ns: argparse.Namespace) -> int:
    """The filter flag of the request: one user, or everything the caller may see."""
    return ALL if ns.userfilter is None else ctx.one(USER, ns.userfilter)


def group_id(ctx: Context, ns: argparse.Namespace) -> str | None:
    """The group id (as text) rows must show for -g; None without -g."""
    return None if ns.group is None else str(ctx.one(GROUP, ns.group))


def write_csv(columns: Iterable[Column], rows: Iterable[Element]) -> None:
    columns = tuple(columns)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(c.name for c in columns)
    for row in rows:
        out.writerow(c.value(row) for c in columns)
