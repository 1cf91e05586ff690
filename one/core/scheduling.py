"""The scheduler inside oned: snapshots from the pools, a cycle, deployments.

Wakes every SCHED_INTERVAL seconds and whenever a VM becomes pending, builds
the pure scheduler's inputs from the database (pending and resched VMs,
monitored enabled hosts), and deploys (or, for resched VMs, migrates) through
the life cycle as the system, the cycle's dispatches batched in shared
transactions (`one.pool.batch`). `SCHED = no` leaves all this off.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator

from peewee import Expression

from one.config import Config
from one.core.lifecycle.engine import LifeCycle
from one.core.placement import IncompatibleClusters, allowed_clusters
from one.core.quantities import MAX_CPU, MAX_MEMORY, Number, capacity, parse_float, parse_int
from one.core.scheduler.policies import cloud_requirements, cloud_tier
from one.core.scheduler.scheduler import CycleReport, PendingVm, SchedConfig, SchedHost, Scheduler
from one.errors import AllocateError
from one.pool.batch import Batch
from one.pool.models import Host, Vm
from one.pool.pools import Pools
from one.pool.template import Template
from one.states import HostState, LcmState, VmState

log = logging.getLogger(__name__)
_HOST_COUNTERS = ("MAX_CPU", "CPU_USAGE", "MAX_MEM", "MEM_USAGE", "RUNNING_VMS")
# What `pending_vm` reads of a VM.
_VIEW_COLUMNS = (Vm.oid, Vm.template, Vm.user_template, Vm.resched, Vm.history)
_INT64 = 2**63


class Unschedulable(ValueError):
    """A stored object the scheduler cannot use; the message says why."""


def _capacity(template: Template, name: str, parse: Callable[[str | None], Number | None],
              high: Number) -> Number:
    """A stored capacity; 0 when absent (VMs from before CPU and MEMORY were required)."""
    text = template.get(name)
    if text is None:
        return 0
    try:
        return capacity(text, name, parse, high, positive=False)
    except AllocateError as exc:
        raise Unschedulable(f"Cannot schedule VM: {exc.message}") from None


def _clusters(system: Template) -> frozenset[int] | None:
    """The clusters the VM's datastores and networks allow (AUTOMATIC_REQUIREMENTS)."""
    try:
        return allowed_clusters(system)
    except IncompatibleClusters as exc:
        raise Unschedulable(f"Cannot schedule VM: {exc.message}") from None


def cloud_types(vm: Vm) -> list[str]:
    """The public clouds a VM may burst to: its PUBLIC_CLOUD sections' TYPEs
    (a classic EC2 = [...] section is TYPE ec2)."""
    user = vm.user_template
    types = [section.get("TYPE", "").lower() for section in user.vectors("PUBLIC_CLOUD")]
    return types + (["ec2"] if user.vectors("EC2") else [])


def pending_vm(vm: Vm, bursting: bool = False) -> PendingVm:
    """The scheduler's view of a VM; Unschedulable for unusable stored numbers.
    With public-cloud hosts around (`bursting`) its requirements also say which
    of them it may use."""
    user, system = vm.user_template, vm.template
    requirements = user.get("SCHED_REQUIREMENTS") or user.get("REQUIREMENTS") or ""
    if bursting:
        cloud = cloud_requirements(cloud_types(vm))
        requirements = f"({requirements}) & ({cloud})" if requirements.strip() else cloud
    return PendingVm(
        id=vm.oid, cpu=_capacity(system, "CPU", parse_float, MAX_CPU),
        memory=int(_capacity(system, "MEMORY", parse_int, MAX_MEMORY)),
        requirements=requirements,
        rank=user.get("SCHED_RANK") or user.get("RANK") or "", resched=bool(vm.resched),
        host_id=vm.history[-1]["HID"] if vm.resched and vm.history else -1,
        cluster_ids=_clusters(system))


def _check_numbers(host: Host) -> None:
    """Counters are numbers, and every number is finite and fits in 64 bits: one
    absurd value would otherwise break the arithmetic of every VM's placement."""
    for values in (host.share, host.monitoring):
        for name, value in values.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if (name in _HOST_COUNTERS or name == "FREE_CPU") and not number:
                raise Unschedulable(f"{name} = {str(value)[:64]!r} is not a number")
            if number and not -_INT64 <= value < _INT64:  # also false for inf and nan
                raise Unschedulable(f"{name} = {str(value)[:64]} is out of range")


def sched_host(host: Host) -> SchedHost:
    """The scheduler's view of a host; Unschedulable for unusable stored numbers."""
    _check_numbers(host)
    share, mon = host.share, host.monitoring
    variables: dict[str, Any] = {name: value for name, value in host.template.attrs
                                 if isinstance(value, str)}
    variables.update(share)
    variables.update(mon)
    variables.update(ID=host.oid, NAME=host.name, CLUSTER_ID=host.cluster_id, CLUSTER=host.cluster,
                     IM_MAD=host.im_mad, VM_MAD=host.vm_mad)
    return SchedHost(id=host.oid, name=host.name, cluster_id=host.cluster_id,
                     max_cpu=share.get("MAX_CPU", 0), cpu_usage=share.get("CPU_USAGE", 0),
                     max_mem=share.get("MAX_MEM", 0), mem_usage=share.get("MEM_USAGE", 0),
                     running_vms=share.get("RUNNING_VMS", 0), free_cpu=mon.get("FREE_CPU", 0),
                     variables=variables)


def sched_config(config: Config) -> SchedConfig:
    vector = config.template.vector("DEFAULT_SCHED") or {}
    values = {key.lower(): config.template.get(key) for key in ("MAX_VM", "MAX_DISPATCH", "MAX_HOST")}
    return SchedConfig(
        **{k: int(v) for k, v in values.items() if v and v.isdigit()},
        policy=int(vector.get("POLICY", "1")), rank=vector.get("RANK", ""))


class SchedulerLoop:
    def __init__(self, pools: Pools, config: Config, lifecycle: LifeCycle) -> None:
        self.pools, self.config, self.lifecycle = pools, config, lifecycle
        self.scheduler = Scheduler(sched_config(config), self._deploy)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._batch: Batch | None = None   # the cycle's dispatches, committed together
        self._known: dict[int, tuple[int, PendingVm | str]] = {}  # vid -> (stored columns' hash, view)

    def _deploy(self, vid: int, hid: int, resched: bool) -> None:
        move = ((lambda: self.lifecycle.migrate(vid, hid, live=False)) if resched
                else (lambda: self.lifecycle.deploy(vid, hid)))
        if self._batch is None:
            move()
        else:
            self._batch.run(move)

    def snapshot(self) -> tuple[list[PendingVm], list[SchedHost], dict[int, str]]:
        """The cycle's VMs and hosts, and the SCHED_MESSAGE of each VM left out.

        A VM or host whose stored values are unusable is left out (the VM with a
        SCHED_MESSAGE, the host with an error in the log) and the cycle goes on.
        """
        hosts: list[SchedHost] = []
        for host in self.pools.hosts.each(Host.state == HostState.MONITORED):
            try:
                hosts.append(sched_host(host))
            except Exception as exc:  # noqa: BLE001 - one bad host never stops a cycle
                log.error("Scheduler skips host [%d] %s: %s", host.oid, host.name, exc)
        bursting = any(cloud_tier(host.variables) for host in hosts)
        running = (Vm.state == VmState.ACTIVE) & (Vm.lcm_state == LcmState.RUNNING) & (Vm.resched == 1)
        vms: list[PendingVm] = []
        skipped: dict[int, str] = {}
        for oid, view in self._views((Vm.state == VmState.PENDING) | running, bursting):
            if isinstance(view, str):
                skipped[oid] = view
            else:
                vms.append(view)
        return vms, hosts, skipped

    def _views(self, where: Expression, bursting: bool) -> Iterator[tuple[int, PendingVm | str]]:
        """Each matching VM's view, or why it cannot be scheduled. A cycle runs at every
        allocate over every VM still pending, so views are kept between cycles and a
        VM's templates are parsed again only when its stored columns changed."""
        query = Vm.select(*_VIEW_COLUMNS).where(where).order_by(Vm.oid)
        known, self._known = self._known, {}
        for row in self.pools.store.db.execute(query).fetchall():
            oid, key = row[0], hash((bursting, *row[1:]))
            entry = known.get(oid)
            if entry is None or entry[0] != key:
                try:
                    vm = Vm(**{f.name: f.python_value(v) for f, v in zip(_VIEW_COLUMNS, row)})
                except Exception:  # noqa: BLE001 - skipped and logged, never fatal to the cycle
                    log.error("%s [%s] skipped: its row cannot be read", self.pools.vms.kind, oid,
                              exc_info=True)
                    continue
                entry = (key, self._view(vm, bursting))
            self._known[oid] = entry
            yield oid, entry[1]

    @staticmethod
    def _view(vm: Vm, bursting: bool) -> PendingVm | str:
        try:
            return pending_vm(vm, bursting)
        except Exception as exc:  # noqa: BLE001 - one bad VM never stops a cycle
            return str(exc) if isinstance(exc, Unschedulable) else f"Cannot schedule VM: {exc!r}"

    def cycle(self) -> CycleReport:
        vms, hosts, skipped = self.snapshot()
        with Batch(self.pools.store) as self._batch:
            report = self.scheduler.cycle(vms, hosts)
        self._batch = None
        report.messages.update(skipped)
        placed = {vid for vid, _ in report.dispatched}
        with self.pools.store.write():
            for vid, message in report.messages.items():
                vm = Vm.get_or_none(Vm.oid == vid)
                if vid not in placed and vm is not None and vm.user_template.get("SCHED_MESSAGE") != message:
                    vm.user_template.set("SCHED_MESSAGE", message)
                    self.pools.vms.save(vm)
        return report

    # -- the thread -----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.config.sched_interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self.cycle()
            except Exception:
                log.exception("scheduler cycle failed")

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
