"""Watching oned's pools from outside until they settle.

oned has no call that waits for a state, so the issue-3 phases poll listings
and time the poll that first shows what they wait for. Counts are taken on
the raw reply (see `rpc.escaped`); only the host pool is parsed.
"""
from __future__ import annotations

import re
import time
from typing import Callable, TypeVar
from xml.etree import ElementTree

from bench.rpc import BenchError, escaped, request_body, succeeded
from bench.timing import Poster

PENDING, ACTIVE = 1, 3   # VM STATE
RUNNING = 3              # VM LCM_STATE
MONITORED = 2            # host STATE
ANY_VM = "<VM><ID>"
RUNNING_VM = f"<LCM_STATE>{RUNNING}</LCM_STATE>"
_VM_STATE = re.compile(r"<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>")
T = TypeVar("T")


def settle(read: Callable[[], T], goal: T, interval: float, stall: float) -> tuple[T, float]:
    """Poll `read` until it gives `goal` or the same value for `stall` seconds.

    Returns the last value and the `perf_counter` time of the poll that first
    gave it: when the server got there, to within one poll.
    """
    value, since = read(), time.perf_counter()
    while value != goal:
        time.sleep(interval)
        latest, now = read(), time.perf_counter()
        if latest != value:
            value, since = latest, now
        elif now - since > stall:
            break
    return value, since


def vm_count(poster: Poster, state: int, fragment: str = ANY_VM) -> int:
    """How many times `fragment` occurs in the short bodies of the VMs in `state`."""
    reply = poster.post(request_body("one.vmpool.info", -2, -1, -1, state))
    return succeeded("one.vmpool.info", reply).count(escaped(fragment))


def vm_state(poster: Poster, vid: int) -> tuple[int, int]:
    """(STATE, LCM_STATE) of one VM."""
    found = _VM_STATE.search(poster.call("one.vm.info", vid))
    if found is None:
        raise BenchError(f"one.vm.info {vid} holds no STATE and LCM_STATE")
    return int(found.group(1)), int(found.group(2))


def host_states(poster: Poster) -> dict[int, tuple[int, int]]:
    """Host ID -> (STATE, MONITORING/TIMESTAMP, 0 before the first probe)."""
    pool = ElementTree.fromstring(poster.call("one.hostpool.info"))
    return {int(host.findtext("ID", "-1")): (int(host.findtext("STATE", "-1")),
                                             int(host.findtext("MONITORING/TIMESTAMP") or 0))
            for host in pool.findall("HOST")}


def wait_monitored(poster: Poster, hosts: int, stall: float = 30) -> float:
    """Seconds until all `hosts` hosts are MONITORED; BenchError if they stop getting there."""
    def monitored() -> int:
        return sum(state == MONITORED for state, _ in host_states(poster).values())

    start = time.perf_counter()
    count, at = settle(monitored, hosts, 0.2, stall)
    if count != hosts:
        raise BenchError(f"only {count} of {hosts} hosts MONITORED after {stall:.0f} s")
    return at - start
