"""Changes to a VM in place: system and disk snapshots, disk resize, live resize.

The API records what is asked in the VM (a SNAPSHOT with its ACTION, a disk
snapshot, a disk's new SIZE, the new capacity) together with a CHANGE entry in
the current history record, which says which driver action to run and how to
undo the request; then the VM enters the change's phase (HOTPLUG_SNAPSHOT,
DISK_SNAPSHOT*, DISK_RESIZE*, HOTPLUG_RESIZE). The CHANGE entry outlives a
restart of oned, so a change caught mid-way runs again (driver actions are
idempotent). When the driver answers, `finish` keeps or undoes the request and
the VM goes back to the phase it started from.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from one.core import context, resize, snapshot_books as books, transfer
from one.core.lifecycle import records
from one.core.lifecycle.operations import Drivers, Operation
from one.plugins.drivers import TMDriver, VMMDriver
from one.plugins.views import HostView, VmView
from one.pool.models import Vm
from one.pool.pools import Pools
from one.states import HistoryAction, LcmState

CHANGE = "CHANGE"
# HISTORY/ACTION each change leaves on the VM's record: the HistoryAction of its name.
ACTION_CODES = {op: HistoryAction[op.upper()] for op in (
    "disk_snapshot_create", "disk_snapshot_delete", "disk_resize", "resize", "snapshot_create",
    "snapshot_delete", "snapshot_revert", "disk_snapshot_revert")}
# The engine's operations built here: a change's phase, and a live reconfiguration.
NAMES = frozenset({"change", "update_conf"})


def record(vm: Vm, op: str, **args: Any) -> None:
    """Note the change to run (inside the write that moves the VM to its phase)."""
    current = records.current(vm)
    if current is None:
        raise RuntimeError(f"VM {vm.oid} has no history record for {op}")
    current[CHANGE] = {"OP": op, **args}
    if not current["ETIME"]:   # an UNDEPLOYED VM's closed record keeps its action, as in oned
        current["ACTION"] = int(ACTION_CODES[op])


def pending(vm: Vm) -> dict[str, Any]:
    current = records.current(vm)
    return dict(current.get(CHANGE) or {}) if current else {}


def _update_conf(vm: VmView, host: HostView, vmm: VMMDriver, tm: TMDriver | None) -> None:
    """The CONTEXT CD-ROM written and copied again (as at prolog), then the driver applies."""
    steps = [step for step in transfer.prolog(vm) if step.op == "CONTEXT"]
    if steps and tm is not None:
        context.build_iso(transfer.context_iso(vm), vm)
        tm.execute(vm, steps)
    vmm.update_conf(vm, host)


def _resize_undeployed(vm: VmView, tm: TMDriver | None, disk_id: int) -> None:
    """Off every host, the disk is grown by the transfer driver where undeploy left it."""
    if tm is None:
        raise RuntimeError(f"VM {vm.id} has no transfer driver")
    disk = next(d for d in vm.template.vectors("DISK") if d.get("DISK_ID") == str(disk_id))
    tm.execute(vm, transfer.resize(vm, disk))


def operation(d: Drivers, name: str, change: dict[str, Any]) -> Operation:
    """The driver call of the change; a driver that lacks it fails it (ActionNotSupported)."""
    vmm, host, vm = d.vmm, d.host, d.vm
    if change.get("OP") == "disk_resize" and vm.lcm_state == LcmState.DISK_RESIZE_UNDEPLOYED:
        return lambda: _resize_undeployed(vm, d.tm, change["DISK_ID"])
    if vmm is None or host is None:
        raise RuntimeError(f"VM {vm.id} is on no host with a virtualization driver")
    op = change.get("OP", "") if name == "change" else name
    calls: dict[str, Callable[[], str | None]] = {
        "snapshot_create": lambda: vmm.snapshot_create(vm, host, change["SNAP_ID"], change["NAME"]),
        "snapshot_revert": lambda: vmm.snapshot_revert(vm, host, change["HYPERVISOR_ID"]),
        "snapshot_delete": lambda: vmm.snapshot_delete(vm, host, change["HYPERVISOR_ID"]),
        "disk_snapshot_create": lambda: vmm.disk_snapshot_create(
            vm, host, change["DISK_ID"], change["SNAP_ID"]),
        "disk_snapshot_revert": lambda: vmm.disk_snapshot_revert(
            vm, host, change["DISK_ID"], change["SNAP_ID"]),
        "disk_snapshot_delete": lambda: vmm.disk_snapshot_delete(
            vm, host, change["DISK_ID"], change["SNAP_ID"]),
        "disk_resize": lambda: vmm.disk_resize(vm, host, change["DISK_ID"], change["SIZE"]),
        "resize": lambda: vmm.resize(vm, host),
        "update_conf": lambda: _update_conf(vm, host, vmm, d.tm),
    }
    if op not in calls:
        raise RuntimeError(f"VM {vm.id}: no change recorded to run (found {change!r})")
    return calls[op]


def finish(pools: Pools, vm: Vm, ok: bool, value: str | None) -> str:
    """Keep (ok) or undo the change the driver answered for, and forget it; its name."""
    change = pending(vm)
    current = records.current(vm)
    if current is not None:
        current.pop(CHANGE, None)
    op = change.get("OP")
    if op in ("snapshot_create", "snapshot_revert", "snapshot_delete"):
        books.system_snapshot_done(vm, op, int(change["SNAP_ID"]), ok, value or "",
                                   int(time.time()))
    elif op in ("disk_snapshot_create", "disk_snapshot_revert", "disk_snapshot_delete"):
        disk_id, snap_id = int(change["DISK_ID"]), int(change["SNAP_ID"])
        if (op == "disk_snapshot_create" and not ok) or (op == "disk_snapshot_delete" and ok):
            books.charge_snapshot(pools, vm, disk_id, snap_id, -1)   # the snapshot goes
        books.disk_snapshot_done(vm, op, disk_id, snap_id, ok)
    elif op == "disk_resize" and not ok:
        books.set_disk_size(pools, vm, int(change["DISK_ID"]), int(change["SIZE_PREV"]))
    elif op == "resize" and not ok:
        undo: dict[str, str] = change["UNDO"]
        resize.apply(pools, vm, {k: v for k, v in undo.items() if v}, enforce=False)
        for name in (k for k, v in undo.items() if not v):
            vm.template.remove(name)
    return str(op or "change")
