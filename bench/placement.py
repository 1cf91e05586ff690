"""Scheduling a full pool inside oned, timed from outside, and the memory it leaves.

oned has no call that runs a scheduler cycle now, so the scheduler is left to
do what it does in production: it is woken by every allocate (the clock is
set to an hour) and places what is pending. Hosts are loaded and monitored
first; then the VMs, each with SCHED_REQUIREMENTS and SCHED_RANK drawn from a
few dozen strings, as templates share them. One VM in a hundred asks for a
hypervisor no dummy host has, so the pool never empties of PENDING VMs and
the requirements are known to be applied.

The judged figure runs from the last allocate to the poll that shows no
placeable VM PENDING: the cycles that were still owed, matching and dispatch
to the life cycle (which moves a VM to PROLOG at once). The deployments
through the dummy drivers go on after that and are waited for, so that the
memory is read on the pool at rest: every placed VM RUNNING.
"""
from __future__ import annotations

import random
import time
from contextlib import closing
from dataclasses import dataclass

from bench.report import FRONT_END_RSS, ONED_CYCLE, Row, progress
from bench.server import Server, scratch_server
from bench.timing import Poster
from bench.watch import ACTIVE, PENDING, RUNNING_VM, settle, vm_count, wait_monitored
from bench.workload import SCHEDULED, add_hosts, add_network, host_name, timed_calls, vm_template

NOWHERE = 'HYPERVISOR = "kvm"'   # dummy hosts report HYPERVISOR = "dummy"
UNPLACEABLE_EVERY = 100
RANKS = ("", "FREE_CPU", "-RUNNING_VMS", "FREE_MEMORY - RUNNING_VMS * 1048576")
STALL = 60.0   # seconds a count may hold still before the wait gives up on it


def requirements(hosts: int) -> list[str]:
    """A few dozen strings over what dummy hosts report, each met by some hosts.

    `hosts` is a power of ten (100 or more), so that names cut short by all
    but the first varying digit fall in ten patterns of a tenth of the hosts.
    """
    varying = len(str(hosts - 1)) - 1
    prefixes = sorted({host_name(i)[:-varying] for i in range(hosts)})
    texts = [f'HYPERVISOR = "dummy" & FREE_CPU > {cpu} & !(HOSTNAME = "{prefix}*")'
             for cpu in (100, 800) for prefix in prefixes[:10]]
    texts += [f'NAME = "{prefix}*" | RUNNING_VMS < 20' for prefix in prefixes[:10]]
    texts += ["TOTALMEMORY >= 16777216 & CPUSPEED >= 2000", 'ID >= 0 & VM_MAD = "dummy"', ""]
    return texts


def template(index: int, requirement: str, rank: str) -> str:
    quoted = requirement.replace('"', '\\"')
    return f'{vm_template(index)}SCHED_REQUIREMENTS = "{quoted}"\nSCHED_RANK = "{rank}"\n'


def workload(vms: int, hosts: int) -> list[tuple[str, bool]]:
    """Allocate calls: requirements and ranks drawn at random, every hundredth VM unplaceable."""
    rng, texts = random.Random(20240601), requirements(hosts)
    return [(template(i, NOWHERE if i % UNPLACEABLE_EVERY == UNPLACEABLE_EVERY - 1
                      else rng.choice(texts), rng.choice(RANKS)), False)
            for i in range(vms)]


def unplaceable(vms: int) -> int:
    """How many of `workload`'s VMs no host admits."""
    return vms // UNPLACEABLE_EVERY


@dataclass
class Placement:
    """Seconds from the first allocate, and the counts seen."""

    allocated: float          # the last allocate returned
    pending_then: int         # VMs PENDING right after it
    placed: float             # no placeable VM PENDING any more
    left_pending: int
    running: float            # every placed VM RUNNING, or the last one that got there
    running_count: int


def _place(server: Server, poster: Poster, vms: int, hosts: int, clients: int) -> Placement:
    calls, nowhere = workload(vms, hosts), unplaceable(vms)
    progress(f"placement: allocating {vms:,} VMs with requirements, scheduler on")
    start = time.perf_counter()
    timed_calls(server.url, "one.vm.allocate", calls, clients)
    allocated = time.perf_counter()
    pending_then = vm_count(poster, PENDING)
    progress(f"placement: {pending_then:,} VMs PENDING at the last allocate; waiting")
    left, placed = settle(lambda: vm_count(poster, PENDING), nowhere, 0.1, STALL)
    running, all_running = settle(lambda: vm_count(poster, ACTIVE, RUNNING_VM),
                                  vms - nowhere, 0.25, STALL)
    return Placement(allocated - start, pending_then, placed - start, left,
                     all_running - start, running)


def rows(vms: int, hosts: int, clients: int) -> list[Row]:
    """Items 1 and 5 of issue 3 on one server: the placement, then its memory."""
    with scratch_server(SCHEDULED, scheduler=True) as server, \
            closing(Poster(server.address, server.path)) as poster:
        add_network(server.url)
        progress(f"placement: {hosts:,} hosts, waiting for them to be MONITORED")
        host_rate = add_hosts(server.url, hosts, clients)
        monitored = wait_monitored(poster, hosts)
        run = _place(server, poster, vms, hosts, clients)
        poster.call("one.vmpool.info", -2, -1, -1, -1)
        poster.call("one.hostpool.info")
        rss, peak = server.rss_mb(), server.peak_rss_mb()
    nowhere = unplaceable(vms)
    scale, tail = f"{vms:,} VMs x {hosts:,} hosts", run.placed - run.allocated
    return [
        Row(f"oned, {hosts:,} dummy hosts allocated", host_rate, "hosts/s"),
        Row("oned, hosts allocated -> all MONITORED", monitored, "s"),
        Row(f"oned, {vms:,} VMs allocated with the scheduler placing them",
            vms / run.allocated, "VMs/s"),
        Row("oned, VMs still PENDING at the last allocate", run.pending_then, "VMs"),
        Row(f"oned, {scale}: last allocate -> no placeable VM PENDING "
            f"(owed scheduler cycles, dispatch to PROLOG)", tail, "s", ONED_CYCLE),
        Row("oned, VMs placed per second after the last allocate",
            (run.pending_then - run.left_pending) / tail, "VMs/s"),
        Row(f"oned, {scale}: first allocate -> no placeable VM PENDING "
            f"(allocation + scheduling)", run.placed, "s"),
        Row(f"oned, VMs left PENDING (requirements met by no host: {nowhere:,})",
            run.left_pending, "VMs"),
        Row("oned, last allocate -> placed VMs RUNNING (+ deploys through dummy drivers)",
            run.running - run.allocated, "s"),
        Row("oned, first allocate -> placed VMs RUNNING (the whole pipeline)", run.running, "s"),
        Row(f"oned, placed VMs RUNNING at the end (of {vms - nowhere:,})",
            run.running_count, "VMs"),
        Row("server RSS after placement and pool listings", rss, "MB", FRONT_END_RSS),
        Row("server peak RSS (VmHWM)", peak, "MB"),
    ]
