"""The scheduler inside oned: snapshots from the pools, a cycle, deployments.

Wakes every SCHED_INTERVAL seconds and whenever a VM becomes pending, builds
the pure scheduler's inputs from the database (pending and resched VMs,
monitored enabled hosts), and deploys (or, for resched VMs, migrates) through
the life cycle as the system. `SCHED = no` leaves all this off.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from one.config import Config
from one.core.lifecycle.engine import LifeCycle
from one.core.scheduler.scheduler import CycleReport, PendingVm, SchedConfig, SchedHost, Scheduler
from one.pool.models import Host, Vm
from one.pool.pools import Pools
from one.states import HostState, LcmState, VmState

log = logging.getLogger(__name__)


def _number(text: str | None, kind: type = float) -> Any:
    try:
        return kind(text or 0)
    except ValueError:
        return kind(0)


def pending_vm(vm: Vm) -> PendingVm:
    user, system = vm.user_template, vm.template
    return PendingVm(
        id=vm.oid, cpu=_number(system.get("CPU")), memory=_number(system.get("MEMORY"), int),
        requirements=user.get("SCHED_REQUIREMENTS") or user.get("REQUIREMENTS") or "",
        rank=user.get("SCHED_RANK") or user.get("RANK") or "", resched=bool(vm.resched),
        host_id=vm.history[-1]["HID"] if vm.resched and vm.history else -1)


def sched_host(host: Host) -> SchedHost:
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

    def _deploy(self, vid: int, hid: int, resched: bool) -> None:
        if resched:
            self.lifecycle.migrate(vid, hid, live=False)
        else:
            self.lifecycle.deploy(vid, hid)

    def snapshot(self) -> tuple[list[PendingVm], list[SchedHost]]:
        running = (Vm.state == VmState.ACTIVE) & (Vm.lcm_state == LcmState.RUNNING) & (Vm.resched == 1)
        vms = Vm.select().where((Vm.state == VmState.PENDING) | running).order_by(Vm.oid)
        hosts = Host.select().where(Host.state == HostState.MONITORED).order_by(Host.oid)
        return [pending_vm(vm) for vm in vms], [sched_host(h) for h in hosts]

    def cycle(self) -> CycleReport:
        vms, hosts = self.snapshot()
        report = self.scheduler.cycle(vms, hosts)
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
