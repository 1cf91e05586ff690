"""Host ranking for one scheduling cycle: the policies, and host orders that
stay sorted while the cycle books VMs onto hosts.

A cycle places VMs one after another, and each placement changes what later
VMs must see: a host that just received a VM has one more RUNNING_VMS, so
striping must now prefer another host and packing must prefer it even more.
Re-sorting 1,000 hosts per VM would cost far too much, so every order keeps
its hosts in a sorted list and, when it is next used, re-positions only the
hosts booked since (a shared log of booked hosts says which), by bisection.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from one.core.scheduler.expressions import Rank, compile_rank

if TYPE_CHECKING:
    from one.core.scheduler.scheduler import SchedHost

PACKING, STRIPING, LOAD_AWARE, CUSTOM, FIXED = range(5)
# Host variables a booking changes; an expression reading none of them gives
# the same answer for a host all cycle long.
CHANGING = frozenset({"CPU_USAGE", "MEM_USAGE", "RUNNING_VMS"})
_POLICY_RANKS = {PACKING: "RUNNING_VMS", STRIPING: "-RUNNING_VMS", FIXED: "PRIORITY"}
_TYPE = re.compile(r"[a-z0-9_-]+")


def cloud_tier(variables: Mapping[str, Any]) -> int:
    """Hosts of public clouds (PUBLIC_CLOUD = YES) come after every local host
    in every order, whatever the rank: VMs fill the private cloud first and
    burst to a public one only when no local host can take them."""
    return 1 if str(variables.get("PUBLIC_CLOUD", "")).upper() == "YES" else 0


def cloud_requirements(types: Iterable[str]) -> str:
    """The REQUIREMENTS every VM gets: a public-cloud host only for a VM with a
    section of that host's TYPE (PUBLIC_CLOUD = [ TYPE = "ec2" ] or EC2 = [...])."""
    allowed = "".join(f' | HYPERVISOR = "{t}"' for t in sorted(set(types)) if _TYPE.fullmatch(t))
    return f'!(PUBLIC_CLOUD = "YES"){allowed}'


def rounded_free_cpu(free_cpu: float, max_cpu: float, threshold: float) -> float:
    """OpenNebula's view of a nearly idle host: FREE_CPU at or above
    ``threshold`` x MAX_CPU is rounded up to whole CPUs, so monitoring noise
    (97 % idle against 99 %) does not decide between idle hosts; the host id
    does, as for any tie."""
    if max_cpu > 0 and free_cpu >= threshold * max_cpu:
        return math.ceil(free_cpu / 100) * 100
    return free_cpu


class HostState:
    """The cycle's own, mutable copy of the hosts, as parallel lists.

    Hosts are addressed by their index in id order, so comparing indexes
    breaks rank ties by host id.  A host is *alive* while it can still take
    a VM of this cycle: it has received fewer than MAX_HOST VMs and has room
    for the smallest VM considered; dead hosts leave every order for good,
    since a cycle only ever takes capacity away.
    """

    def __init__(self, hosts: Sequence[SchedHost], cpu_threshold: float, max_host: int,
                 smallest: tuple[int, int]) -> None:
        ordered = sorted(hosts, key=lambda host: host.id)
        self.ids = [host.id for host in ordered]
        self.index = {host_id: h for h, host_id in enumerate(self.ids)}
        self.cluster = [host.cluster_id for host in ordered]
        self.cpu_free = [host.max_cpu - host.cpu_usage for host in ordered]
        self.mem_free = [host.max_mem - host.mem_usage for host in ordered]
        self.tier = [cloud_tier(host.variables) for host in ordered]
        self.load = [rounded_free_cpu(host.free_cpu, host.max_cpu, cpu_threshold)
                     for host in ordered]
        self.vars = [{**host.variables, "CPU_USAGE": host.cpu_usage,
                      "MEM_USAGE": host.mem_usage, "RUNNING_VMS": host.running_vms}
                     for host in ordered]
        self.received = [0] * len(ordered)
        self.max_host = max_host
        self.smallest = smallest
        self.alive = [self._can_take(h) for h in range(len(ordered))]
        self.booked: list[int] = []

    def _can_take(self, h: int) -> bool:
        cpu, memory = self.smallest
        return (self.received[h] < self.max_host and self.cpu_free[h] >= cpu
                and self.mem_free[h] >= memory)

    def book(self, h: int, cpu: int, memory: int) -> None:
        """Account a VM placed on host ``h`` where later VMs will look."""
        self.cpu_free[h] -= cpu
        self.mem_free[h] -= memory
        # The probe's FREE_CPU lags behind: count the booked CPU as busy now
        # so load-aware placement spreads like the other policies.
        self.load[h] -= cpu
        self.received[h] += 1
        variables = self.vars[h]
        variables["CPU_USAGE"] += cpu
        variables["MEM_USAGE"] += memory
        variables["RUNNING_VMS"] += 1
        self.alive[h] = self._can_take(h)
        self.booked.append(h)


class Scorer(NamedTuple):
    """A host's rank by index (higher is better); ``dynamic`` when bookings change it."""

    score: Callable[[int], float]
    dynamic: bool


def expression_scorer(rank: Rank, state: HostState) -> Scorer:
    evaluate, variables = rank.evaluate, state.vars
    return Scorer(lambda h: evaluate(variables[h]), bool(rank.variables() & CHANGING))


def policy_scorer(policy: int, rank: str, state: HostState) -> Scorer:
    """The rank of VMs without their own: 0 packing, 1 striping, 2 load-aware,
    3 the configured RANK, 4 the hosts' PRIORITY attribute."""
    if policy == LOAD_AWARE:
        return Scorer(state.load.__getitem__, True)
    return expression_scorer(compile_rank(check_policy(policy, rank)), state)


def check_policy(policy: int, rank: str) -> str:
    """The RANK text behind an expression policy; ValueError for an unknown one
    and TemplateSyntaxError for a bad custom RANK, so that bad configuration
    fails when the scheduler starts, not VM by VM."""
    if policy not in range(5):
        raise ValueError(f"unknown scheduling policy {policy} (expected 0 to 4)")
    text = rank if policy == CUSTOM else _POLICY_RANKS.get(policy, "")
    compile_rank(text)
    return text


Key = tuple[tuple[int, float], int]   # ((cloud tier, -rank), host index)


class RankOrder:
    """Alive hosts that ``admits`` accepts, best first: keys ``((tier, -rank), index)``
    (local hosts before public clouds, see ``cloud_tier``).

    ``current()`` first catches up with the hosts booked since the last call:
    a dead one is dropped; if the rank or the admission can have changed
    (``rekey``), the host is taken out and put back where it now belongs.
    """

    def __init__(self, state: HostState, scorer: Scorer,
                 admits: Callable[[int], bool] | None = None, rekey: bool = False) -> None:
        self.state, self.scorer, self.admits = state, scorer, admits
        self.score = scorer.score
        self.rekey = rekey or scorer.dynamic
        self.key_of: list[Key | None] = [None] * len(state.ids)
        for h, alive in enumerate(state.alive):
            if alive and (admits is None or admits(h)):
                self.key_of[h] = self._key(h)
        self.keys = sorted(key for key in self.key_of if key is not None)
        self.synced = len(state.booked)

    def _key(self, h: int) -> Key:
        return (self.state.tier[h], -self.score(h)), h

    def current(self) -> list[Key]:
        booked = self.state.booked
        if self.synced < len(booked):
            for h in set(booked[self.synced:]):
                self._update(h)
            self.synced = len(booked)
        return self.keys

    def _update(self, h: int) -> None:
        alive = self.state.alive[h]
        if alive and not self.rekey:
            return
        old = self.key_of[h]
        if old is not None:
            del self.keys[bisect_left(self.keys, old)]
        new = None
        if alive and (self.admits is None or self.admits(h)):
            new = self._key(h)
            insort(self.keys, new)
        self.key_of[h] = new
