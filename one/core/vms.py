"""Virtual machines: allocation and the actions that need no driver.

Allocation turns a submitted template into a VM: system and user halves,
NIC leases taken from networks, DISK ids, VNC port, `$VARIABLES` expanded in
CONTEXT and REQUIREMENTS, all in one transaction so a failure leaves nothing.
"""
from __future__ import annotations

import time
from typing import Any

from one.config import Config
from one.core import leases, locking, placement, quotas, resize, sched_actions
from one.core import snapshot_books as books
from one.core.auth import Session
from one.core.authz import ADMIN, MANAGE, require, require_create
from one.core.images import ImageManager, attach_disks, files_ds
from one.core.lifecycle.engine import LifeCycle
from one.core.ownership import check_name, referenced, updated_template
from one.core.quantities import (
    MAX_CPU, MAX_DISK_SIZE, MAX_MEMORY, MAX_VCPU, capacity, parse_float, parse_int,
)
from one.core.restricted import RestrictedAttributes
from one.core.vm_changes import VmChanges
from one.core.vnets import VnetManager
from one.errors import ActionError, AllocateError, ApiError, AuthorizationError, InternalError
from one.pool import address_range as ars
from one.pool.models import Vm, Vnet
from one.pool.pools import Pools
from one.pool.render.vm_template import split
from one.pool.template import Template, parse
from one.pool.template_vars import substitute_template
from one.states import LcmState, VmState

# Classic (1.4-4.x) action names and what they are today.
ACTION_ALIASES = {"shutdown": "terminate", "shutdown-hard": "terminate-hard",
                  "cancel": "terminate-hard", "finalize": "delete", "delete": "delete",
                  "resubmit": "delete-recreate", "restart": "resume"}
# Classic verbs that only ever applied to a running VM (terminate also takes queued ones).
_RUNNING_ONLY = {"shutdown", "shutdown-hard", "cancel", "restart"}
# States from which a VM goes back to PENDING, to be placed again.
_UNPLACED = (VmState.HOLD, VmState.STOPPED, VmState.UNDEPLOYED)
ACTIONS = {"terminate", "terminate-hard", "undeploy", "undeploy-hard", "poweroff",
           "poweroff-hard", "reboot", "reboot-hard", "hold", "release", "stop", "suspend",
           "resume", "resched", "unresched", "delete", "delete-recreate"}
_NIC_FROM_VNET = ("BRIDGE", "BRIDGE_TYPE", "VN_MAD", "PHYDEV", "VLAN_ID")
# Network attributes a NIC inherits (from its range, else the network), for context.
_NIC_INHERITED = ("GATEWAY", "DNS", "NETWORK_MASK", "NETWORK_ADDRESS", "MTU", "SEARCH_DOMAIN",
                  "GATEWAY6")


def _check_capacity(template: Template) -> None:
    """MEMORY and CPU are required, VCPU and disk SIZEs optional; all finite and
    within what the books hold (OpenNebula's checks, plus the upper bounds)."""
    capacity(template.get("MEMORY"), "MEMORY", parse_int, MAX_MEMORY)
    capacity(template.get("CPU"), "CPU", parse_float, MAX_CPU)
    if template.get("VCPU") is not None:
        capacity(template.get("VCPU"), "VCPU", parse_int, MAX_VCPU)
    for disk in template.vectors("DISK"):
        if "SIZE" in disk:
            capacity(disk["SIZE"], "DISK SIZE", parse_int, MAX_DISK_SIZE, positive=False)


def _wrong_state(vm: Vm, action: str) -> ActionError:
    return ActionError(f"Wrong state to perform action {action} on VM [{vm.oid}]: "
                       f"{VmState(vm.state).name}.")


class VmManager(locking.Lockable[Vm]):
    """`get` (and `authorize`) respect the VM's lock: every operation of the lock's
    level and above is refused (LOCKED); `visible` reads it whatever its lock."""

    kind = "VM"

    def __init__(self, pools: Pools, config: Config, vnets: VnetManager,
                 lifecycle: LifeCycle, images: ImageManager) -> None:
        self.pools = pools
        self.pool = pools.vms
        self.config = config
        self.vnets = vnets
        self.lifecycle = lifecycle
        self.images = images
        self.restricted = RestrictedAttributes(config)
        self.changes = VmChanges(pools, lifecycle, self.restricted)

    def authorize(self, session: Session, vid: int, right: int) -> None:
        """The right checked on the owner columns only: the VM to change is loaded
        again inside the write that saves it."""
        vm = self.pools.vms.peek(vid, Vm.uid, Vm.gid, Vm.perms, Vm.lock)
        require(session, vm, right, "VM")
        locking.check(vm, right, "VM")

    # -- allocation ---------------------------------------------------------
    def allocate(self, session: Session, text: str, hold: bool = False) -> int:
        return self.create(session, parse(text, self.pools.limits), hold)

    def create(self, session: Session, template: Template, hold: bool = False,
               checked: Template | None = None) -> int:
        """The one path of every new VM (allocate, template instantiate). Restricted
        attributes with the values `checked` holds pass: an instantiated template's own
        were checked when it was written."""
        require_create(session, "VM")
        self.restricted.check(session, "VM", template, checked)
        _check_capacity(template)
        name = template.get("NAME")
        if name is not None:
            check_name(name, "virtual machine")
        system, user = split(template)
        on_hold = hold or (system.get("SUBMIT_ON_HOLD") or "").upper() == "YES"
        with self.pools.store.write():
            vid = self.pools.vms.next_oid()
            vm = Vm(uid=session.uid, gid=session.gid, uname=session.uname, gname=session.gname,
                    perms=0o777 & ~self.config.default_umask, name=name or f"one-{vid}",
                    state=VmState.HOLD if on_hold else VmState.PENDING, stime=int(time.time()),
                    template=system, user_template=user, monitoring={}, history=[])
            self._complete(session, vm, vid)
            quotas.charge(self.pools, vm.uid, vm.gid, quotas.vm_usage(vm.template))
            self.pools.vms.allocate(vm, oid=vid)
            self.pools.store.on_commit(lambda: self.lifecycle.created(vm))
        return vid

    def _complete(self, session: Session, vm: Vm, vid: int) -> None:
        system = vm.template
        given = vm.user_template.vectors("SCHED_ACTION")
        vm.user_template.remove("SCHED_ACTION")
        sched_actions.add_checked(system, given, vm.stime)
        system.set("VMID", str(vid))
        if "TM_MAD_SYSTEM" not in system:
            system.set("TM_MAD_SYSTEM", "")
        disks = attach_disks(self.pools, session, system.vectors("DISK"), vid)
        system.remove("DISK")
        for disk in disks:
            system.add("DISK", disk)
        self._number("DISK", "DISK_ID", system)
        self._resolve_nics(session, system, vid)
        placement.set_requirements(self.pools, system)
        context = system.vector("CONTEXT")
        if context and context.get("FILES_DS"):
            system.set("CONTEXT", {**context, "FILES_DS": files_ds(session, context["FILES_DS"])})
        graphics = system.vector("GRAPHICS")
        if graphics is not None and "PORT" not in graphics:
            system.set("GRAPHICS", {**graphics, "PORT": str(self.config.vnc_base_port + vid)})
        self._expand(session, vm)

    @staticmethod
    def _number(vector: str, key: str, template: Template) -> None:
        items = [dict(v, **{key: str(i)}) for i, v in enumerate(template.vectors(vector))]
        template.remove(vector)
        for item in items:
            template.add(vector, item)

    def _network(self, session: Session, nic: dict[str, str]) -> Vnet | None:
        """The NIC's network; None for a NIC given by hand (MAC/BRIDGE), with no lease."""
        return referenced(session, Vnet, nic, "NETWORK", "virtual network")

    def _resolve_nics(self, session: Session, system: Template, vid: int) -> None:
        nics: list[dict[str, str]] = []
        touched: dict[int, Vnet] = {}
        for nic_id, nic in enumerate(system.vectors("NIC")):
            nic = dict(nic, NIC_ID=str(nic_id))
            vnet = self._network(session, nic)
            if vnet is None and not session.is_admin:
                raise AuthorizationError(f"NIC {nic_id} names no NETWORK: only the oneadmin group "
                                         "may write a NIC by hand (BRIDGE, MAC, IP without a lease).")
            if vnet is not None:
                vnet = touched.setdefault(vnet.oid, vnet)
                ar, index = leases.take(vnet, vid, ip=nic.get("IP"), mac=nic.get("MAC"))
                nic.update(self._lease_attrs(vnet, ar, index))
            nics.append(nic)
        system.remove("NIC")
        for nic in nics:
            system.add("NIC", nic)
        for vnet in touched.values():
            self.pools.vnets.save(vnet, lazy=True)

    @staticmethod
    def _lease_attrs(vnet: Vnet, ar: dict[str, Any], index: int) -> dict[str, str]:
        attrs = {"NETWORK": vnet.name, "NETWORK_ID": str(vnet.oid), "NETWORK_UNAME": vnet.uname,
                 "AR_ID": str(ar["AR_ID"]), "MAC": ars.lease_mac(ar, index)}
        ip = ars.lease_ip(ar, index)
        if ip:
            attrs["IP"] = ip
        for key in _NIC_FROM_VNET:
            value = getattr(vnet, key.lower())
            if value:
                attrs[key] = value
        for key in _NIC_INHERITED:
            value = ar.get("ATTRS", {}).get(key) or vnet.template.get(key)
            if value:
                attrs[key] = value
        return attrs

    def _expand(self, session: Session, vm: Vm) -> None:
        """`$VAR`, `$NIC[IP]`, `$NETWORK[GATEWAY, NAME="x"]` in CONTEXT and REQUIREMENTS."""
        merged = Template(vm.template.attrs + vm.user_template.attrs)
        merged.set("NAME", vm.name)
        extra = {"UID": str(vm.uid), "UNAME": vm.uname, "GID": str(vm.gid), "GNAME": vm.gname}

        def network(key: str, value: str) -> Template | None:
            field = Vnet.oid if key == "NETWORK_ID" else Vnet.name
            if key == "NETWORK_ID" and not value.isdigit():
                return None
            vnet = Vnet.get_or_none(field == (int(value) if key == "NETWORK_ID" else value))
            return vnet.template if vnet is not None else None

        limit = self.pools.limits.value
        substitute_template(vm.template, ["CONTEXT"], merged, network, extra, limit)
        substitute_template(vm.user_template, ["REQUIREMENTS", "SCHED_REQUIREMENTS"],
                            merged, network, extra, limit)

    # -- actions ------------------------------------------------------------
    def action(self, session: Session, name: str, vid: int) -> None:
        """one.vm.action: classic names mapped, the rest is the life cycle's."""
        action = ACTION_ALIASES.get(name, name)
        if action not in ACTIONS:
            raise ActionError(f'Action "{name}" is not supported')
        if action in ("delete", "delete-recreate"):
            self.recover(session, vid, 3 if action == "delete" else 4)
            return
        vm = self.get(session, vid, MANAGE)
        if name in _RUNNING_ONLY and vm.state != VmState.ACTIVE:
            raise _wrong_state(vm, name)
        if name == "restart" and vm.state == VmState.ACTIVE and vm.lcm_state == LcmState.BOOT:
            self.lifecycle.recover(vid, 2)  # classic restart of a VM stuck booting
            return
        self.perform(vid, action)

    def perform(self, vid: int, action: str) -> None:
        """An action whose rights were checked (or that the core runs: scheduled actions)."""
        with self.pools.store.write():
            vm = self.pools.vms.get(vid)
            if action == "resched" or (action in ("release", "resume") and vm.state in _UNPLACED):
                self._place_again(vid, action)
            self.lifecycle.action(vid, action)

    def _place_again(self, vid: int, action: str) -> None:
        """Cluster membership may have changed since allocation: as oned, the VM's
        clusters are computed again when it is to be placed again."""
        with self.pools.vms.modify(vid) as vm:
            try:
                placement.set_requirements(self.pools, vm.template)
            except placement.IncompatibleClusters as exc:
                raise ActionError(f"Could not {action} VM {vid}, error updating requirements. "
                                  f"{exc.message}") from None

    def recover(self, session: Session, vid: int, op: int) -> None:
        self.get(session, vid, ADMIN)
        self.lifecycle.recover(vid, op)

    def deploy(self, session: Session, vid: int, hid: int, enforce: bool = False) -> None:
        """Deployment is an administrator's (or the scheduler's) decision, as in oned:
        ADMIN of the VM and MANAGE of the host (`@1 HOST/* MANAGE` lets users place)."""
        self.get(session, vid, ADMIN)
        require(session, self.pools.hosts.get(hid), MANAGE, "HOST")
        self.lifecycle.deploy(vid, hid, enforce)

    def migrate(self, session: Session, vid: int, hid: int, live: bool, enforce: bool = False,
                kind: int = 0) -> None:
        if kind != 0:
            raise ApiError(f"Migration type {kind} is not supported: 0 (save) only.")
        self.get(session, vid, ADMIN)
        require(session, self.pools.hosts.get(hid), MANAGE, "HOST")
        self.lifecycle.migrate(vid, hid, live, enforce)

    # -- saving disks -----------------------------------------------------------
    def disk_saveas(self, session: Session, vid: int, disk_id: int, name: str, kind: str = "",
                    image_id: int = -1, snap_id: int = -1) -> int:
        """Save a disk (or its snapshot `snap_id`) into a new image (or, classic savedisk,
        into `image_id`) at the VM's epilog; the image is LOCKED until then."""
        self.authorize(session, vid, MANAGE)
        with self.pools.vms.modify(vid) as vm:
            if vm.state in (VmState.DONE, VmState.PENDING, VmState.HOLD, VmState.INIT):
                raise ActionError(f"Wrong state to save a disk of VM [{vid}]: {VmState(vm.state).name}.")
            disks = vm.template.vectors("DISK")
            disk = next((d for d in disks if d.get("DISK_ID") == str(disk_id)), None)
            if disk is None:
                raise ApiError(f"VM [{vid}] has no DISK_ID {disk_id}.")
            if disk.get("SAVE_AS"):
                raise ActionError(f"Disk {disk_id} of VM [{vid}] is already saved as image {disk['SAVE_AS']}.")
            if snap_id != -1 and not books.has_disk_snapshot(vm, disk_id, snap_id):
                raise InternalError("Cannot use DISK. Snapshot does not exist.")   # oned's words
            if image_id < 0:
                ds = int(disk.get("DATASTORE_ID", "1"))
                image_id = self.images.reserve(session, name, kind, ds, int(disk.get("SIZE", "0") or 0))
            image = self.images.get(session, image_id, MANAGE)
            self.images.lock(image)
            saved = {"SAVE_AS": str(image_id), "SAVE_AS_SOURCE": image.source,
                     **({"SAVE_AS_SNAPSHOT_ID": str(snap_id)} if snap_id != -1 else {})}
            updated = [dict(d, **saved) if d is disk else d for d in disks]
            vm.template.remove("DISK")
            for item in updated:
                vm.template.add("DISK", item)
        return image_id

    # -- scheduled actions ---------------------------------------------------
    @staticmethod
    def _sched_vectors(text: str, limits: Any) -> list[dict[str, str]]:
        """The SCHED_ACTION vectors of a template, or the template itself as one."""
        template = parse(text, limits)
        vectors = template.vectors("SCHED_ACTION")
        if vectors:
            return vectors
        return [{name: value for name, value in template.attrs if isinstance(value, str)}]

    def sched_add(self, session: Session, vid: int, text: str) -> int:
        """one.vm.schedadd (MANAGE): returns the new action's ID."""
        self.authorize(session, vid, MANAGE)
        given = self._sched_vectors(text, self.pools.limits)
        with self.pools.vms.modify(vid) as vm:
            return int(sched_actions.add_checked(vm.template, given[:1], vm.stime)[0])

    def sched_update(self, session: Session, vid: int, sid: int, text: str) -> None:
        """one.vm.schedupdate: the given fields replace the action's, checked again."""
        self.authorize(session, vid, MANAGE)
        given = self._sched_vectors(text, self.pools.limits)[0]
        with self.pools.vms.modify(vid) as vm:
            actions = vm.template.vectors("SCHED_ACTION")
            old = self._sched_action(vm, actions, sid)
            new = sched_actions.checked({**old, **given}, sid, vm.stime)
            sched_actions.replace(vm.template, [new if a is old else a for a in actions])

    def sched_delete(self, session: Session, vid: int, sid: int) -> None:
        self.authorize(session, vid, MANAGE)
        with self.pools.vms.modify(vid) as vm:
            actions = vm.template.vectors("SCHED_ACTION")
            old = self._sched_action(vm, actions, sid)
            sched_actions.replace(vm.template, [a for a in actions if a is not old])

    @staticmethod
    def _sched_action(vm: Vm, actions: list[dict[str, str]], sid: int) -> dict[str, str]:
        found = next((a for a in actions if a.get("ID") == str(sid)), None)
        if found is None:
            raise ActionError(f"VM [{vm.oid}] has no scheduled action {sid}.")
        return found

    # -- edits --------------------------------------------------------------
    def resize(self, session: Session, vid: int, text: str, enforce: bool = False) -> None:
        """one.vm.resize (MANAGE): CPU, VCPU, MEMORY. `enforce` is oned 7's deprecated
        argument: the host's capacity is always checked where the VM holds some."""
        self.authorize(session, vid, MANAGE)
        template = parse(text, self.pools.limits)
        self.restricted.check(session, "VM", template)
        with self.pools.vms.modify(vid) as vm:
            new = resize.requested(template, vm)
            if vm.state not in resize.COLD:
                self.changes.resize_live(vm, new)   # RUNNING: HOTPLUG_RESIZE, else ACTION
                return
            resize.apply(self.pools, vm, new)

    def update(self, session: Session, vid: int, text: str, append: int) -> None:
        """Changes USER_TEMPLATE, as one.vm.update does."""
        self.authorize(session, vid, MANAGE)
        new = parse(text, self.pools.limits)
        with self.pools.vms.modify(vid) as vm:
            merged = updated_template(vm.user_template, new, append, self.pools.limits)
            self.restricted.check(session, "VM", merged, vm.user_template)
            vm.user_template = merged

