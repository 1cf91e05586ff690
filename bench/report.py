"""Targets, verdicts, and the two renderings of each issue's table: the console and RESULTS.md.

A figure means little without the machine it was taken on, so RESULTS.md
carries the CPU, cores, RAM and Python next to the tables.
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Target:
    """A figure from an issue; `full_pool_only` ones depend on the full pool (10,000 VMs)."""

    name: str
    floor: float
    aim: float | None
    unit: str
    higher_is_better: bool
    full_pool_only: bool
    source: str


VM_INFO = Target("one.vm.info rate", 1200, 2400, "req/s", True, False,
                 "issue target for one.vm.info")
INFO_VS_NOOP = Target("one.vm.info / no-op", 60, None, "%", True, False,
                      "one.vm.info must keep at least this share of the no-op rate")
POOL_LISTING = Target("one.vmpool.info, whole pool", 45, 22, "ms", False, True,
                      "OpenNebula's oned: one.vmpool.info of 10,000 VMs (7.7 MB) in 45 ms")
POOL_PAGE = Target("one.vmpool.info, page of 2,000", 6.7, 4, "ms", False, True,
                   "issue target for a page of 2,000 VMs")
# Issue 3: OpenNebula 6.10's figures measured on this kind of machine.
CYCLE = Target("scheduler cycle alone, 10,000 pending VMs x 1,000 hosts", 28, 2.8, "s", False,
               False, "OpenNebula 6.10's mm_sched: 276 s")
ONED_CYCLE = Target("scheduling 10,000 pending VMs on 1,000 hosts inside oned", 28, 2.8, "s",
                    False, True, "OpenNebula 6.10's mm_sched: 276 s")
TO_RUNNING = Target("allocate -> RUNNING, one VM (median)", 500, 50, "ms", False, False,
                    "OpenNebula 6.10: 3.7 s")
BURST = Target("burst of 200 VMs, first allocate -> all RUNNING", 5, 2, "s", False, True,
               "OpenNebula 6.10: 14.6 s")
HOST_UPDATES = Target("host monitoring, 1,000 hosts", 500, 5000, "updates/s", True, True,
                      "OpenNebula 6.10's monitord: 500 host updates/s")
UPDATES_LOST = Target("host updates lost", 0, None, "updates", False, False,
                      "issue 3: every host updated in every monitoring cycle")
FRONT_END_RSS = Target("front-end RSS at 10,000 VMs and 1,000 hosts", 300, 100, "MB", False,
                       True, "OpenNebula 6.10's oned + mm_sched + monitord: 1.21 GB")
HEADER = ("Metric", "Measured", "Floor", "Aim", "Verdict")


@dataclass
class Row:
    metric: str
    value: float
    unit: str
    target: Target | None = None


@dataclass
class Section:
    """The rows of one issue, with the setup they were measured in."""

    title: str
    setup: str
    rows: list[Row]


def number(value: float, unit: str) -> str:
    """Counts as they are; others to three significant figures or so, enough for
    figures that vary by a few percent."""
    if isinstance(value, int):
        return f"{value:,} {unit}"
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


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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


def _references(rows: list[Row]) -> str:
    """Each target once, in the order its first row comes."""
    targets = list(dict.fromkeys(row.target for row in rows if row.target is not None))
    lines = []
    for target in targets:
        aim = f", aim {number(target.aim, target.unit)}" if target.aim is not None else ""
        lines.append(f"- {target.name}: floor {number(target.floor, target.unit)}{aim} "
                     f"({target.source})")
    return "\n".join(lines)


def _section(section: Section, judged: bool) -> str:
    table = _markdown([HEADER, *(cells(row, judged) for row in section.rows)])
    return (f"## {section.title}\n\n{section.setup}\n\n{table}\n\n"
            f"Reference figures (floors must be met; aims are where the server should get to):"
            f"\n\n{_references(section.rows)}")


# Sections other benchmarks (bench.kvm, bench.transfer, ...) record by hand start here.
KEPT_FROM = "\n## Issue 4"


def write_results(path: Path, sections: list[Section], judged: bool) -> None:
    """Rewrite this run's part of RESULTS.md (it records one run, not a history),
    keeping the sections the other benchmarks recorded after it."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    old = path.read_text() if path.exists() else ""
    kept = old[old.index(KEPT_FROM):].strip() if KEPT_FROM in old else ""
    parts = [
        "# Benchmark results",
        f"Generated by `python -m bench` on {date}, code at {revision()}.",
        "## Machine\n\n" + _markdown([("", ""), *machine()]),
        *(_section(section, judged) for section in sections),
        *([kept] if kept else []),
    ]
    path.write_text("\n\n".join(parts) + "\n")
