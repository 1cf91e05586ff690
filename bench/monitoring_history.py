"""`python -m bench.monitoring_history`: the monitoring methods over a day of samples.

A VM with 24 h of 30 s samples (2,880) and 1,000 hosts with 1 h of 60 s samples
(60,000) are written into oned's database with the rows the monitor writes
(one.pool.monitoring), then oned serves it and the calls are timed by a raw
keep-alive HTTP POST reading the whole reply. The database growth per VM per
day is the size a day of 30 s samples of 100 VMs adds to an SQLite file,
divided by 100; with pruning on, a VM holds at most its window of it.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.accounting import cpu_seconds
from bench.rpc import request_body
from bench.server import running_server
from bench.timing import Poster
from one.pool import monitoring as history
from one.pool.db import open_database
from one.pool.models import Host

DAY, VM_STEP, HOST_STEP = 86_400, 30, 60
START = int(time.time()) - DAY   # the day that ends now, so that oned prunes none of it
CONFIG = "VM_MONITORING_EXPIRATION_TIME = 172800\nHOST_MONITORING_EXPIRATION_TIME = 7200\n"


def _vm_day(vid: int) -> list[dict[str, object]]:
    return [history.vm_sample(vid, {"CPU": 12.5 + t % 7, "MEMORY": 524288 + t % 4096,
                                    "NETRX": 1_000_000 + t * 17, "NETTX": 500_000 + t * 9},
                              START + t) for t in range(0, DAY, VM_STEP)]


def _host_hour(hid: int) -> list[dict[str, object]]:
    samples = []
    for t in range(0, 3600, HOST_STEP):
        host = Host(oid=hid, monitoring={"TIMESTAMP": START + DAY - 3600 + t, "FREE_CPU": 700,
                                         "USED_CPU": 100 + t % 50, "FREE_MEMORY": 15_000_000,
                                         "USED_MEMORY": 1_777_216, "NETRX": t * 1000,
                                         "NETTX": t * 500})
        samples.append(history.host_sample(host))
    return samples


def load(db_path: Path, hosts: int) -> float:
    """A day of VM 0's samples and an hour of each host's; seconds taken."""
    db = open_database(str(db_path))
    begin = time.perf_counter()
    try:
        with db.atomic():
            history.add(_vm_day(0))
            for hid in range(hosts):
                history.add(_host_hour(hid))
    finally:
        db.close()
    return time.perf_counter() - begin


def growth_per_vm_day(scratch: Path, vms: int = 100) -> tuple[float, float]:
    """(bytes a day of 30 s samples adds per VM, ms to prune one 30 s step of `vms` VMs)."""
    path = scratch / "growth.db"
    db = open_database(str(path))
    try:
        db.execute_sql("VACUUM")
        before = path.stat().st_size
        with db.atomic():
            for vid in range(vms):
                history.add(_vm_day(vid))
        grown = path.stat().st_size - before
        begin = time.perf_counter()
        with db.atomic():
            history.prune(history.VM, START + VM_STEP)
        pruned = (time.perf_counter() - begin) * 1000
    finally:
        db.close()
    return grown / vms, pruned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="one-bench-mon-") as scratch:
        work = Path(scratch)
        with running_server(work, CONFIG) as server:
            poster = Poster(server.address, server.path)
            vid = poster.call("one.vm.allocate", "CPU = 1 MEMORY = 512", True)
            poster.close()
        loaded = load(work / "one.db", options.hosts)
        calls = {
            "one.vm.monitoring: 24 h of 30 s samples (2,880)": ("one.vm.monitoring", vid),
            f"one.hostpool.monitoring(0): the last of {options.hosts:,} hosts":
                ("one.hostpool.monitoring", 0),
            f"one.hostpool.monitoring(300): 5 min of {options.hosts:,} hosts":
                ("one.hostpool.monitoring", 300),
            f"one.hostpool.monitoring(-1): all {options.hosts * 60:,} host samples":
                ("one.hostpool.monitoring", -1),
        }
        table = Table(title=f"samples written in {loaded:.1f} s")
        for column in ("call", "median ms", "p90 ms", "oned CPU ms per call", "reply MB"):
            table.add_column(column, justify="left" if column == "call" else "right")
        with running_server(work, CONFIG) as server:
            poster = Poster(server.address, server.path)
            for name, (method, *params) in calls.items():
                spent = cpu_seconds(server.process.pid)
                timed = poster.latency(method, request_body(method, *params), options.runs,
                                       warmup=1)
                spent = (cpu_seconds(server.process.pid) - spent) / (options.runs + 1) * 1000
                table.add_row(name, f"{timed.median_ms:.0f}", f"{timed.p90_ms:.0f}",
                              f"{spent:.0f}", f"{timed.reply_mb:.2f}")
            poster.close()
        per_vm, prune_ms = growth_per_vm_day(work)
    Console(width=120).print(table)
    print(f"database growth: {per_vm / 1024:.0f} KiB per VM per day of 30 s samples; "
          f"pruning one 30 s step of 100 VMs: {prune_ms:.1f} ms")


if __name__ == "__main__":
    main()
