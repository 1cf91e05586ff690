"""`python -m bench.campaign [--seed N] [--quick] [--only NAME] [--results FILE]`:
issue 10's reliability campaign at full length, a table of violations per invariant,
and its section of RESULTS.md.

Full: 100 VM life cycles with 20 kill -9 of oned, 50 concurrent clients for 10
rounds, 200 fuzzed calls per method. The seed is random unless given, and printed,
so a run that finds something can be replayed.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.campaign import crash, crowd, fuzz
from bench.campaign.findings import Findings
from bench.report import progress, revision

RESULTS = Path(__file__).resolve().parent.parent / "RESULTS.md"
HEADING = "## Issue 10: reliability campaign (`python -m bench.campaign`)"
Campaign = Callable[[int, Path], Findings]
FULL: dict[str, Campaign] = {
    "crash": lambda seed, var: crash.run(crash.CrashPlan(
        seed, vms=100, kills=20, parallel=8, wall=900.0, settle=60.0), var),
    "crowd": lambda seed, var: crowd.run(crowd.CrowdPlan(
        seed, clients=50, appends=20, rounds=10, wall=120.0), var),
    "fuzz": lambda seed, var: fuzz.run(fuzz.FuzzPlan(seed, examples=200, wait=30.0), var),
}
QUICK: dict[str, Campaign] = {
    "crash": lambda seed, var: crash.run(crash.CrashPlan(seed, vms=20, kills=4), var),
    "crowd": lambda seed, var: crowd.run(crowd.CrowdPlan(seed), var),
    "fuzz": lambda seed, var: fuzz.run(fuzz.FuzzPlan(seed, examples=20), var),
}


def table(results: list[Findings]) -> Table:
    grid = Table("Campaign", "Invariant", "Violations", "Verdict",
                 title="Reliability campaign (issue 10)")
    for findings in results:
        for check, count in findings.rows():
            grid.add_row(findings.title, check, str(count), "holds" if count == 0 else "FAILS")
    return grid


def markdown(results: list[Findings], seed: int) -> str:
    when = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}"  # noqa: UP017 - Python 3.10
    lines = [HEADING, "", f"Run on {when}, code at {revision()}, seed {seed}.", "",
             "| Campaign | Invariant | Violations |", "| --- | --- | --- |"]
    lines += [f"| {f.title} | {check} | {count} |" for f in results for check, count in f.rows()]
    figures = [f"{f.title}: " + ", ".join(f"{name} {value:g}" for name, value in f.info.items())
               for f in results]
    lines += ["", "Figures: " + "; ".join(figures) + "."]
    return "\n".join(lines)


def record(path: Path, section: str) -> None:
    """Replace this campaign's section of RESULTS.md, or add it at the end."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if HEADING in text:
        start = text.index(HEADING)
        end = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + ("\n" + text[end:] if end >= 0 else "\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__)
    parser.add_argument("--seed", type=int, help="replay a run (default: a random seed)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run; RESULTS.md left alone unless --results is given")
    parser.add_argument("--only", choices=sorted(FULL), action="append",
                        help="run only this campaign (repeatable)")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help=f"where to record the table (default: {RESULTS} on a full run)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    campaigns = QUICK if args.quick else FULL
    results = []
    for name in args.only or list(campaigns):
        progress(f"{name} campaign, seed {seed}")
        with tempfile.TemporaryDirectory(prefix=f"one-campaign-{name}-") as var:
            results.append(campaigns[name](seed, Path(var)))
        print(results[-1].report(), flush=True)
    Console(width=120).print(table(results))
    path = args.results or (None if args.quick or args.only else RESULTS)
    if path is not None:
        record(path, markdown(results, seed))
        progress(f"wrote {path}")
    return 0 if all(findings.clean for findings in results) else 1


if __name__ == "__main__":
    sys.exit(main())
