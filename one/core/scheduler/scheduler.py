"""The match-making cycle: which pending VM goes to which host.

OpenNebula's mm_sched semantics -- filter hosts by capacity, cluster and
REQUIREMENTS, order them by RANK, dispatch VMs in id order within the
MAX_DISPATCH and MAX_HOST limits -- but with each placement visible to the
VMs after it, and fast enough for 10,000 VMs against 1,000 hosts.

The scheduler is pure: the core hands it snapshots and a ``deploy`` callback
and it never reads the database, so it can be tested and timed in isolation.

Speed comes from sharing work between VMs.  VMs with the same requirements,
clusters and rank form a group; a group evaluates its requirements at most
once per host (again only for booked hosts, if they read a booked variable)
and walks a host order that is shared by every group with the same rank and
kept sorted across bookings (see :mod:`policies`).  A VM usually stops at
the first few hosts.  A group whose requirements reject the leading hosts,
so that its walks grow long, builds an order of only its admitted hosts.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Generic, Hashable, Mapping, Sequence, TypeVar

from one.core.scheduler.expressions import compile_rank, compile_requirements
from one.core.scheduler.policies import (
    CHANGING, HostState, RankOrder, Scorer, check_policy, expression_scorer, policy_scorer,
)
from one.errors import TemplateSyntaxError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingVm:
    """A VM that wants a host: PENDING, or RUNNING with RESCHED=1."""

    id: int
    cpu: float
    memory: int
    requirements: str = ""
    rank: str = ""
    resched: bool = False
    host_id: int = -1
    cluster_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class SchedHost:
    """A host that may receive VMs; ``variables`` are what expressions read."""

    id: int
    name: str
    cluster_id: int
    max_cpu: int
    cpu_usage: int
    max_mem: int
    mem_usage: int
    running_vms: int
    free_cpu: int
    variables: Mapping[str, Any]


@dataclass
class SchedConfig:
    """OpenNebula's sched.conf knobs (policy numbers as in DEFAULT_SCHED)."""

    max_vm: int = 5000
    max_dispatch: int = 30
    max_host: int = 1
    policy: int = 1
    rank: str = ""
    cpu_threshold: float = 0.9


@dataclass
class CycleReport:
    """What a cycle did; the core stores ``messages`` as each VM's SCHED_MESSAGE."""

    dispatched: list[tuple[int, int]]
    messages: dict[int, str]
    matched: int
    seconds: float


NO_HOSTS = "No hosts enabled to run VMs"
_UNKNOWN = 2
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def demand(vm: PendingVm) -> tuple[int, int]:
    """(CPU x 100, MEMORY in KB): what the VM books on its host, as the core books it."""
    return max(0, round(vm.cpu * 100)), max(0, vm.memory) * 1024


class _Pool(Generic[K, V]):
    """Per-key objects built on first use and dropped after their last user.

    The counts come from a pass over the cycle's VMs, so a cycle in which
    every VM has its own requirements or rank never holds more than one
    group's worth of per-host data at a time.
    """

    def __init__(self, build: Callable[[K], V], users: Counter[K]) -> None:
        self.build, self.users = build, users
        self.items: dict[K, V] = {}

    def get(self, key: K) -> V:
        if key not in self.items:
            self.items[key] = self.build(key)
        return self.items[key]

    def done(self, key: K) -> None:
        self.users[key] -= 1
        if not self.users[key]:
            self.items.pop(key, None)


class _Group:
    """VMs with the same requirements, clusters and rank.

    ``status[h]`` caches whether host ``h`` admits them (cluster and
    REQUIREMENTS), evaluated on first need and forgotten for booked hosts
    when the requirements read a variable a booking changes.
    """

    def __init__(self, state: HostState, requirements: str, clusters: frozenset[int] | None,
                 shared: RankOrder) -> None:
        compiled = compile_requirements(requirements)
        self.state, self.text, self.clusters = state, requirements, clusters
        self.evaluate = compiled.evaluate
        self.dynamic = bool(compiled.variables() & CHANGING)
        self.status = bytearray([_UNKNOWN]) * len(state.ids)
        self.synced = len(state.booked)
        self.shared: RankOrder = shared
        self.own_order: RankOrder | None = None
        self.walked = 0
        self.failures: list[tuple[int, int, str]] = []

    def admits(self, h: int) -> bool:
        status = self.status[h]
        if status == _UNKNOWN:
            status = ((self.clusters is None or self.state.cluster[h] in self.clusters)
                      and bool(self.evaluate(self.state.vars[h])))
            self.status[h] = status
        return bool(status)

    def pick(self, cpu: int, memory: int, own: int) -> int:
        """The best alive host that admits the VM and has room for it, or -1.

        ``own`` (a resched VM's current host) is never chosen.
        """
        self._sync()
        admits = None if self.own_order is not None else self.admits
        order = self.own_order or self.shared
        cpu_free, mem_free = self.state.cpu_free, self.state.mem_free
        found, steps = -1, 0
        for steps, (_, h) in enumerate(order.current(), 1):
            if (cpu_free[h] >= cpu and mem_free[h] >= memory and h != own
                    and (admits is None or admits(h))):
                found = h
                break
        if admits is not None:
            self._walked(steps)
        return found

    def _sync(self) -> None:
        booked = self.state.booked
        if self.dynamic:
            for h in booked[self.synced:]:
                self.status[h] = _UNKNOWN
        self.synced = len(booked)

    def _walked(self, steps: int) -> None:
        """Once walking the shared order has cost as much as filtering every
        host would, filter them: later walks then skip rejected hosts."""
        self.walked += steps
        if self.walked > len(self.state.ids):
            self.own_order = RankOrder(self.state, self.shared.scorer, self.admits, self.dynamic)

    def known_failure(self, cpu: int, memory: int) -> str | None:
        """Why an earlier VM of the group no larger than this one found no host.

        Valid only while the answer cannot turn: static requirements, and no
        resched VM (whose own host is excluded).  Bookings only take hosts
        away, so a larger VM cannot do better.
        """
        for failed_cpu, failed_memory, message in self.failures:
            if cpu >= failed_cpu and memory >= failed_memory:
                return message
        return None

    def remember_failure(self, cpu: int, memory: int, message: str) -> None:
        if not self.dynamic:
            self.failures.append((cpu, memory, message))


GroupKey = tuple[str, frozenset[int] | None, str | None]


class _Cycle:
    """One run of the cycle over fixed inputs; collects the report."""

    def __init__(self, scheduler: Scheduler, vms: list[PendingVm],
                 hosts: Sequence[SchedHost]) -> None:
        config = self.config = scheduler.config
        self.deploy = scheduler.deploy
        sizes = [demand(vm) for vm in vms]
        smallest = (min((cpu for cpu, _ in sizes), default=0),
                    min((memory for _, memory in sizes), default=0))
        self.state = HostState(hosts, config.cpu_threshold, config.max_host, smallest)
        keys = [_group_key(vm) for vm in vms]
        self.work = list(zip(vms, sizes, keys))
        self.orders: _Pool[str | None, RankOrder] = _Pool(
            self._build_order, Counter(key[2] for key in keys))
        self.groups: _Pool[GroupKey, _Group | str] = _Pool(self._build_group, Counter(keys))
        self.dispatched: list[tuple[int, int]] = []
        self.messages: dict[int, str] = {}
        self.matched = 0

    def _scorer(self, rank: str | None) -> Scorer:
        if rank is None:
            return policy_scorer(self.config.policy, self.config.rank, self.state)
        return expression_scorer(compile_rank(rank), self.state)

    def _build_order(self, rank: str | None) -> RankOrder:
        return RankOrder(self.state, self._scorer(rank))

    def _build_group(self, key: GroupKey) -> _Group | str:
        """The group, or the SCHED_MESSAGE for an expression that does not compile."""
        requirements, clusters, rank = key
        try:
            compile_requirements(requirements)
        except TemplateSyntaxError as exc:
            return f"Error in SCHED_REQUIREMENTS: '{requirements}', error: {exc}"
        try:
            shared = self.orders.get(rank)
        except TemplateSyntaxError as exc:
            return f"Error in SCHED_RANK: '{rank}', error: {exc}"
        return _Group(self.state, requirements, clusters, shared)

    def run(self) -> None:
        for vm, (cpu, memory), key in self.work:
            if len(self.dispatched) >= self.config.max_dispatch:
                self.messages[vm.id] = (f"Not dispatched in this cycle: MAX_DISPATCH "
                                        f"({self.config.max_dispatch}) VMs already dispatched")
                continue
            self.matched += 1
            try:
                group = self.groups.get(key)
                if isinstance(group, str):
                    self.messages[vm.id] = group
                else:
                    self._place(vm, cpu, memory, group)
            except Exception as exc:  # noqa: BLE001 - one VM never stops the cycle
                log.exception("Cannot schedule VM %d", vm.id)
                self.messages[vm.id] = f"Cannot schedule VM: {exc!r}"
            finally:
                self.groups.done(key)
                self.orders.done(key[2])

    def _place(self, vm: PendingVm, cpu: int, memory: int, group: _Group) -> None:
        own = self.state.index.get(vm.host_id, -1) if vm.resched else -1
        known = group.known_failure(cpu, memory) if own < 0 else None
        if known is not None:
            self.messages[vm.id] = known
            return
        h = group.pick(cpu, memory, own)
        if h >= 0:
            self._dispatch(vm, h, cpu, memory)
            return
        message = self._explain(group, cpu, memory, own, vm.resched)
        self.messages[vm.id] = message
        if own < 0:
            group.remember_failure(cpu, memory, message)

    def _dispatch(self, vm: PendingVm, h: int, cpu: int, memory: int) -> None:
        """Deploy, and book the host only if that worked: a VM that changed
        state meanwhile (or any other error) must not stop the cycle."""
        host_id = self.state.ids[h]
        try:
            self.deploy(vm.id, host_id, vm.resched)
        except Exception as exc:  # noqa: BLE001 - one VM never stops the cycle
            log.warning("Cannot dispatch VM %d to host %d: %s", vm.id, host_id, exc,
                        exc_info=True)
            self.messages[vm.id] = f"Cannot dispatch VM to host {host_id}: {exc}"
            return
        self.state.book(h, cpu, memory)
        self.dispatched.append((vm.id, host_id))

    def _explain(self, group: _Group, cpu: int, memory: int, own: int, resched: bool) -> str:
        """The first filter that left no host, in OpenNebula's order: cluster,
        capacity, REQUIREMENTS; else every fitting host reached MAX_HOST."""
        state = self.state
        if not state.ids:
            return NO_HOSTS
        other = " other than the current one" if resched else ""
        hosts = [h for h in range(len(state.ids)) if h != own]
        if group.clusters is not None:
            hosts = [h for h in hosts if state.cluster[h] in group.clusters]
            clusters = ", ".join(map(str, sorted(group.clusters))) or "none"
            if not hosts:
                return f"No host{other} in the VM's clusters ({clusters}) is enabled to run VMs"
        hosts = [h for h in hosts if state.cpu_free[h] >= cpu and state.mem_free[h] >= memory]
        if not hosts:
            return f"No host{other} with enough capacity to deploy the VM"
        if not any(group.admits(h) for h in hosts):
            return f"No host{other} meets capacity and SCHED_REQUIREMENTS: {group.text}"
        return (f"Not dispatched in this cycle: every suitable host{other} already received "
                f"MAX_HOST ({self.config.max_host}) VMs")

    def report(self, seconds: float) -> CycleReport:
        return CycleReport(self.dispatched, self.messages, self.matched, seconds)


def _group_key(vm: PendingVm) -> GroupKey:
    return vm.requirements.strip(), vm.cluster_ids, vm.rank.strip() or None


class Scheduler:
    """Matches pending VMs to hosts, one cycle at a time.

    ``deploy(vm_id, host_id, resched)`` is called for each placement, in
    order; the core turns it into a deployment or a migration.
    """

    def __init__(self, config: SchedConfig, deploy: Callable[[int, int, bool], None]) -> None:
        check_policy(config.policy, config.rank)
        self.config = config
        self.deploy = deploy

    def cycle(self, vms: Sequence[PendingVm], hosts: Sequence[SchedHost]) -> CycleReport:
        """Place up to MAX_VM VMs (lowest ids first); see the module docstring."""
        started = time.perf_counter()
        chosen = sorted(vms, key=lambda vm: vm.id)[:max(0, self.config.max_vm)]
        run = _Cycle(self, chosen, hosts)
        run.run()
        return run.report(time.perf_counter() - started)
