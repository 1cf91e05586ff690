"""The books of a VM's snapshots and disk sizes, as oned keeps them.

System snapshots are SNAPSHOT vectors of the VM's TEMPLATE (vm.xsd:
SNAPSHOT_ID, NAME, TIME, HYPERVISOR_ID, SYSTEM_DISK_SIZE, ACTIVE on the one
the guest last came from, ACTION while the driver works on it). Disk
snapshots are a tree per disk in the VM's `snapshots` column, rendered as
VM/SNAPSHOTS (DISK_ID, ALLOW_ORPHANS, CURRENT_BASE, NEXT_SNAPSHOT, SNAPSHOT*
with ID, NAME, DATE, PARENT, CHILDREN, SIZE, ACTIVE). The API writes a
request here before the driver runs; `*_done` keeps or undoes it.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from one.core import quotas
from one.errors import ActionError
from one.pool.models import Vm
from one.pool.pools import Pools
from one.pool.template import Template


def _replace(template: Template, name: str, vectors: list[dict[str, str]]) -> None:
    template.remove(name)
    for vector in vectors:
        template.add(name, vector)


# -- system snapshots ---------------------------------------------------------------------
def system_snapshot(vm: Vm, snap_id: int) -> dict[str, str]:
    found = next((s for s in vm.template.vectors("SNAPSHOT")
                  if s.get("SNAPSHOT_ID") == str(snap_id)), None)
    if found is None:
        raise ActionError(f"VM [{vm.oid}] has no snapshot {snap_id}.")
    return found


def add_system_snapshot(vm: Vm, name: str) -> int:
    """A new snapshot, being created (ACTION CREATE); its id is one past the highest."""
    taken = [int(s.get("SNAPSHOT_ID", "-1")) for s in vm.template.vectors("SNAPSHOT")]
    snap_id = max(taken, default=-1) + 1
    vm.template.add("SNAPSHOT", {
        "ACTION": "CREATE", "HYPERVISOR_ID": "", "NAME": name or f"snapshot-{snap_id}",
        "SNAPSHOT_ID": str(snap_id), "SYSTEM_DISK_SIZE": "0", "TIME": str(int(time.time()))})
    return snap_id


def mark_system_snapshot(vm: Vm, snap_id: int, action: str) -> dict[str, str]:
    """ACTION REVERT or DELETE on an existing snapshot, which no other action holds."""
    snapshot = system_snapshot(vm, snap_id)
    _edit_system(vm, snap_id, lambda s: {**s, "ACTION": action})
    return snapshot


def _edit_system(vm: Vm, snap_id: int,
                 edit: Callable[[dict[str, str]], dict[str, str] | None]) -> None:
    """Each snapshot through `edit` (None drops it); the one of `snap_id` gets it, others
    lose ACTIVE when `edit` makes this one ACTIVE."""
    old = vm.template.vectors("SNAPSHOT")
    new = [edit(s) if s.get("SNAPSHOT_ID") == str(snap_id) else dict(s) for s in old]
    if any(s and s.get("SNAPSHOT_ID") == str(snap_id) and s.get("ACTIVE") for s in new):
        for s in new:
            if s and s.get("SNAPSHOT_ID") != str(snap_id):
                s.pop("ACTIVE", None)
    _replace(vm.template, "SNAPSHOT", [s for s in new if s])


def system_snapshot_done(vm: Vm, op: str, snap_id: int, ok: bool, hypervisor_id: str,
                         now: int) -> None:
    """The driver answered: a created or reverted-to snapshot becomes ACTIVE, a deleted
    one goes; a failed creation is dropped, any other failure leaves things as they were."""
    def edit(s: dict[str, str]) -> dict[str, str] | None:
        s = {k: v for k, v in s.items() if k != "ACTION"}
        if op == "snapshot_create":
            return {**s, "ACTIVE": "YES", "HYPERVISOR_ID": hypervisor_id, "TIME": str(now)} \
                if ok else None
        if op == "snapshot_revert" and ok:
            return {**s, "ACTIVE": "YES"}
        return None if op == "snapshot_delete" and ok else s
    _edit_system(vm, snap_id, edit)


# -- disks ----------------------------------------------------------------------------------
def disk(vm: Vm, disk_id: int) -> dict[str, str]:
    found = next((d for d in vm.template.vectors("DISK") if d.get("DISK_ID") == str(disk_id)), None)
    if found is None:
        raise ActionError(f"VM [{vm.oid}] has no disk {disk_id}.")
    return found


def _edit_disk(vm: Vm, disk_id: int, **attrs: str) -> None:
    _replace(vm.template, "DISK", [dict(d, **attrs) if d.get("DISK_ID") == str(disk_id) else d
                                   for d in vm.template.vectors("DISK")])


def set_disk_size(pools: Pools, vm: Vm, disk_id: int, size: int) -> None:
    """A disk's new SIZE (MB); SYSTEM_DISK_SIZE quota charged (or refunded) by the difference."""
    before = quotas.system_disk_size(vm.template)
    _edit_disk(vm, disk_id, SIZE=str(size))
    delta = quotas.system_disk_size(vm.template) - before
    if delta:
        quotas.charge(pools, vm.uid, vm.gid, {"VM": {"": {"SYSTEM_DISK_SIZE": delta}}},
                      enforce=delta > 0)


# -- disk snapshots ---------------------------------------------------------------------------
def _tree(vm: Vm, disk_id: int, create: bool = False) -> dict[str, Any]:
    tree = next((t for t in vm.snapshots if t["DISK_ID"] == disk_id), None)
    if tree is None:
        if not create:
            raise ActionError(f"Disk {disk_id} of VM [{vm.oid}] has no snapshots.")
        tree = {"DISK_ID": disk_id, "ALLOW_ORPHANS": "NO", "CURRENT_BASE": -1,
                "NEXT_SNAPSHOT": 0, "SNAPSHOT": []}
        vm.snapshots = sorted([*vm.snapshots, tree], key=lambda t: t["DISK_ID"])
    return tree


def disk_snapshot(vm: Vm, disk_id: int, snap_id: int) -> dict[str, Any]:
    found = next((s for s in _tree(vm, disk_id)["SNAPSHOT"] if s["ID"] == snap_id), None)
    if found is None:
        raise ActionError(f"Disk {disk_id} of VM [{vm.oid}] has no snapshot {snap_id}.")
    return found


def has_disk_snapshot(vm: Vm, disk_id: int, snap_id: int) -> bool:
    return any(s["ID"] == snap_id for t in vm.snapshots if t["DISK_ID"] == disk_id
               for s in t["SNAPSHOT"])


def _children(snapshot: dict[str, Any]) -> list[int]:
    return [int(c) for c in str(snapshot.get("CHILDREN", "")).split(",") if c]


def _set_children(snapshot: dict[str, Any], children: list[int]) -> None:
    snapshot.pop("CHILDREN", None)
    if children:
        snapshot["CHILDREN"] = ",".join(map(str, children))


def _saved(vm: Vm, disk_id: int) -> None:
    """Write the trees back (the column is JSON) and the disk's DISK_SNAPSHOT_TOTAL_SIZE."""
    vm.snapshots = [t for t in vm.snapshots if t["SNAPSHOT"]]
    trees = [t for t in vm.snapshots if t["DISK_ID"] == disk_id]
    total = sum(int(s["SIZE"]) for t in trees for s in t["SNAPSHOT"])
    _edit_disk(vm, disk_id, DISK_SNAPSHOT_TOTAL_SIZE=str(total))


def add_disk_snapshot(vm: Vm, disk_id: int, name: str) -> int:
    """A snapshot of the disk as it is now, child of the snapshot it was reverted to."""
    size = int(disk(vm, disk_id).get("SIZE", "0") or 0)
    tree = _tree(vm, disk_id, create=True)
    snap_id = tree["NEXT_SNAPSHOT"]
    tree["NEXT_SNAPSHOT"] = snap_id + 1
    parent = tree["CURRENT_BASE"]
    tree["SNAPSHOT"].append({"DATE": int(time.time()), "ID": snap_id,
                             "NAME": name or f"snapshot-{snap_id}", "PARENT": parent,
                             "SIZE": size})
    if parent >= 0:
        base = disk_snapshot(vm, disk_id, parent)
        _set_children(base, _children(base) + [snap_id])
    _saved(vm, disk_id)
    return snap_id


def charge_snapshot(pools: Pools, vm: Vm, disk_id: int, snap_id: int, sign: int) -> None:
    """The snapshot's SIZE charged (sign 1: refused past a limit) or refunded (-1) to whoever
    pays the disk's snapshots (`quotas.snapshot_charges`)."""
    size = int(disk_snapshot(vm, disk_id, snap_id)["SIZE"])
    for uid, gid, usage in quotas.snapshot_charges(pools, vm, disk(vm, disk_id), size):
        (quotas.charge if sign > 0 else quotas.release)(pools, uid, gid, usage)


def check_delete(vm: Vm, disk_id: int, snap_id: int) -> None:
    """oned's rules: not the active snapshot, nor one with children (ALLOW_ORPHANS NO)."""
    snapshot = disk_snapshot(vm, disk_id, snap_id)
    if snapshot.get("ACTIVE") == "YES":
        raise ActionError(f"Cannot delete snapshot {snap_id} of disk {disk_id}: it is the "
                          "active snapshot.")
    if _children(snapshot) and _tree(vm, disk_id)["ALLOW_ORPHANS"] == "NO":
        raise ActionError(f"Cannot delete snapshot {snap_id} of disk {disk_id}: it has children.")
    if disk(vm, disk_id).get("SAVE_AS_SNAPSHOT_ID") == str(snap_id):
        raise ActionError(f"Cannot delete snapshot {snap_id} of disk {disk_id}: it is to be "
                          f"saved as image {disk(vm, disk_id)['SAVE_AS']}.")


def rename_disk_snapshot(vm: Vm, disk_id: int, snap_id: int, name: str) -> None:
    disk_snapshot(vm, disk_id, snap_id)["NAME"] = name
    vm.snapshots = list(vm.snapshots)


def _drop(vm: Vm, disk_id: int, snap_id: int) -> None:
    tree = _tree(vm, disk_id)
    snapshot = disk_snapshot(vm, disk_id, snap_id)
    tree["SNAPSHOT"] = [s for s in tree["SNAPSHOT"] if s["ID"] != snap_id]
    for other in tree["SNAPSHOT"]:
        _set_children(other, [c for c in _children(other) if c != snap_id])
    if tree["CURRENT_BASE"] == snap_id:
        tree["CURRENT_BASE"] = snapshot["PARENT"]


def _activate(vm: Vm, disk_id: int, snap_id: int) -> None:
    tree = _tree(vm, disk_id)
    for snapshot in tree["SNAPSHOT"]:
        snapshot.pop("ACTIVE", None)
        if snapshot["ID"] == snap_id:
            snapshot["ACTIVE"] = "YES"
    tree["CURRENT_BASE"] = snap_id


def disk_snapshot_done(vm: Vm, op: str, disk_id: int, snap_id: int, ok: bool) -> None:
    """A created or reverted-to snapshot becomes the active one and the base of the disk;
    a deleted one goes, as does a creation that failed."""
    if not any(t["DISK_ID"] == disk_id for t in vm.snapshots):
        return
    if op == "disk_snapshot_create":
        (_activate if ok else _drop)(vm, disk_id, snap_id)
    elif op == "disk_snapshot_revert" and ok:
        _activate(vm, disk_id, snap_id)
    elif op == "disk_snapshot_delete" and ok:
        _drop(vm, disk_id, snap_id)
    _saved(vm, disk_id)
