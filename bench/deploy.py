"""Allocate -> RUNNING through the scheduler and the dummy drivers: one VM, then a burst.

Each figure is what a user waits for: the allocate call, the scheduler
cycle it wakes, the deployment (prolog, boot) through the dummy drivers and
the state change, seen by polling as a client would.
"""
from __future__ import annotations

import statistics
import time
from contextlib import closing

from bench.report import BURST, TO_RUNNING, Row, progress
from bench.rpc import BenchError
from bench.server import Server, scratch_server
from bench.timing import Poster
from bench.watch import ACTIVE, RUNNING, RUNNING_VM, settle, vm_count, vm_state, wait_monitored
from bench.workload import SCHEDULED, add_hosts, add_network, timed_calls, vm_template

HOSTS = 10
POLL = 0.002   # seconds between one.vm.info polls of the VM waited for
STALL = 30.0   # seconds in one state after which a VM counts as stuck


def _to_running(poster: Poster, index: int) -> float:
    """Seconds from allocating one VM to the poll that shows it RUNNING."""
    start = time.perf_counter()
    vid = poster.call("one.vm.allocate", vm_template(index), False)
    state, at = settle(lambda: vm_state(poster, vid), (ACTIVE, RUNNING), POLL, STALL)
    if state != (ACTIVE, RUNNING):
        raise BenchError(f"VM {vid} stayed in STATE, LCM_STATE {state} for {STALL:.0f} s")
    return at - start


def _burst(server: Server, poster: Poster, first: int, burst: int, clients: int) -> float:
    """Seconds from the first of `burst` allocations by `clients` threads to all of them
    RUNNING; the `first` VMs allocated before run already."""
    calls = [(vm_template(first + i), False) for i in range(burst)]
    start = time.perf_counter()
    timed_calls(server.url, "one.vm.allocate", calls, clients)
    running, at = settle(lambda: vm_count(poster, ACTIVE, RUNNING_VM), first + burst, 0.01, STALL)
    if running != first + burst:
        raise BenchError(f"{running - first} of the {burst} burst VMs RUNNING after {STALL:.0f} s")
    return at - start


def rows(samples: int, burst: int, clients: int) -> list[Row]:
    with scratch_server(SCHEDULED, scheduler=True) as server, \
            closing(Poster(server.address, server.path)) as poster:
        add_network(server.url)
        add_hosts(server.url, HOSTS, clients)
        wait_monitored(poster, HOSTS)
        progress(f"allocate -> RUNNING: {samples} VMs one at a time, then a burst of {burst}")
        waits = [1000 * _to_running(poster, i) for i in range(samples)]
        burst_seconds = _burst(server, poster, samples, burst, clients)
    label = f"allocate -> RUNNING, one VM at a time on {HOSTS} hosts"
    return [
        Row(f"{label} (median of {samples})", statistics.median(waits), "ms", TO_RUNNING),
        Row(f"{label} (p90)", statistics.quantiles(waits, n=10)[-1], "ms"),
        Row(f"burst of {burst} VMs by {clients} clients, first allocate -> all RUNNING",
            burst_seconds, "s", BURST),
        Row(f"burst of {burst} VMs, RUNNING per second", burst / burst_seconds, "VMs/s"),
    ]
