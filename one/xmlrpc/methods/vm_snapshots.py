"""one.vm.snapshot*, disksnapshot*, diskresize and updateconf: changes to a VM in place."""
from __future__ import annotations

from one.core.managers import Managers
from one.xmlrpc.api import Api, I, S, returns_id


def register(api: Api, m: Managers) -> None:
    changes = m.vms.changes
    api.add("one.vm.snapshotcreate", [I("id"), S("name", "")], changes.snapshot_create,
            "Takes a system snapshot of a RUNNING VM; returns its SNAPSHOT_ID.")
    api.add("one.vm.snapshotrevert", [I("id"), I("snap_id")], returns_id(changes.snapshot_revert),
            "Reverts a RUNNING VM to a system snapshot.")
    api.add("one.vm.snapshotdelete", [I("id"), I("snap_id")], returns_id(changes.snapshot_delete),
            "Deletes a system snapshot of a RUNNING VM.")
    api.add("one.vm.disksnapshotcreate", [I("id"), I("disk_id"), S("name", "")],
            changes.disk_snapshot_create,
            "Snapshot of a disk (RUNNING, POWEROFF, SUSPENDED); returns the snapshot ID.")
    api.add("one.vm.disksnapshotrevert", [I("id"), I("disk_id"), I("snap_id")],
            returns_id(changes.disk_snapshot_revert), "Reverts a disk to a snapshot (POWEROFF).")
    api.add("one.vm.disksnapshotdelete", [I("id"), I("disk_id"), I("snap_id")],
            returns_id(changes.disk_snapshot_delete),
            "Deletes a disk snapshot (RUNNING, POWEROFF, SUSPENDED).")
    api.add("one.vm.disksnapshotrename", [I("id"), I("disk_id"), I("snap_id"), S("name")],
            returns_id(changes.disk_snapshot_rename), "Renames a disk snapshot.")
    api.add("one.vm.diskresize", [I("id"), I("disk_id"), S("size")],
            returns_id(changes.disk_resize), "Grows a disk to SIZE MB (RUNNING, POWEROFF).")
    api.add("one.vm.updateconf", [I("id"), S("template"), I("append", 0)],
            returns_id(changes.update_conf),
            "Changes OS, FEATURES, INPUT, GRAPHICS, VIDEO, RAW, CPU_MODEL, CONTEXT "
            "(0 replace, 1 merge); applied live on a RUNNING VM.")
