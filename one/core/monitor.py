"""Monitoring: probes hosts through their IM drivers, feeds VM states back.

Every cycle each host that is not offline is probed in parallel; the answers
are written in one transaction (capacity, MONITORING, probe facts into the
host TEMPLATE, state INIT/ERROR -> MONITORED, or ERROR with the message).
What the probe says of each VM, or what the VMM driver's poll says when the
IM driver does not report VMs, goes to the life cycle as poll events.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from one.config import Config
from one.core.lifecycle.engine import LifeCycle
from one.core.lifecycle.records import now
from one.core.views import host_view, vm_view
from one.plugins.drivers import HostProbe, PollState, VmPoll
from one.plugins.manager import PluginManager
from one.pool.models import Host, Vm
from one.pool.pools import Pools
from one.states import HostState, LcmState, VmState

log = logging.getLogger(__name__)
# Probe keys that change every cycle: MONITORING, not TEMPLATE (as oned 5.12+).
_DYNAMIC = {"FREECPU": "FREE_CPU", "USEDCPU": "USED_CPU", "FREEMEMORY": "FREE_MEMORY",
            "USEDMEMORY": "USED_MEMORY", "NETRX": "NETRX", "NETTX": "NETTX"}
_POLLED = {(VmState.ACTIVE, LcmState.RUNNING), (VmState.ACTIVE, LcmState.UNKNOWN),
           (VmState.POWEROFF, LcmState.LCM_INIT)}
HostChanged = Callable[[Host, int], None]


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


class Monitor:
    def __init__(self, pools: Pools, config: Config, plugins: PluginManager,
                 lifecycle: LifeCycle, host_changed: HostChanged | None = None) -> None:
        self.pools, self.config, self.plugins, self.lifecycle = pools, config, plugins, lifecycle
        self.host_changed = host_changed
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._pool = ThreadPoolExecutor(max(1, config.driver_threads), "monitor")
        self._thread: threading.Thread | None = None

    # -- one cycle -------------------------------------------------------------
    def cycle(self) -> int:
        """Probe every host once; returns how many hosts were updated."""
        hosts = list(Host.select().where(Host.state != HostState.OFFLINE).order_by(Host.oid))
        results = list(self._pool.map(self._probe, hosts))
        changed: list[tuple[Host, int]] = []
        with self.pools.store.write():
            for host, outcome in zip(hosts, results):
                previous = host.state
                self._apply(host, outcome)
                if host.state != previous:
                    changed.append((host, previous))
        for host, previous in changed:
            if self.host_changed is not None:
                self.host_changed(host, previous)
        for host, outcome in zip(hosts, results):
            self._report_vms(host, outcome)
        return len(hosts)

    def _probe(self, host: Host) -> HostProbe | Exception:
        view = host_view(host)
        try:
            probe = self.plugins.registries["im"].get(host.im_mad).monitor(view)
            if probe.vms is None:
                probe = HostProbe(probe.values, self._poll_vms(host))
            return probe
        except Exception as exc:  # a host that does not answer is a state, not a crash
            return exc

    def _poll_vms(self, host: Host) -> dict[str, VmPoll] | None:
        """IM drivers that do not list VMs: ask the VMM driver of each one."""
        vmm = self.plugins.registries["vmm"].get(host.vm_mad)
        if not vmm.supports("poll"):
            return None
        view, found = host_view(host), {}
        for vm in Vm.select().where(Vm.oid.in_(host.vms)):
            if vm.deploy_id:
                found[vm.deploy_id] = vmm.poll(vm_view(vm, self.config), view)
        return found

    def _apply(self, host: Host, outcome: HostProbe | Exception) -> None:
        if isinstance(outcome, Exception):
            host.template.set("ERROR", f"Error monitoring host: {outcome}")
            self._set_state(host, HostState.ERROR)
            self.pools.hosts.save(host)
            self.lifecycle.post(lambda hid=host.oid: self.lifecycle.host_lost(hid))
            return
        values = outcome.values
        share = dict(host.share)
        share["TOTAL_CPU"] = share["MAX_CPU"] = _int(values.get("TOTALCPU"))
        share["TOTAL_MEM"] = share["MAX_MEM"] = _int(values.get("TOTALMEMORY"))
        host.share = share
        host.monitoring = {"TIMESTAMP": now(), **{key: _int(values.get(probe_key))
                                                  for probe_key, key in _DYNAMIC.items()}}
        for key, value in values.items():
            if key not in _DYNAMIC:
                host.template.set(key, str(value))
        host.template.remove("ERROR")
        host.last_mon_time = now()
        if host.state in (HostState.INIT, HostState.ERROR):
            self._set_state(host, HostState.MONITORED)
        self.pools.hosts.save(host)

    @staticmethod
    def _set_state(host: Host, state: HostState) -> None:
        if host.state != state and host.state != HostState.DISABLED:
            host.prev_state, host.state = host.state, state

    def _report_vms(self, host: Host, outcome: HostProbe | Exception) -> None:
        if isinstance(outcome, Exception) or outcome.vms is None or not host.vms:
            return
        for vm in Vm.select(Vm.oid, Vm.state, Vm.lcm_state, Vm.deploy_id).where(Vm.oid.in_(host.vms)):
            if (vm.state, vm.lcm_state) in _POLLED and vm.deploy_id:
                poll = outcome.vms.get(vm.deploy_id, VmPoll(PollState.GONE))
                self.lifecycle.post(lambda vid=vm.oid, p=poll: self.lifecycle.poll(vid, p))

    # -- the thread -----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="monitor", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Probe soon (a host was added or enabled)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.cycle()
            except Exception:
                log.exception("monitoring cycle failed")
            self._wake.wait(self.config.monitoring_interval)
            self._wake.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
