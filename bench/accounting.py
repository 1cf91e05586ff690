"""`python -m bench.accounting [--vms N]`: one.vmpool.accounting over 100,000 history records.

20,000 VMs with 5 closed HISTORY records each (100 owners) are written through
the VM pool itself, so the history table is filled by the same save path oned
uses; then oned serves that database and the calls are timed by a raw
keep-alive HTTP POST that reads the whole reply without parsing it, with the CPU
time oned spent per call (a figure the load of a shared machine moves less). Also
timed: one owner's records, a period holding half of them, and
one.vmpool.calculateshowback over all of them.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.rpc import request_body
from bench.server import running_server
from bench.timing import Poster
from one.pool.db import open_database
from one.pool.models import Vm
from one.pool.pools import make_pools
from one.pool.template import parse

RECORDS_PER_VM = 5
OWNERS = 100
START = 1_767_225_600            # 2026-01-01 00:00 UTC
HOURS = 2                        # each record lasts two hours
TEMPLATE = ('CPU = 1 VCPU = 2 MEMORY = 2048 CPU_COST = 0.5 MEMORY_COST = 0.001 '
            'DISK = [ DISK_ID = 0, IMAGE = "ubuntu", IMAGE_ID = 0, SIZE = 10240, TYPE = fs ] '
            'NIC = [ NIC_ID = 0, NETWORK = "lan", NETWORK_ID = 0, IP = "10.0.0.1", '
            'MAC = "02:00:0a:00:00:01" ] '
            'CONTEXT = [ NETWORK = "YES", SSH_PUBLIC_KEY = "ssh-ed25519 AAAA" ]')


def _records(vid: int, uid: int) -> list[dict[str, object]]:
    begin = START + vid * 60
    return [{"OID": vid, "SEQ": seq, "HOSTNAME": f"host{vid % 50}", "HID": vid % 50, "CID": 0,
             "STIME": begin + seq * HOURS * 3600, "ETIME": begin + (seq + 1) * HOURS * 3600,
             "VM_MAD": "kvm", "TM_MAD": "ssh", "DS_ID": 0, "PLAN_ID": -1, "ACTION_ID": -1,
             "PSTIME": 0, "PETIME": 0, "RSTIME": begin + seq * HOURS * 3600,
             "RETIME": begin + (seq + 1) * HOURS * 3600, "ESTIME": 0, "EETIME": 0,
             "ACTION": 3, "UID": uid, "GID": 1, "REQUEST_ID": "-1"}
            for seq in range(RECORDS_PER_VM)]


def load(db_path: Path, vms: int) -> float:
    """Write the VMs and their records through the VM pool; seconds taken."""
    db = open_database(str(db_path))
    pools = make_pools(db)
    system = parse(TEMPLATE)
    begin = time.perf_counter()
    try:
        for first in range(0, vms, 500):
            with pools.store.write():
                for vid in range(first, min(first + 500, vms)):
                    uid = vid % OWNERS
                    pools.vms.allocate(Vm(
                        name=f"vm{vid}", uid=uid, gid=1, uname=f"user{uid}", gname="users",
                        perms=0o600, state=6, lcm_state=0, template=system, monitoring={},
                        history=_records(vid, uid)))
    finally:
        db.close()
    return time.perf_counter() - begin


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far: what oned spent, whatever else the
    shared machine runs meanwhile."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    records = options.vms * RECORDS_PER_VM
    with tempfile.TemporaryDirectory(prefix="one-bench-acct-") as scratch:
        work = Path(scratch)
        with running_server(work):
            pass                      # bootstraps the database (oneadmin, groups)
        loaded = load(work / "one.db", options.vms)
        half = START + options.vms * 30 + RECORDS_PER_VM * HOURS * 1800
        calls: dict[str, tuple[str, *tuple[int, ...]]] = {
            f"accounting, all {records:,} records": ("one.vmpool.accounting", -2, -1, -1),
            "accounting, one owner's records": ("one.vmpool.accounting", 7, -1, -1),
            "accounting, a period holding about half": ("one.vmpool.accounting", -2, -1, half),
            "calculateshowback, every month": ("one.vmpool.calculateshowback", -1, -1, -1, -1),
            "showback, every row": ("one.vmpool.showback", -2, -1, -1, -1, -1),
        }
        table = Table(title=f"{options.vms:,} VMs x {RECORDS_PER_VM} records, "
                            f"loaded through the VM pool in {loaded:.1f} s")
        for column in ("call", "median ms", "p90 ms", "oned CPU ms per call", "reply MB"):
            table.add_column(column, justify="left" if column == "call" else "right")
        with running_server(work) as server:
            poster = Poster(server.address, server.path)
            for name, (method, *params) in calls.items():
                runs = 1 if method.endswith("calculateshowback") else options.runs
                spent = cpu_seconds(server.process.pid)
                timed = poster.latency(method, request_body(method, *params), runs, warmup=1)
                spent = (cpu_seconds(server.process.pid) - spent) / (runs + 1) * 1000
                table.add_row(name, f"{timed.median_ms:.0f}", f"{timed.p90_ms:.0f}",
                              f"{spent:.0f}", f"{timed.reply_mb:.1f}")
            poster.close()
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
