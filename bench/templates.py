"""`python -m bench.templates`: one.template.instantiate against one.vm.allocate.

The same ~700-byte VM (bench.workload's template, with its NIC lease, DISKs and
CONTEXT) is created both ways on one fresh server without the scheduler:
allocate sends the whole text; instantiate names a stored copy of it and sends
a small extra template (NAME, MEMORY and a CONTEXT vector, which replaces the
stored one) to merge over it. Blocks of each alternate, so a slow moment of a
shared machine hits both; the rate of each is the median over the blocks.
Issue 12's bar: the merge costs less than 20 % more than allocate.
"""
from __future__ import annotations

import statistics
import sys
import time
import xmlrpc.client

from rich.console import Console
from rich.table import Table

from bench.report import progress
from bench.rpc import call
from bench.server import scratch_server
from bench.workload import add_network, timed_calls, vm_template

BLOCK = 400        # calls per timed block
ROUNDS = 5         # blocks of each method, alternating
CLIENT_COUNTS = (1, 8)
EXTRA = 'MEMORY = "1024"\nCONTEXT = [ NETWORK = "YES", ETH0_IP = "$NIC[IP]", ROLE = "extra" ]'
LIMIT = 20.0       # % more than allocate the issue allows


def _rates(url: str, tid: int, clients: int) -> tuple[float, float]:
    """(allocate, instantiate) calls per second with `clients` threads: medians of ROUNDS."""
    allocate, instantiate = [], []
    for round_ in range(ROUNDS):
        base = round_ * BLOCK
        allocate.append(timed_calls(url, "one.vm.allocate",
                                    [(vm_template(base + i), False) for i in range(BLOCK)], clients))
        instantiate.append(timed_calls(url, "one.template.instantiate",
                                       [(tid, f"inst-{base + i}", False, EXTRA, False)
                                        for i in range(BLOCK)], clients))
    return statistics.median(allocate), statistics.median(instantiate)


def main() -> int:
    rows = []
    with scratch_server() as server:
        proxy = xmlrpc.client.ServerProxy(server.url)
        add_network(server.url)
        tid = call(proxy, "one.template.allocate", vm_template(0))
        for clients in CLIENT_COUNTS:
            progress(f"{ROUNDS} blocks of {BLOCK} allocate / instantiate, {clients} client(s)")
            start = time.perf_counter()
            allocate, instantiate = _rates(server.url, tid, clients)
            progress(f"  {time.perf_counter() - start:.1f} s")
            rows.append((clients, allocate, instantiate, 100 * (allocate / instantiate - 1)))
    table = Table(title="one.template.instantiate vs one.vm.allocate (calls/s, medians)")
    for column in ("clients", "vm.allocate", "template.instantiate", "instantiate costs more",
                   "verdict"):
        table.add_column(column, justify="right")
    for clients, allocate, instantiate, extra in rows:
        table.add_row(str(clients), f"{allocate:.0f}", f"{instantiate:.0f}", f"{extra:+.1f} %",
                      "pass" if extra < LIMIT else "FAIL")
    Console().print(table)
    return 0 if all(extra < LIMIT for *_, extra in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
