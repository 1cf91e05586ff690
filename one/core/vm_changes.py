"""Changes to a VM where it is: snapshots, disk snapshots, disk resize, live resize,
configuration (one.vm.snapshot*, disksnapshot*, diskresize, resize on RUNNING, updateconf).

Each checks MANAGE (and the VM's lock), checks the phase as oned does (ACTION
error otherwise), writes the request into the VM, and hands the driver work
to the life cycle (`LifeCycle.begin_change`), all in one write: a refused
request leaves the VM, its host and quotas as they were.
"""
from __future__ import annotations

from typing import Callable

from one.core import locking, resize, snapshot_books as books
from one.core.auth import Session
from one.core.authz import MANAGE, require
from one.core.lifecycle import changes
from one.core.lifecycle.engine import LifeCycle, phase_name, phase_of
from one.core.lifecycle.phases import RUNNING
from one.core.restricted import RestrictedAttributes
from one.errors import ActionError, ApiError
from one.pool.models import Vm
from one.pool.pools import Pools
from one.pool.template import Template, parse
from one.states import LcmState, VmState

# one.vm.updateconf: the sections it changes and the attributes each may have (7.4).
CONF_SECTIONS: dict[str, tuple[str, ...] | None] = {
    "OS": ("ARCH", "MACHINE", "KERNEL", "INITRD", "BOOTLOADER", "BOOT", "KERNEL_CMD", "ROOT",
           "SD_DISK_BUS", "UUID", "FIRMWARE", "FIRMWARE_FORMAT"),
    "FEATURES": ("ACPI", "PAE", "APIC", "LOCALTIME", "HYPERV", "GUEST_AGENT",
                 "VIRTIO_SCSI_QUEUES", "VIRTIO_BLK_QUEUES", "IOTHREADS"),
    "INPUT": ("TYPE", "BUS"),
    "GRAPHICS": ("TYPE", "LISTEN", "PASSWD", "KEYMAP", "COMMAND", "PORT"),
    "VIDEO": ("TYPE", "IOMMU", "ATS", "VRAM", "RESOLUTION"),
    "RAW": ("DATA", "DATA_VMX", "TYPE", "VALIDATE"),
    "CPU_MODEL": ("MODEL", "FEATURES"),
    "CONTEXT": None,   # any attribute
}
# States in which updateconf is accepted (oned 7.4: running, pending, failure, poweroff,
# undeploy, hold, cloning); in RUNNING the driver applies it live.
_CONF_STATES = frozenset({VmState.INIT, VmState.PENDING, VmState.HOLD, VmState.POWEROFF,
                          VmState.UNDEPLOYED, VmState.CLONING, VmState.CLONING_FAILURE})


def _is_failure(vm: Vm) -> bool:
    return vm.state == VmState.ACTIVE and LcmState(vm.lcm_state).name.endswith("_FAILURE")


def _size(text: str) -> int:
    try:
        size = int(text.strip())
    except ValueError:
        raise ApiError(f"Wrong disk size '{text}': a whole number of MB.") from None
    return size


class VmChanges:
    def __init__(self, pools: Pools, lifecycle: LifeCycle,
                 restricted: RestrictedAttributes) -> None:
        self.pools, self.lifecycle, self.restricted = pools, lifecycle, restricted

    def _change(self, session: Session, vid: int, op: str,
                prepare: Callable[[Vm], dict[str, object]]) -> dict[str, object]:
        """Rights and lock, the phase, the request written (`prepare`), the change begun."""
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            require(session, vm, MANAGE, "VM")
            locking.check(vm, MANAGE, "VM")
            to = self.lifecycle.change_target(vm, op)
            args = prepare(vm)
            self.lifecycle.begin_change(vm, to, op, **args)
        return args

    # -- system snapshots ---------------------------------------------------------------
    def snapshot_create(self, session: Session, vid: int, name: str) -> int:
        def prepare(vm: Vm) -> dict[str, object]:
            snap_id = books.add_system_snapshot(vm, name)
            return {"SNAP_ID": snap_id, "NAME": books.system_snapshot(vm, snap_id)["NAME"]}
        return int(str(self._change(session, vid, "snapshot_create", prepare)["SNAP_ID"]))

    def snapshot_revert(self, session: Session, vid: int, snap_id: int) -> None:
        self._system(session, vid, snap_id, "snapshot_revert", "REVERT")

    def snapshot_delete(self, session: Session, vid: int, snap_id: int) -> None:
        self._system(session, vid, snap_id, "snapshot_delete", "DELETE")

    def _system(self, session: Session, vid: int, snap_id: int, op: str, action: str) -> None:
        def prepare(vm: Vm) -> dict[str, object]:
            snapshot = books.mark_system_snapshot(vm, snap_id, action)
            return {"SNAP_ID": snap_id, "HYPERVISOR_ID": snapshot.get("HYPERVISOR_ID", "")}
        self._change(session, vid, op, prepare)

    # -- disk snapshots -------------------------------------------------------------------
    def disk_snapshot_create(self, session: Session, vid: int, disk_id: int, name: str) -> int:
        def prepare(vm: Vm) -> dict[str, object]:
            if "IMAGE_ID" not in books.disk(vm, disk_id):
                raise ActionError(f"Cannot make snapshots on a volatile disk ({disk_id}).")
            snap_id = books.add_disk_snapshot(vm, disk_id, name)
            books.charge_snapshot(self.pools, vm, disk_id, snap_id, 1)
            return {"DISK_ID": disk_id, "SNAP_ID": snap_id}
        return int(str(self._change(session, vid, "disk_snapshot_create", prepare)["SNAP_ID"]))

    def disk_snapshot_revert(self, session: Session, vid: int, disk_id: int, snap_id: int) -> None:
        def prepare(vm: Vm) -> dict[str, object]:
            books.disk_snapshot(vm, disk_id, snap_id)
            return {"DISK_ID": disk_id, "SNAP_ID": snap_id}
        self._change(session, vid, "disk_snapshot_revert", prepare)

    def disk_snapshot_delete(self, session: Session, vid: int, disk_id: int, snap_id: int) -> None:
        def prepare(vm: Vm) -> dict[str, object]:
            books.check_delete(vm, disk_id, snap_id)
            return {"DISK_ID": disk_id, "SNAP_ID": snap_id}
        self._change(session, vid, "disk_snapshot_delete", prepare)

    def disk_snapshot_rename(self, session: Session, vid: int, disk_id: int, snap_id: int,
                             name: str) -> None:
        """Only the books change: no driver, any state but DONE."""
        if not name.strip():
            raise ApiError("The new snapshot name is empty.")
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            require(session, vm, MANAGE, "VM")
            locking.check(vm, MANAGE, "VM")
            if vm.state == VmState.DONE:
                raise ActionError(f"Wrong state to rename a disk snapshot of VM [{vid}]: DONE.")
            books.rename_disk_snapshot(vm, disk_id, snap_id, name.strip())
            self.pools.vms.save(vm)

    # -- resizes ------------------------------------------------------------------------------
    def disk_resize(self, session: Session, vid: int, disk_id: int, size_text: str) -> None:
        """Grow a disk (MB); SYSTEM_DISK_SIZE quota charged now, refunded if the driver fails."""
        size = _size(size_text)

        def prepare(vm: Vm) -> dict[str, object]:
            old = int(books.disk(vm, disk_id).get("SIZE", "0") or 0)
            if size <= old:
                raise ActionError(f"New disk size ({size} MB) has to be greater than the "
                                  f"current one ({old} MB).")
            books.set_disk_size(self.pools, vm, disk_id, size)
            return {"DISK_ID": disk_id, "SIZE": size, "SIZE_PREV": old}
        self._change(session, vid, "disk_resize", prepare)

    def resize_live(self, vm: Vm, new: dict[str, str]) -> None:
        """one.vm.resize of a RUNNING VM (inside its write): host capacity and quotas
        checked and charged now, undone if the driver cannot (HOTPLUG_RESIZE)."""
        if phase_of(vm) != RUNNING:
            raise ActionError(f"Cannot resize a VM in state {phase_name(phase_of(vm))}.")
        undo = {name: vm.template.get(name) or "" for name in new}   # "": was not set
        resize.apply(self.pools, vm, new)
        self.lifecycle.begin_change(vm, self.lifecycle.change_target(vm, "resize"), "resize",
                                    UNDO=undo)

    # -- configuration ---------------------------------------------------------------------------
    def update_conf(self, session: Session, vid: int, text: str, append: int = 0) -> None:
        """OS, FEATURES, INPUT, GRAPHICS, VIDEO, RAW, CPU_MODEL, CONTEXT: with `append` 0
        each section given replaces the VM's and the others go (CONTEXT stays unless given);
        with 1 the given attributes are merged in. In RUNNING the driver applies it live."""
        given = parse(text, self.pools.limits)
        self.restricted.check(session, "VM", given)
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            require(session, vm, MANAGE, "VM")
            locking.check(vm, MANAGE, "VM")
            running = phase_of(vm) == RUNNING
            if vm.state not in _CONF_STATES and not running and not _is_failure(vm):
                raise ActionError(f"Wrong state to perform action updateconf on VM [{vid}]: "
                                  f"{phase_name(phase_of(vm))}.")
            _update_sections(vm.template, given, bool(append))
            self.pools.vms.save(vm)
            if running:
                self.lifecycle.reconfigure(vid)


def _update_sections(template: Template, given: Template, append: bool) -> None:
    for name, allowed in CONF_SECTIONS.items():
        new = given.vector(name)
        old = template.vector(name) or {}
        if new is None:
            if not append and name != "CONTEXT":
                template.remove(name)
            continue
        kept = {k: v for k, v in new.items() if allowed is None or k in allowed}
        if name == "GRAPHICS" and "PORT" in old:
            kept.setdefault("PORT", old["PORT"])   # the VNC port oned gave stays the VM's
        template.set(name, {**old, **kept} if append else kept)
