"""Targets, verdicts, and the two renderings of one table: the console and RESULTS.md.

A figure means little without the machine it was taken on, so RESULTS.md
carries the CPU, cores, RAM and Python next to the table.
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Target:
    """A figure from the issue; `full_pool_only` ones depend on the 10,000-VM pool."""

    floor: float
    aim: float | None
    unit: str
    higher_is_better: bool
    full_pool_only: bool
    source: str


VM_INFO = Target(1200, 2400, "req/s", True, False, "issue target for one.vm.info")
INFO_VS_NOOP = Target(60, None, "%", True, False,
                      "one.vm.info must keep at least this share of the no-op rate")
POOL_LISTING = Target(45, 22, "ms", False, True,
                      "OpenNebula's oned: one.vmpool.info of 10,000 VMs (7.7 MB) in 45 ms")
POOL_PAGE = Target(6.7, 4, "ms", False, True, "issue target for a page of 2,000 VMs")
TARGETS = {"one.vm.info rate": VM_INFO, "one.vm.info / no-op": INFO_VS_NOOP,
           "one.vmpool.info, whole pool": POOL_LISTING, "one.vmpool.info, page of 2,000": POOL_PAGE}
HEADER = ("Metric", "Measured", "Floor", "Aim", "Verdict")


@dataclass
class Row:
    metric: str
    value: float
    unit: str
    target: Target | None = None


def number(value: float, unit: str) -> str:
    """Three significant figures or so: enough for figures that vary by a few percent."""
    decimals = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{decimals}f} {unit}"


def verdict(row: Row, judged: bool) -> str:
    target = row.target
    if target is None:
        return "info"
    if target.full_pool_only and not judged:
        return "n/a (quick run)"

    def meets(limit: float) -> bool:
        return row.value >= limit if target.higher_is_better else row.value <= limit

    if target.aim is not None and meets(target.aim):
        return "meets aim"
    return "meets floor" if meets(target.floor) else "BELOW FLOOR"


def cells(row: Row, judged: bool) -> tuple[str, ...]:
    target = row.target
    floor = number(target.floor, target.unit) if target else ""
    aim = number(target.aim, target.unit) if target and target.aim is not None else ""
    return row.metric, number(row.value, row.unit), floor, aim, verdict(row, judged)


def print_table(rows: list[Row], judged: bool, title: str) -> None:
    table = Table(*HEADER, title=title)
    for row in rows:
        table.add_row(*cells(row, judged))
    console = Console()
    if not console.is_terminal:  # piped or under make: do not squeeze to rich's 80 columns
        console.width = max(console.width, 120)
    console.print(table)


def _markdown(lines: list[tuple[str, ...]]) -> str:
    head, *body = lines
    rule = tuple("---" for _ in head)
    return "\n".join("| " + " | ".join(line) + " |" for line in (head, rule, *body))


def _proc_field(path: str, key: str) -> str:
    """`key: value` from a /proc file; empty where /proc does not say."""
    try:
        found = re.search(rf"^{key}\s*:\s*(.+)$", Path(path).read_text(), re.MULTILINE)
    except OSError:
        return ""
    return found.group(1).strip() if found else ""


def machine() -> list[tuple[str, str]]:
    memory_kb = (_proc_field("/proc/meminfo", "MemTotal").split() or ["0"])[0]
    return [
        ("CPU", _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"),
        ("Cores", str(os.cpu_count())),
        ("RAM", f"{int(memory_kb) / 1024 ** 2:.1f} GiB"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Kernel", f"{platform.system()} {platform.release()}"),
    ]


def revision() -> str:
    """The commit measured, flagged when the server's code differs from it."""
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=False,
                                cwd=Path(__file__).resolve().parent)
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "../one")
    return f"{commit} with uncommitted changes to one/" if dirty else commit


def _references() -> str:
    lines = []
    for metric, target in TARGETS.items():
        aim = f", aim {number(target.aim, target.unit)}" if target.aim is not None else ""
        lines.append(f"- {metric}: floor {number(target.floor, target.unit)}{aim} ({target.source})")
    return "\n".join(lines)


def write_results(path: Path, rows: list[Row], judged: bool, setup: str) -> None:
    """Rewrite RESULTS.md whole: it records one run, not a history."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        "# Benchmark results",
        f"Generated by `python -m bench` on {date}, code at {revision()}.\n\n{setup}",
        "## Machine\n\n" + _markdown([("", ""), *machine()]),
        "## Results\n\n" + _markdown([HEADER, *(cells(row, judged) for row in rows)]),
        "## Reference figures\n\nFloors must be met; aims are where the server should get to.\n\n"
        + _references(),
    ]
    path.write_text("\n\n".join(sections) + "\n")
