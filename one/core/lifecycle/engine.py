"""The life-cycle engine: applies the phase tables, runs driver operations.

Every change of a VM's phase goes through `_move`, under the store's writer
lock: user actions in the caller's thread (so the API answers after the phase
changed, or with an ACTION error), driver replies and monitoring results in
the life-cycle thread, which applies the events waiting in its queue as one
batch (`one.pool.batch`: a savepoint each, committed together). Entering a
transitional phase claims its operation's token in the same write; the
operation starts once the change is committed, outside the lock. Its reply
carries the token, and a reply whose token is no longer current is dropped.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import replace
from typing import Callable, Protocol

from one.config import Config
from one.core import devices, leases, placement, quotas
from one.core.images import release_disks
from one.core.lifecycle import changes, operations, records
from one.core.lifecycle.phases import (
    ACTIONS, CHANGE_PHASES, CHANGES, DEPLOY_FROM, DONE, FAILURES, HARD_ACTIONS, HOTPLUG_PHASES,
    IN_PLACE, MIGRATE, MIGRATE_FROM, MIGRATION_STARTS, OFF_HOST, OPERATIONS, PENDING, POWEROFF,
    PROLOG, REDEPLOY_AFTER, REPLIES, RETRY, RUNNING, SAVE_MIGRATE, SUSPENDED, TWO_HOSTS, UNKNOWN, Phase)
from one.core.runner import InlineRunner, Reply, Runner, ThreadedRunner
from one.core.views import host_view, vm_view
from one.core.vmlog import VmLogs
from one.errors import ActionError, ApiError
from one.plugins.drivers import PollState, VmPoll
from one.plugins.manager import PluginManager
from one.pool.batch import Batch
from one.pool.models import Host, Vm
from one.pool.pools import Pools
from one.states import HistoryAction, LcmState, VmState

log = logging.getLogger(__name__)
POLL_MOVES: dict[tuple[Phase, PollState], Phase] = {
    (RUNNING, PollState.GONE): POWEROFF, (UNKNOWN, PollState.GONE): POWEROFF,
    (RUNNING, PollState.ERROR): UNKNOWN, (RUNNING, PollState.UNKNOWN): UNKNOWN,
    (RUNNING, PollState.PAUSED): SUSPENDED,
    (UNKNOWN, PollState.RUNNING): RUNNING, (POWEROFF, PollState.RUNNING): RUNNING,
}
# Why a poll moved a VM, for its log: a guest gone after a restart must not look like a mystery.
POLL_REASONS = {
    PollState.GONE: "VM not found on host {host} by the monitor",
    PollState.ERROR: "The hypervisor on host {host} reports the VM in error",
    PollState.UNKNOWN: "The monitor of host {host} cannot tell the VM's state",
    PollState.PAUSED: "VM found paused on host {host} by the monitor",
    PollState.RUNNING: "VM found running on host {host} by the monitor",
}
_VMM_NEEDS = {"stop": "save", "suspend": "save", "reboot": "reboot", "reboot-hard": "reset",
              "terminate": "shutdown", "terminate-hard": "cancel", "poweroff": "shutdown",
              "poweroff-hard": "cancel", "undeploy": "shutdown", "undeploy-hard": "cancel"}


# Key of the history record holding [LCM_STATE, VMM step, its result] once the
# operation of that phase finished its VMM step; gone when the phase changes.
DONE_STEP = "DONE_STEP"


def _recorded_step(vm: Vm) -> dict[str, str | None]:
    """The VMM step the current phase's operation recorded done before a restart."""
    record = records.current(vm)
    done = record.get(DONE_STEP) if record else None
    return {done[1]: done[2]} if done and done[0] == vm.lcm_state else {}


class Notify(Protocol):
    def vm_changed(self, vm: Vm, previous: Phase) -> None: ...


def phase_of(vm: Vm) -> Phase:
    return (vm.state, vm.lcm_state)


def phase_name(phase: Phase) -> str:
    state, lcm = phase
    return LcmState(lcm).name if state == VmState.ACTIVE else VmState(state).name


class LifeCycle:
    def __init__(self, pools: Pools, config: Config, plugins: PluginManager, logs: VmLogs,
                 notify: Notify | None = None, on_pending: Callable[[], None] = lambda: None) -> None:
        self.pools, self.config, self.plugins, self.logs = pools, config, plugins, logs
        self.notify = notify
        self.on_pending = on_pending
        self.events: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.runner: Runner = InlineRunner(self._deliver)
        self._pending: dict[int, tuple[int, str]] = {}   # vm -> (token, operation)
        self._tokens = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.gate: Callable[[], None] = lambda: None  # raises when driver actions are not ours

    # -- threads --------------------------------------------------------------
    def start(self, workers: int = 16, timeout: float = 600.0, retries: int = 0) -> None:
        """Run driver operations in thread pools and events in the life-cycle thread."""
        self.runner = ThreadedRunner(self._deliver, workers, timeout, retries, gate=self.gate)
        self._thread = threading.Thread(target=self._loop, name="lifecycle", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.runner.stop()
        if self._thread is not None:
            self.events.put(None)
            self._thread.join(timeout=5)

    def post(self, event: Callable[[], None]) -> None:
        self.events.put(event)

    def step(self) -> bool:
        """Handle one queued event, if any (tests, with the inline runner)."""
        try:
            event = self.events.get_nowait()
        except queue.Empty:
            return False
        if event is not None:
            self._safely(event)
        return True

    def drain(self) -> int:
        """Handle queued events, in batches as the thread does, until none is left."""
        handled = 0
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return handled
            if event is not None:
                handled += self._apply(event)[0]

    def _loop(self) -> None:
        running = True
        while running and (event := self.events.get()) is not None:
            running = self._apply(event)[1]

    def _apply(self, event: Callable[[], None]) -> tuple[int, bool]:
        """Handle this event and those queued behind it in batched transactions (see
        `one.pool.batch`), one that fails rolled back alone and logged. Returns how
        many were handled, and False if the stop mark came up."""
        handled = 0
        with Batch(self.pools.store) as batch:
            while True:
                handled += 1
                try:
                    batch.run(event)
                except Exception:  # an event in a bad state must never kill the thread
                    log.exception("life-cycle event failed")
                try:
                    queued = self.events.get_nowait()
                except queue.Empty:
                    return handled, True
                if queued is None:
                    return handled, False
                event = queued

    @staticmethod
    def _safely(event: Callable[[], None]) -> None:
        try:
            event()
        except Exception:  # an event in a bad state must never kill the thread
            log.exception("life-cycle event failed")

    def _deliver(self, reply: Reply) -> None:
        self.events.put(lambda: self._on_reply(reply))

    def created(self, vm: Vm) -> None:
        """A VM was allocated (after its commit; `vm` as allocated, not read again: the
        API thread's time): hooks hear CREATE, the scheduler wakes."""
        if phase_of(vm) == PENDING:
            self.on_pending()
        if self.notify is not None:
            self.notify.vm_changed(vm, (VmState.INIT, LcmState.LCM_INIT))

    # -- user actions (caller's thread) ----------------------------------------
    def action(self, vid: int, name: str) -> None:
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            phase = phase_of(vm)
            target = next(((to, code) for froms, to, code in ACTIONS[name] if phase in froms), None)
            if target is None:
                raise ActionError(f"Wrong state to perform action {name} on VM [{vid}]: "
                                  f"{phase_name(phase)}.")
            self._check_driver(vm, name)
            to, code = target
            if name in IN_PLACE:
                self._in_place(vm, name)
                return
            self._set_action(vm, code)
            self._move(vm, to, enforce=True)

    def hotplug(self, vm: Vm, to: Phase, action: int) -> None:
        """A device set up in `vm` (inside the caller's write) goes to its driver
        operation in `to`; the history record goes on in a copy, as oned's does."""
        running = phase_of(vm) == RUNNING
        vm.resched = 0   # as oned: a VM being changed is not moved meanwhile
        self._move(vm, to)
        records.copy_record(vm, action, running)
        self.pools.vms.save(vm)

    def _in_place(self, vm: Vm, name: str) -> None:
        if name in ("resched", "unresched"):
            vm.resched = int(name == "resched")
            self.pools.vms.save(vm)
            if vm.resched:
                self.pools.store.on_commit(self.on_pending)
        else:
            self._start_after(vm.oid, "reset" if name.endswith("-hard") else "reboot")

    # -- changes in place (changes.py), inside the caller's write ------------------------
    def change_target(self, vm: Vm, op: str) -> Phase:
        """The phase the change `op` runs in from the VM's phase; ACTION error if none."""
        to = CHANGES[op].get(phase_of(vm))
        if to is None:
            raise ActionError(f"Wrong state to perform action {op} on VM [{vm.oid}]: "
                              f"{phase_name(phase_of(vm))}.")
        return to

    def begin_change(self, vm: Vm, to: Phase, op: str, **args: object) -> None:
        """Enter the change's phase; its driver action starts once the write commits."""
        changes.record(vm, op, **args)
        self._move(vm, to)

    def reconfigure(self, vid: int) -> None:
        """A running VM's configuration changed: the driver applies it live (update_conf);
        a failure is recorded in the VM's ERROR, its phase does not change."""
        self.pools.store.on_commit(lambda: self._start(vid, "update_conf"))

    def _check_driver(self, vm: Vm, name: str) -> None:
        """Refuse at once what the VM's hypervisor driver cannot do."""
        needed = _VMM_NEEDS.get(name)
        record = records.current(vm)
        if needed is None or record is None or phase_of(vm) not in (RUNNING, UNKNOWN):
            return
        driver = self.plugins.registries["vmm"].get(record["VM_MAD"])
        if not driver.supports(needed) or (needed == "save" and not driver.supports("restore")):
            raise ActionError(f"Action {name} is not supported by VMM driver '{record['VM_MAD']}'.")

    @staticmethod
    def _set_action(vm: Vm, code: int) -> None:
        record = records.current(vm)
        if record is not None and record["ETIME"] == 0:
            record["ACTION"] = code

    def deploy(self, vid: int, hid: int, enforce: bool = False) -> None:
        with self.pools.store.write():
            vm, host = self.pools.vms.get(vid), self.pools.hosts.get(hid)
            to = DEPLOY_FROM.get(phase_of(vm))
            last = records.current(vm)
            if to == PROLOG and last is not None and last["ETIME"]:
                to = REDEPLOY_AFTER.get(last["ACTION"], PROLOG)
            if to is None:
                raise ActionError(f"Wrong state to deploy VM [{vid}]: {phase_name(phase_of(vm))}.")
            if enforce:  # oned checks only capacity; the clusters too, when asked to enforce
                placement.check_host(vm, host, "deploy")
            self._check_host(vm, host, enforce)
            self._place(vm, host, HistoryAction.DEPLOY)
            self._move(vm, to, enforce=True)

    def migrate(self, vid: int, hid: int, live: bool, enforce: bool = False) -> None:
        with self.pools.store.write():
            vm, host = self.pools.vms.get(vid), self.pools.hosts.get(hid)
            record = records.current(vm)
            to = MIGRATE_FROM[live].get(phase_of(vm))
            if to is None or record is None:
                raise ActionError(f"Wrong state to migrate VM [{vid}]: {phase_name(phase_of(vm))}.")
            if record["HID"] == hid:
                raise ActionError(f"VM [{vid}] is already on host [{hid}].")
            if host.vm_mad != record["VM_MAD"]:
                raise ActionError(f"Host [{hid}] has VMM driver '{host.vm_mad}', the VM runs "
                                  f"with '{record['VM_MAD']}'.")
            needed = "migrate" if live else ("save" if to == SAVE_MIGRATE else None)
            if needed and not self.plugins.registries["vmm"].get(host.vm_mad).supports(needed):
                raise ActionError(f"VMM driver '{host.vm_mad}' cannot {'live ' if live else ''}migrate.")
            self._check_host(vm, host, enforce)
            placement.check_host(vm, host, "migrate")
            record["ACTION"] = HistoryAction.LIVE_MIGRATE if live else HistoryAction.MIGRATE
            records.stamp(vm, "RETIME")  # running on the source ends here, on its record
            vm.resched = 0  # rescheduled: the flag has done its job
            self._place(vm, host, HistoryAction.NONE)
            self._move(vm, to)

    def _check_host(self, vm: Vm, host: Host, enforce: bool) -> None:
        if host.state == 8:  # OFFLINE
            raise ActionError(f"Host [{host.oid}] is offline.")
        self.plugins.registries["vmm"].check(host.vm_mad)
        if enforce and not records.fits(host, vm):
            raise ActionError(f"Host [{host.oid}] does not have enough capacity for VM [{vm.oid}].")

    def _place(self, vm: Vm, host: Host, action: int) -> None:
        system = self.pools.datastores.find(0)
        tm_mad = (host.tm_mad or host.template.get("TM_MAD")
                  or (system.tm_mad if system else self.config.tm_mad_system))
        records.open_record(vm, host, tm_mad, action)
        vm.template.set("TM_MAD_SYSTEM", tm_mad)
        records.book(host, vm)
        self.pools.hosts.save(host)

    def recover(self, vid: int, op: int) -> None:
        """0 failure, 1 success, 2 retry, 3 delete, 4 delete-recreate, 5 delete-db."""
        if op not in range(6):
            raise ApiError(f"Wrong recover operation {op}: 0 failure, 1 success, 2 retry, "
                           "3 delete, 4 delete-recreate, 5 delete-db.")
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            phase = phase_of(vm)
            to = self._recover_target(vm, phase, op)
            if to is None:
                raise ActionError(f"Wrong state to recover VM [{vid}]: {phase_name(phase)}.")
            self._pending.pop(vid, None)
            if op in (0, 1) and phase in REPLIES:
                self._finish_op(vm, phase, op == 1, None, "recovered by the administrator")
            elif op == 2 and phase in REPLIES:
                self._start_after(vid, OPERATIONS[phase])
            else:
                self._set_action(vm, HistoryAction.RECOVER)
                self._move(vm, to)

    def _recover_target(self, vm: Vm, phase: Phase, op: int) -> Phase | None:
        on_host = records.current(vm) is not None and phase not in OFF_HOST and phase[0] in (
            VmState.ACTIVE, VmState.POWEROFF, VmState.SUSPENDED)
        if op in (0, 1, 2):
            if phase in REPLIES:
                return phase
            if phase in FAILURES:
                return RETRY[phase] if op == 2 else (REPLIES[RETRY[phase]][0] if op == 1 else None)
            return None
        if phase == DONE:
            return None
        if op == 5:
            return DONE
        cleanup = (VmState.ACTIVE, LcmState.CLEANUP_DELETE if op == 3 else LcmState.CLEANUP_RESUBMIT)
        return cleanup if on_host else (DONE if op == 3 else PENDING)

    # -- moving -----------------------------------------------------------------
    def _move(self, vm: Vm, to: Phase, error: str = "", reason: str = "",
              enforce: bool = False) -> None:
        """Change phase (inside a store write); the driver operation starts after commit.

        `reason` says in the VM's log why oned moved it on its own (the monitor).
        Quotas follow the phase; a user's action (`enforce`) back to a running
        phase is refused if the RUNNING_ quotas would be passed."""
        frm = phase_of(vm)
        quotas.follow_vm(self.pools, vm, frm, to, enforce)
        if frm != to and vm.history:
            vm.history[-1].pop(DONE_STEP, None)   # the step recorded was this phase's
        self._stamp(vm, frm, to)
        if error:
            vm.user_template.set("ERROR", f"{time.strftime('%c')}: {error}")
        vm.prev_state, vm.prev_lcm_state = frm
        vm.state, vm.lcm_state = to
        if to in OFF_HOST:
            self._leave_host(vm)
        elif to not in TWO_HOSTS:
            self._left_source(vm)
        if to == DONE:
            vm.etime = records.now()
            release_disks(self.pools, vm)
            for nid in leases.release_vm(vm.oid):
                self.pools.vnets.save(self.pools.vnets.get(nid), lazy=True)
        if to == PENDING and vm.resched:
            vm.resched = 0
        self.pools.vms.save(vm)
        token = self._claim(vm.oid, OPERATIONS[to]) if to in OPERATIONS else None
        self.pools.store.on_commit(lambda: self._entered(vm, frm, to, error, reason, token))

    @staticmethod
    def _stamp(vm: Vm, frm: Phase, to: Phase) -> None:
        """Prolog, running and epilog start/end times of the current record."""
        if frm == to:
            return
        for prefix, start, end in (("prolog", "PSTIME", "PETIME"), ("epilog", "ESTIME", "EETIME")):
            if OPERATIONS.get(frm, "").startswith(prefix):
                records.stamp(vm, end)
            if OPERATIONS.get(to, "").startswith(prefix):
                records.stamp(vm, start)
        if to == RUNNING:
            records.stamp(vm, "RSTIME")
        elif frm == RUNNING and to not in MIGRATION_STARTS and to not in CHANGE_PHASES:
            records.stamp(vm, "RETIME")

    def _leave_host(self, vm: Vm) -> None:
        """Off every host: each record still open closes, a migration's source included."""
        for record in vm.history:
            self._close(vm, record)

    def _close(self, vm: Vm, record: dict | None) -> None:
        """Close an open history record and free what the VM booked on its host."""
        if record is None or record["ETIME"]:
            return
        records.close_record(record)
        self._release(vm, record["HID"])

    def _release(self, vm: Vm, hid: int) -> None:
        host = self.pools.hosts.find(hid)
        if host is not None:
            records.release(host, vm)
            self.pools.hosts.save(host)

    def _entered(self, vm: Vm, frm: Phase, to: Phase, error: str, reason: str,
                 token: int | None) -> None:
        """After commit: log, start the phase's operation, tell the scheduler and hooks."""
        if reason:
            self.logs.write(vm.oid, "LCM", "I", reason)
        if frm != to:
            self.logs.write(vm.oid, "LCM", "I", f"New state is {phase_name(to)}")
        if error:
            self.logs.write(vm.oid, "LCM", "E", error)
        if token is not None:
            self._start(vm.oid, OPERATIONS[to], vm, token=token)
        if to == PENDING:
            self.on_pending()
        if self.notify is not None and frm != to:
            self.notify.vm_changed(vm, frm)

    # -- driver operations ---------------------------------------------------
    def _drivers(self, vm: Vm) -> operations.Drivers:
        hosts = [self.pools.hosts.find(h["HID"]) for h in vm.history[-2:]]
        host = hosts[-1] if hosts else None
        previous = hosts[0] if len(hosts) == 2 else None
        record = records.current(vm)
        registries = self.plugins.registries
        networks = {nic.get("VN_MAD") or self._default_vn_mad(host)
                    for nic in vm.template.vectors("NIC")}
        return operations.Drivers(
            vm=vm_view(vm, self.config),
            host=host_view(host) if host else None,
            previous=host_view(previous) if previous else None,
            vmm=registries["vmm"].get(host.vm_mad) if host else None,
            tm=registries["tm"].get(record["TM_MAD"]) if record else None,
            networks=[registries["vnm"].get(n) for n in sorted(networks)],
            hard=bool(record and record["ACTION"] in HARD_ACTIONS))

    def _default_vn_mad(self, host: Host | None) -> str:
        return (host.template.get("VN_MAD") if host else None) or self.config.default_vn_mad

    def _claim(self, vid: int, name: str) -> int:
        """The token of the operation `name`, current for the VM from this write on
        (inside it): a reply to an earlier operation is stale once it commits."""
        token, before = next(self._tokens), self._pending.get(vid)
        self._pending[vid] = (token, name)

        def undo() -> None:
            if before is None:
                self._pending.pop(vid, None)
            else:
                self._pending[vid] = before
        self.pools.store.after_rollback(undo)
        return token

    def _start_after(self, vid: int, name: str) -> None:
        """Start `name` once this write commits, its token claimed with the write."""
        token = self._claim(vid, name)
        self.pools.store.on_commit(lambda: self._start(vid, name, token=token))

    def _start(self, vid: int, name: str, vm: Vm | None = None, resumed: bool = False,
               token: int | None = None) -> None:
        """Queue the operation `name` for the VM (as just committed, when given), outside
        the writer lock; `token` is the one its change claimed, if it is still current.

        `resumed`: caught mid-way by a restart, the operation polls the guest
        before each hypervisor step and skips the steps already done.
        """
        if token is None:
            with self.pools.store.write():
                token = self._claim(vid, name)
        elif self._pending.get(vid, (None, ""))[0] != token:
            return  # superseded before it started: a later change owns the VM now
        try:
            vm = vm or self.pools.vms.get(vid)
            drivers = replace(
                self._drivers(vm), resumed=resumed,
                finished=_recorded_step(vm) if resumed else {},
                mark=lambda step, result: self._mark(vid, token, step, result))
            if name in changes.NAMES:
                op = changes.operation(drivers, name, changes.pending(vm))
            else:
                op = operations.build(name, drivers, migrating_save=phase_of(vm) == SAVE_MIGRATE)
        except Exception as exc:  # unknown driver, host gone: the operation fails now
            self._deliver(Reply(vid, token, False, error=str(exc)))
            return
        self.logs.write(vid, "LCM", "I", f"Starting {name}")
        pool = f"{'vmm' if drivers.vmm else 'tm'}-{drivers.host.vm_mad if drivers.host else 'none'}"
        self.runner.submit(vid, token, pool, self.logs.logged(vid, op))

    def _mark(self, vid: int, token: int, step: str, result: str | None) -> None:
        """The operation's VMM step finished: kept with the VM for a restart (driver thread).

        DONE_STEP is the engine's own key, shown in no document: only the history
        column is written, with nothing re-rendered, so the lock is held briefly."""
        with self.pools.store.write():
            vm = self.pools.vms.peek(vid, Vm.lcm_state, Vm.history)
            record = records.current(vm)
            if self._pending.get(vid, (None, ""))[0] != token or record is None:
                return
            record[DONE_STEP] = [vm.lcm_state, step, result]
            Vm.update(history=vm.history).where(Vm.oid == vid).execute()

    def _on_reply(self, reply: Reply) -> None:
        with self.pools.store.write():
            if self._pending.get(reply.vm, (None, ""))[0] != reply.token:
                log.debug("VM %s: stale reply (token %s) dropped", reply.vm, reply.token)
                return
            claimed = self._pending.pop(reply.vm)
            self.pools.store.after_rollback(lambda: self._pending.update({reply.vm: claimed}))
            name = claimed[1]
            vm = self.pools.vms.get(reply.vm)
            if name in ("reboot", "reset", "update_conf"):
                if not reply.ok:
                    vm.user_template.set("ERROR", f"{time.strftime('%c')}: {name}: {reply.error}")
                    self.pools.vms.save(vm)
                return
            phase = phase_of(vm)
            if phase in REPLIES:
                ok = reply.ok or self._moved_anyway(vm, phase, reply.error)
                self._finish_op(vm, phase, ok, reply.value, reply.error)

    @staticmethod
    def _moved_anyway(vm: Vm, phase: Phase, error: str) -> bool:
        """A live migration that failed after its guest moved: the VM follows the guest.

        Going back to the source would leave the guest running on the target,
        unknown to oned, even after the VM is DONE; the failure is reported.
        """
        if phase != MIGRATE or "migrate" not in _recorded_step(vm):
            return False
        vm.user_template.set("ERROR", f"{time.strftime('%c')}: migrate: the guest moved to "
                                      f"the target, then: {error}")
        return True

    def _finish_op(self, vm: Vm, phase: Phase, ok: bool, value: str | None, error: str) -> None:
        success, failure = REPLIES[phase]
        if phase in HOTPLUG_PHASES:
            self.logs.write(vm.oid, "LCM", "I" if ok else "E", devices.settle(self.pools, vm, ok))
        if phase in CHANGE_PHASES:  # back where it started; the change kept or undone
            op = changes.finish(self.pools, vm, ok, value)
            self._move(vm, success, error="" if ok else f"{op} failed: {error}")
            return
        if ok:
            if value:
                vm.deploy_id = value
            self._move(vm, success)
            return
        if phase in (SAVE_MIGRATE, MIGRATE):
            self._abort_migration(vm)
        self._move(vm, failure, error=f"{OPERATIONS[phase]} failed: {error}")

    def _left_source(self, vm: Vm) -> None:
        """A migration is past its source (saved, moved, or recovered): that record
        closes and the source's capacity frees, as oned does on save success."""
        self._close(vm, records.previous(vm))

    def _abort_migration(self, vm: Vm) -> None:
        """Back on the source host: drop the target's record and booking."""
        target = records.current(vm)
        if target is not None:
            self._release(vm, target["HID"])
        vm.history = vm.history[:-1]
        source = records.current(vm)
        if source is not None:
            source["ACTION"] = HistoryAction.NONE

    # -- monitoring and restart -----------------------------------------------------
    def poll(self, vid: int, result: VmPoll) -> None:
        """What the hypervisor says of a VM; posted by the monitor."""
        with self.pools.store.write():
            vm = self.pools.vms.find(vid)
            if vm is None or vm.state == VmState.DONE:
                return
            values = {"CPU": result.cpu, "MEMORY": result.memory, "NETRX": result.netrx,
                      "NETTX": result.nettx, "STATE": result.state.value, "ID": vid}
            extra = {k: v for k, v in result.extra.items() if vm.user_template.get(k) != v}
            to = None if vid in self._pending else POLL_MOVES.get((phase_of(vm), result.state))
            if to is None and not extra and all(vm.monitoring.get(k) == v for k, v in values.items()):
                return  # nothing new: no write (LAST_POLL is the last poll that changed something)
            vm.monitoring = {**values, "TIMESTAMP": records.now()}
            vm.last_poll = records.now()
            for key, value in extra.items():
                vm.user_template.set(key, value)
            if to is None:
                self.pools.vms.save(vm)
            else:
                host = (records.current(vm) or {}).get("HOSTNAME", "")
                self._move(vm, to, reason=f"{POLL_REASONS[result.state].format(host=host)}: "
                                          f"{phase_name(to)}")

    def host_lost(self, hid: int) -> None:
        """A host stopped answering: its running VMs are UNKNOWN until it does."""
        with self.pools.store.write():
            host = self.pools.hosts.find(hid)
            if host is None:
                return
            for vid in host.vms:
                vm = self.pools.vms.get(vid)
                if phase_of(vm) == RUNNING and vid not in self._pending:
                    self._move(vm, UNKNOWN,
                               reason=f"Host {host.name} does not answer the monitor: UNKNOWN")

    def resume_in_flight(self) -> int:
        """After a restart: resume the operation of every VM caught mid-way.

        Hypervisor steps the guest's poll shows done are not run again (see
        `operations`); the rest of the operation is idempotent and runs.
        """
        transitional = [vm.oid for vm in Vm.select(Vm.oid, Vm.state, Vm.lcm_state)
                        .where(Vm.state == VmState.ACTIVE) if phase_of(vm) in OPERATIONS]
        for vid in transitional:
            self._start(vid, OPERATIONS[phase_of(self.pools.vms.get(vid))], resumed=True)
        return len(transitional)
