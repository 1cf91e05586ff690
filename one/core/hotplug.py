"""one.vm.attach, detach, attachnic and detachnic: devices of a VM that exists.

oned 7's rules: a disk is hotplugged into a RUNNING VM (HOTPLUG: its file is
made on the host, then the VMM gives it to the guest) or into a POWEROFF one
(HOTPLUG_PROLOG_POWEROFF / HOTPLUG_EPILOG_POWEROFF: the file only); a NIC
into a RUNNING VM (HOTPLUG_NIC: network drivers and VMM) or a POWEROFF one,
where it is only a change of the template. Any other state is an ACTION
error. What a device takes (image, lease, quota) is taken here, in the
write that marks it in flight; `devices.settle` keeps it or gives it back
when the driver answers. Rights: MANAGE on the VM (its lock at that level),
USE on the image or network named.
"""
from __future__ import annotations

from one.core import devices, leases, quotas
from one.core.auth import Session
from one.core.authz import MANAGE
from one.core.images import attach_disks, free_target
from one.core.lifecycle.engine import LifeCycle, phase_name, phase_of
from one.core.lifecycle.phases import (
    HOTPLUG, HOTPLUG_EPILOG_POWEROFF, HOTPLUG_NIC, HOTPLUG_PROLOG_POWEROFF, POWEROFF, RUNNING)
from one.core.lifecycle import records
from one.core.ownership import referenced
from one.core.vms import VmManager
from one.errors import ActionError, AllocateError, AuthorizationError
from one.pool.models import Vm, Vnet
from one.pool.template import Template, parse
from one.states import HistoryAction

_VOLATILE_TYPES = ("fs", "swap")


class Hotplug:
    def __init__(self, vms: VmManager, lifecycle: LifeCycle) -> None:
        self.vms, self.lifecycle, self.pools = vms, lifecycle, vms.pools

    def _vector(self, session: Session, vid: int, text: str, kind: str) -> dict[str, str]:
        """The one DISK or NIC vector of the template given, its rights checked."""
        self.vms.authorize(session, vid, MANAGE)
        template = parse(text, self.pools.limits)
        vector = template.vector(kind)
        if vector is None:
            raise ActionError(f"The template has no {kind} vector to attach.")
        self.vms.restricted.check(session, "VM", Template([(kind, vector)]))
        return vector

    def attach_disk(self, session: Session, vid: int, text: str) -> None:
        given = self._vector(session, vid, text, "DISK")
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            to = {RUNNING: HOTPLUG, POWEROFF: HOTPLUG_PROLOG_POWEROFF}.get(phase_of(vm))
            if to is None:
                raise _wrong_state(vm, "attach a new disk to")
            devices.fix_context_id(vm)
            disk = self._disk(session, vm, dict(given, DISK_ID=str(devices.next_id(vm, "DISK"))))
            quotas.charge(self.pools, vm.uid, vm.gid, devices.usage("DISK", disk))
            vm.template.add("DISK", {**disk, devices.ATTACH: "YES"})
            self.lifecycle.hotplug(vm, to, HistoryAction.DISK_ATTACH)

    def _disk(self, session: Session, vm: Vm, disk: dict[str, str]) -> dict[str, str]:
        """An image disk resolved (the image taken) or a volatile one checked."""
        used = _targets(vm)
        try:
            if "IMAGE" in disk or "IMAGE_ID" in disk:
                return attach_disks(self.pools, session, [disk], vm.oid, frozenset(used))[0]
            size = disk.get("SIZE", "")
            if disk.get("TYPE", "").lower() not in _VOLATILE_TYPES or not size.isdigit() or not int(size):
                raise ActionError("A DISK without IMAGE or IMAGE_ID is volatile: it needs TYPE "
                                  "fs or swap and a SIZE in MB.")
            target = disk.get("TARGET") or free_target(used, disk.get("DEV_PREFIX") or "hd")
            driver = disk.get("FORMAT") or disk.get("DRIVER") or "raw"
            return {**disk, "TARGET": target, "FORMAT": driver, "DRIVER": driver}
        except AllocateError as exc:   # an image missing or busy: oned's attach fails (ACTION)
            raise ActionError(exc.message) from None

    def detach_disk(self, session: Session, vid: int, disk_id: int) -> None:
        self.vms.authorize(session, vid, MANAGE)
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            to = {RUNNING: HOTPLUG, POWEROFF: HOTPLUG_EPILOG_POWEROFF}.get(phase_of(vm))
            if to is None:
                raise _wrong_state(vm, "detach disk from")
            disk = devices.find(vm, "DISK", disk_id)
            if disk is None:
                raise ActionError(f"Could not detach disk with DISK_ID {disk_id}, it does not exist.")
            devices.fix_context_id(vm)
            devices.replace(vm, "DISK", disk, {**disk, devices.DETACH: "YES"})
            self.lifecycle.hotplug(vm, to, HistoryAction.DISK_DETACH)

    def attach_nic(self, session: Session, vid: int, text: str) -> None:
        given = self._vector(session, vid, text, "NIC")
        vnet = referenced_network(session, given)
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            if phase_of(vm) not in (RUNNING, POWEROFF):
                raise _wrong_state(vm, "add a new NIC to")
            nic = dict(given, NIC_ID=str(devices.next_id(vm, "NIC")))
            if vnet is not None:
                vnet = self.pools.vnets.get(vnet.oid)
                try:
                    ar, index = leases.take(vnet, vid, ip=nic.get("IP"), mac=nic.get("MAC"))
                except AllocateError as exc:
                    raise ActionError(exc.message) from None
                nic.update(VmManager._lease_attrs(vnet, ar, index))
                self.pools.vnets.save(vnet, lazy=True)
            quotas.charge(self.pools, vm.uid, vm.gid, devices.usage("NIC", nic))
            self._change(vm, "NIC", None, nic, HistoryAction.NIC_ATTACH)

    def detach_nic(self, session: Session, vid: int, nic_id: int) -> None:
        self.vms.authorize(session, vid, MANAGE)
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            if phase_of(vm) not in (RUNNING, POWEROFF):
                raise _wrong_state(vm, "detach NIC from")
            nic = devices.find(vm, "NIC", nic_id)
            if nic is None:
                raise ActionError(f"Could not detach NIC with NIC_ID {nic_id}, it does not exist.")
            self._change(vm, "NIC", nic, None, HistoryAction.NIC_DETACH)

    def _change(self, vm: Vm, kind: str, old: dict[str, str] | None, new: dict[str, str] | None,
                action: int) -> None:
        """A running VM's NIC goes to its drivers (HOTPLUG_NIC); a powered-off one's
        is only written (a NIC detached frees its lease at once), as oned does."""
        if phase_of(vm) == RUNNING:
            if old is None and new is not None:
                vm.template.add(kind, {**new, devices.ATTACH: "YES"})
            elif old is not None:
                devices.replace(vm, kind, old, {**old, devices.DETACH: "YES"})
            self.lifecycle.hotplug(vm, HOTPLUG_NIC, action)
            return
        if old is None and new is not None:
            vm.template.add(kind, new)
        elif old is not None:
            devices.release(self.pools, vm, kind, old)
            devices.replace(vm, kind, old, None)
        records.copy_record(vm, action, running=False)
        self.pools.vms.save(vm)
        self.lifecycle.logs.write(vm.oid, "DiM", "I", f"VM {kind} successfully "
                                  f"{'attached' if old is None else 'detached'}.")


def referenced_network(session: Session, nic: dict[str, str]) -> Vnet | None:
    """The NIC's network (USE checked); a NIC without one is the oneadmin group's to write."""
    try:
        vnet = referenced(session, Vnet, nic, "NETWORK", "virtual network")
    except AllocateError as exc:
        raise ActionError(exc.message) from None
    if vnet is None and not session.is_admin:
        raise AuthorizationError("The NIC names no NETWORK: only the oneadmin group may write "
                                 "a NIC by hand (BRIDGE, MAC, IP without a lease).")
    return vnet


def _targets(vm: Vm) -> set[str]:
    """The devices the guest has: a disk (and the CONTEXT CD-ROM) without TARGET gets
    the first free one of its prefix at deployment, in order, so it holds that one."""
    used: set[str] = set()
    for vector in vm.template.vectors("DISK") + vm.template.vectors("CONTEXT"):
        used.add(vector.get("TARGET") or free_target(used, vector.get("DEV_PREFIX") or "hd"))
    return used


def _wrong_state(vm: Vm, what: str) -> ActionError:
    """oned's wording: `Could not attach a new disk to VM 3, wrong state POWEROFF.`"""
    return ActionError(f"Could not {what} VM {vm.oid}, wrong state {phase_name(phase_of(vm))}.")
