"""Monitoring: probes hosts through their IM drivers, feeds VM states back.

Every cycle each host that is not offline is probed in parallel; the answers
are written in batches (one savepoint per host, hundreds per commit, the writer
lock handed to a waiting API call between commits): capacity, MONITORING, probe
facts into the host TEMPLATE, state INIT/ERROR -> MONITORED, or ERROR with the
message. Updates a failed commit took back are written once more; a cycle
that took the interval or longer logs how long probing and writing took
(hosts / that time = the updates/s sustained).
Probes are slow and the life cycle books and frees capacity meanwhile, so the
answers are applied to the hosts as read inside their write, and the
monitor writes only what it owns: never CPU_USAGE, MEM_USAGE, RUNNING_VMS or
the VM list. What the probe says of each VM, or what the VMM driver's poll
says when the IM driver does not report VMs, goes to the life cycle as poll
events, for the VMs that were in a polled phase on that host before the probe and
still are. Each host's update keeps a sample of the host and its reported VMs in the
monitoring history; the cycle then prunes what is older than its window
(HOST_/VM_MONITORING_EXPIRATION_TIME; 0 keeps none).
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, NamedTuple

from one.config import Config
from one.core.lifecycle.engine import LifeCycle, phase_of
from one.core.lifecycle.phases import Phase
from one.core.lifecycle.records import now
from one.core.views import host_view, vm_view
from one.plugins.drivers import HostProbe, PollState, VmPoll
from one.plugins.manager import PluginManager
from one.pool import monitoring as history
from one.pool.batch import Batch
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


class Probed(NamedTuple):
    """A host's answer, and its VMs in a polled phase before it was asked."""

    watched: dict[int, tuple[Phase, str]]   # vid -> (phase, DEPLOY_ID)
    outcome: HostProbe | Exception
    at: int  # when its cycle probed: cycles an interval apart never share a second


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
        # The hosts as last read or written: unchanged ones are not parsed again.
        self._known: dict[int, Host] = {}

    # -- one cycle -------------------------------------------------------------
    def cycle(self) -> int:
        """Probe every host once and write every answer; returns how many hosts were probed."""
        started = time.monotonic()
        hosts = self.pools.hosts.select(Host.state != HostState.OFFLINE, self._known)
        self._known = {host.oid: host for host in hosts}
        results = list(self._pool.map(partial(self._probe, now()), hosts))
        probed = time.monotonic()
        changed: list[tuple[Host, int]] = []
        updates: list[Callable[[], object]] = [partial(self._update, host, result, changed)
                   for host, result in zip(hosts, results)]
        lost = self._write(updates)
        if lost:
            lost = self._write(lost)  # once more: the next cycle probes them anyway
        with self.pools.store.write():
            self._prune()
        for host, previous in changed:
            if self.host_changed is not None:
                self.host_changed(host, previous)
        took = time.monotonic() - started
        # Worth the operator's eye when hosts are updated less often than configured.
        worth_it = bool(hosts) and took >= self.config.monitoring_interval
        log.log(logging.INFO if worth_it else logging.DEBUG,
                "monitoring cycle: %d hosts probed in %.3f s, written in %.3f s, %d not written",
                len(hosts), probed - started, took - (probed - started), len(lost))
        return len(hosts)

    def _write(self, updates: list[Callable[[], object]]) -> list[Callable[[], object]]:
        """Apply host updates in batches (a savepoint each, many per commit, the writer
        lock yielded between commits); returns those a failed commit took back."""
        with Batch(self.pools.store) as batch:
            for update in updates:
                try:
                    batch.run(update)
                except Exception:  # noqa: BLE001 - one host's failure is not the others'
                    log.exception("monitoring update failed")
        if batch.lost:
            log.error("monitoring: a commit failed, %d host updates taken back", len(batch.lost))
        return batch.lost

    def _update(self, host: Host, result: Probed, changed: list[tuple[Host, int]]) -> None:
        """One host's answer, applied to the host as it is now (with what was booked while
        probing; parsed again only if it changed), with its monitoring samples."""
        fresh = self.pools.hosts.reread(host)
        if fresh is None or fresh.state == HostState.OFFLINE:
            return  # deleted or taken offline meanwhile: the answer is moot
        self._known[host.oid] = fresh
        previous = fresh.state
        try:
            self._apply(fresh, result.outcome, result.at)
        except BaseException:
            del self._known[host.oid]  # changed in memory, maybe not saved: read it again
            raise
        samples = self._report_vms(result, set(fresh.vms))
        if not isinstance(result.outcome, Exception):
            samples.append(history.host_sample(fresh))
        self._keep(samples)
        if fresh.state != previous:
            self.pools.store.on_commit(lambda: changed.append((fresh, previous)))

    def _probe(self, at: int, host: Host) -> Probed:
        watched = self._polled(host.vms)
        view = host_view(host)
        try:
            probe = self.plugins.registries["im"].get(host.im_mad).monitor(view)
            if probe.vms is None:
                probe = HostProbe(probe.values, self._poll_vms(host))
            return Probed(watched, probe, at)
        except Exception as exc:  # a host that does not answer is a state, not a crash
            return Probed(watched, exc, at)

    @staticmethod
    def _polled(vids: list[int]) -> dict[int, tuple[Phase, str]]:
        """(phase, DEPLOY_ID) of those VMs that are in a polled phase now."""
        if not vids:
            return {}
        found = Vm.select(Vm.oid, Vm.state, Vm.lcm_state, Vm.deploy_id).where(Vm.oid.in_(vids))
        return {vm.oid: (phase_of(vm), vm.deploy_id) for vm in found
                if phase_of(vm) in _POLLED and vm.deploy_id}

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

    def _apply(self, host: Host, outcome: HostProbe | Exception, at: int) -> None:
        """Write the monitor's part of a host read inside the write: capacity, MONITORING,
        probe facts, state; bookings (usage, RUNNING_VMS, VMS) stay the life cycle's."""
        if isinstance(outcome, Exception):
            host.template.set("ERROR", f"Error monitoring host: {outcome}")
            self._set_state(host, HostState.ERROR)
            self.pools.hosts.save(host)
            self._post(partial(self.lifecycle.host_lost, host.oid))
            return
        values = outcome.values
        share = dict(host.share)
        share["TOTAL_CPU"] = share["MAX_CPU"] = _int(values.get("TOTALCPU"))
        share["TOTAL_MEM"] = share["MAX_MEM"] = _int(values.get("TOTALMEMORY"))
        host.share = share
        host.monitoring = {"TIMESTAMP": at, **{key: _int(values.get(probe_key))
                                                  for probe_key, key in _DYNAMIC.items()}}
        for key, value in values.items():
            if key not in _DYNAMIC:
                host.template.set(key, str(value))
        host.template.remove("ERROR")
        host.last_mon_time = at
        if host.state in (HostState.INIT, HostState.ERROR):
            self._set_state(host, HostState.MONITORED)
        self.pools.hosts.save(host)

    @staticmethod
    def _set_state(host: Host, state: HostState) -> None:
        if host.state != state and host.state != HostState.DISABLED:
            host.prev_state, host.state = host.state, state

    def _report_vms(self, result: Probed, on_host: set[int]) -> list[dict[str, Any]]:
        """A VM that changed phase or host while the host was probed may be missing from
        the answer for that reason alone (it booted or migrated meanwhile): only the
        others are told, as they are now (inside the monitor's write). Returns the
        monitoring samples of those the hypervisor reported."""
        outcome = result.outcome
        if isinstance(outcome, Exception) or outcome.vms is None or not result.watched:
            return []
        still = self._polled([vid for vid in result.watched if vid in on_host])
        samples, stamp = [], now()
        for vid, seen in result.watched.items():
            if still.get(vid) == seen:
                poll = outcome.vms.get(seen[1], VmPoll(PollState.GONE))
                self._post(partial(self.lifecycle.poll, vid, poll))
                if poll.state != PollState.GONE:
                    samples.append(history.vm_sample(vid, {
                        "CPU": poll.cpu, "MEMORY": poll.memory, "NETRX": poll.netrx,
                        "NETTX": poll.nettx}, stamp))
        return samples

    def _post(self, event: Callable[[], None]) -> None:
        """Tell the life cycle once the update is committed (never twice if it is re-run)."""
        self.pools.store.on_commit(partial(self.lifecycle.post, event))

    def _windows(self) -> dict[int, int]:
        return {history.HOST: self.config.host_monitoring_expiration_time,
                history.VM: self.config.vm_monitoring_expiration_time}

    def _keep(self, samples: list[dict[str, Any]]) -> None:
        """Store the samples of the kinds kept (a window of 0 keeps none)."""
        windows = self._windows()
        history.add([sample for sample in samples if windows[sample["kind"]] > 0])

    def _prune(self) -> None:
        """Drop the samples past their window."""
        stamp = now()
        for kind, window in self._windows().items():
            history.prune(kind, stamp - window)

    # -- the thread -----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="monitor", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Probe soon (a host was added or enabled)."""
        self._wake.set()

    def _loop(self) -> None:
        """A cycle starts every MONITORING_INTERVAL (as each host's probe in oned), or
        at once when the last one took longer: the interval is not added to its time."""
        while not self._stopped.is_set():
            started, probed = time.monotonic(), 0
            try:
                probed = self.cycle()
            except Exception:
                log.exception("monitoring cycle failed")
            pause = self.config.monitoring_interval - (time.monotonic() - started)
            # no host (or a failed cycle) at MONITORING_INTERVAL = 0 must not spin
            self._wake.wait(max(pause, 0.0 if probed else 1.0))
            self._wake.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
