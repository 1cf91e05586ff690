"""Quotas: what a user or a group may hold, as OpenNebula counts it.

Four kinds: VM (VMS, CPU, MEMORY, SYSTEM_DISK_SIZE and the RUNNING_ ones),
DATASTORE (IMAGES and SIZE per datastore), NETWORK (LEASES per network) and
IMAGE (RVMS, VMs using an image). A limit of -1 takes the default quota, -2
is unlimited. Usage is charged inside the write transaction that creates the
resource, so concurrent requests cannot pass a limit together; it is released
in the write that frees the resource. The oneadmin user (uid 0) and group
(gid 0) are neither limited nor counted, as in oned.
"""
from __future__ import annotations

from typing import Any

from one.core.auth import Session
from one.core.authz import require_admin
from one.errors import ActionError, AuthorizationError
from one.pool.models import Image, Owned, Vm
from one.pool.pools import Pools
from one.pool.quotas import DEFAULTS
from one.pool.render.quota import METRICS, number
from one.pool.template import Template, parse
from one.states import LcmState, VmState

DEFAULT, UNLIMITED = -1.0, -2.0
OWNERS = {"user": "User", "group": "Group"}
RUNNING_METRICS = ("RUNNING_VMS", "RUNNING_CPU", "RUNNING_MEMORY")
# kind -> quota id -> metric -> amount
Usage = dict[str, dict[str, dict[str, float]]]
# ACTIVE phases of a powered-off guest (disk and NIC hot operations): not running.
_OFF_LCM = frozenset(LcmState[name] for name in (
    "HOTPLUG_SAVEAS_POWEROFF", "HOTPLUG_SAVEAS_SUSPENDED", "DISK_SNAPSHOT_POWEROFF",
    "DISK_SNAPSHOT_REVERT_POWEROFF", "DISK_SNAPSHOT_DELETE_POWEROFF", "DISK_SNAPSHOT_SUSPENDED",
    "DISK_SNAPSHOT_DELETE_SUSPENDED", "DISK_RESIZE_POWEROFF", "DISK_RESIZE_UNDEPLOYED",
    "HOTPLUG_NIC_POWEROFF", "HOTPLUG_SAVEAS_UNDEPLOYED", "HOTPLUG_SAVEAS_STOPPED",
    "HOTPLUG_PROLOG_POWEROFF", "HOTPLUG_EPILOG_POWEROFF"))
# Transfer drivers whose persistent images live in the system datastore (LN_TARGET=SYSTEM),
# and those whose clones stay in the image datastore (CLONE_TARGET=SELF).
_LN_SYSTEM = frozenset({"ssh"})
_CLONE_SELF = frozenset({"ceph"})


def is_running(state: int, lcm_state: int) -> bool:
    """Whether the RUNNING_ quotas count the VM (oned's is_running_quota)."""
    if state in (VmState.PENDING, VmState.HOLD, VmState.CLONING, VmState.CLONING_FAILURE):
        return True
    return state == VmState.ACTIVE and lcm_state not in _OFF_LCM


def _number(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def tm_target(disk: dict[str, str]) -> str:
    """Where the disk's file is made (oned's CLONE_TARGET / LN_TARGET of its transfer
    driver): SYSTEM (the system datastore: volatile disks too), SELF or NONE (the image's)."""
    if "IMAGE_ID" not in disk:
        return "SYSTEM"
    tm = disk.get("TM_MAD", "")
    if disk.get("CLONE") == "YES":
        return "SELF" if tm in _CLONE_SELF else "SYSTEM"
    return "SYSTEM" if tm in _LN_SYSTEM else "NONE"


def _with_snapshots(disk: dict[str, str]) -> float:
    return _number(disk.get("SIZE")) + _number(disk.get("DISK_SNAPSHOT_TOTAL_SIZE"))


def system_disk_size(template: Template) -> float:
    """MB the VM's disks take in the system datastore, their snapshots included (oned's
    datastore_sizes): volatile disks, and image disks copied or linked there."""
    return sum(_with_snapshots(disk) for disk in template.vectors("DISK")
               if tm_target(disk) == "SYSTEM")


def self_snapshot_sizes(template: Template) -> dict[str, float]:
    """MB of snapshots of clones kept in their image datastore (SELF), by datastore: the
    VM's owner pays them in that datastore's SIZE, as oned's resize_quotas says."""
    sizes: dict[str, float] = {}
    for disk in template.vectors("DISK"):
        total = _number(disk.get("DISK_SNAPSHOT_TOTAL_SIZE"))
        if total and tm_target(disk) == "SELF":
            ds = disk.get("DATASTORE_ID", "")
            sizes[ds] = sizes.get(ds, 0.0) + total
    return sizes


def vm_usage(template: Template, basic: bool = True, running: bool = True) -> Usage:
    """What a VM counts: `basic` its VM, lease and image quotas, `running` RUNNING_*."""
    vm: dict[str, float] = {}
    usage: Usage = {"VM": {"": vm}}
    cpu, memory = _number(template.get("CPU")), _number(template.get("MEMORY"))
    if basic:
        vm.update(VMS=1, CPU=cpu, MEMORY=memory, SYSTEM_DISK_SIZE=system_disk_size(template))
        for nic in template.vectors("NIC"):
            if nic.get("NETWORK_ID", "").isdigit():
                lease = usage.setdefault("NETWORK", {}).setdefault(nic["NETWORK_ID"], {"LEASES": 0})
                lease["LEASES"] += 1
        for disk in template.vectors("DISK"):
            if disk.get("IMAGE_ID", "").isdigit():
                usage.setdefault("IMAGE", {})[disk["IMAGE_ID"]] = {"RVMS": 1}
        for ds, size in self_snapshot_sizes(template).items():
            usage.setdefault("DATASTORE", {})[ds] = {"SIZE": size}
    if running:
        vm.update(RUNNING_VMS=1, RUNNING_CPU=cpu, RUNNING_MEMORY=memory)
    return usage


def image_usage(image: Image, size: float | None = None) -> Usage:
    """An image counts in its datastore: one image and its size in MB."""
    return {"DATASTORE": {str(image.datastore_id): {
        "IMAGES": 1, "SIZE": image.size if size is None else size}}}


def image_resized(pools: Pools, image: Image, size: int) -> None:
    """The image's content turned out `size` MB (copied, saved): SIZE follows, unchecked."""
    if size != image.size:
        charge(pools, image.uid, image.gid,
               {"DATASTORE": {str(image.datastore_id): {"SIZE": size - image.size}}}, enforce=False)


def lease_usage(vnet_id: int, count: int) -> Usage:
    return {"NETWORK": {str(vnet_id): {"LEASES": count}}}


def new_entry(kind: str) -> dict[str, float]:
    entry: dict[str, float] = {}
    for metric in METRICS[kind]:
        entry[metric], entry[f"{metric}_USED"] = DEFAULT, 0.0
    return entry


def unused(entry: dict[str, float], implicit: float) -> bool:
    """An entry that limits nothing and counts nothing is dropped, as oned does."""
    return all(v == (0 if k.endswith("_USED") else implicit) for k, v in entry.items())


class _Ledger:
    """One owner's quota data, changed in memory and saved once."""

    def __init__(self, pools: Pools, owner: str, oid: int) -> None:
        self.pools, self.owner, self.oid = pools, owner, oid
        self.data = pools.quotas.load(owner, oid)
        self._defaults: dict[str, Any] | None = None

    def limit(self, kind: str, qid: str, metric: str, entry: dict[str, float]) -> float:
        limit = entry.get(metric, DEFAULT)
        if limit != DEFAULT:
            return limit
        if self._defaults is None:
            self._defaults = self.pools.quotas.load(self.owner, DEFAULTS)
        return self._defaults.get(kind, {}).get(qid, {}).get(metric, UNLIMITED)

    def apply(self, usage: Usage, sign: int, enforce: bool, uid: int) -> None:
        for kind, entries in usage.items():
            for qid, amounts in entries.items():
                entry = self.data.setdefault(kind, {}).setdefault(qid, new_entry(kind))
                if enforce and sign > 0:
                    self._check(kind, qid, entry, amounts, uid)
                for metric, amount in amounts.items():
                    used = entry.get(f"{metric}_USED", 0.0) + sign * amount
                    entry[f"{metric}_USED"] = round(used, 6)  # CPU fractions must not drift
                if unused(entry, DEFAULT):
                    del self.data[kind][qid]
        self.pools.quotas.save(self.owner, self.oid, self.data)

    def _check(self, kind: str, qid: str, entry: dict[str, float], amounts: dict[str, float],
               uid: int) -> None:
        for metric in METRICS[kind]:
            amount = amounts.get(metric)
            if not amount or amount < 0:
                continue
            limit, used = self.limit(kind, qid, metric, entry), entry.get(f"{metric}_USED", 0.0)
            if limit != UNLIMITED and used + amount > limit:
                where = f" with ID: {qid}" if qid else ""
                raise AuthorizationError(
                    f"User [{uid}] : {OWNERS[self.owner]} [{self.oid}] limit of {number(limit)} "
                    f"reached for {metric} quota in {kind}{where}. Requested: {number(amount)}, "
                    f"Limit: {number(limit)}, Used: {number(used)}.")


def _counted(oid: int) -> bool:
    """oneadmin (uid 0) and its group (gid 0) are not counted, as in oned."""
    return oid > 0


def charge(pools: Pools, uid: int, gid: int, usage: Usage, enforce: bool = True) -> None:
    """Count `usage` for the owner and the group, refusing (AUTHORIZATION) what passes a
    limit unless not `enforce`d; call inside the write that creates the resource."""
    for owner, oid in (("user", uid), ("group", gid)):
        if _counted(oid):
            _Ledger(pools, owner, oid).apply(usage, 1, enforce, uid)


def release(pools: Pools, uid: int, gid: int, usage: Usage) -> None:
    for owner, oid in (("user", uid), ("group", gid)):
        if _counted(oid):
            _Ledger(pools, owner, oid).apply(usage, -1, False, uid)


def follow_vm(pools: Pools, vm: Vm, frm: tuple[int, int], to: tuple[int, int],
              enforce: bool) -> None:
    """A VM changes phase (inside that write): RUNNING_* follow it, DONE frees all."""
    was, now = is_running(*frm), is_running(*to)
    if to[0] == VmState.DONE:
        release(pools, vm.uid, vm.gid, vm_usage(vm.template, basic=True, running=was))
        for uid, gid, usage in image_owner_snapshots(pools, vm):
            release(pools, uid, gid, usage)
    elif now and not was:
        charge(pools, vm.uid, vm.gid, vm_usage(vm.template, basic=False), enforce)
    elif was and not now:
        release(pools, vm.uid, vm.gid, vm_usage(vm.template, basic=False))


def snapshot_charges(pools: Pools, vm: Vm, disk: dict[str, str],
                     size: float) -> list[tuple[int, int, Usage]]:
    """Who pays `size` MB of a disk's snapshots (oned's resize_quotas): the VM's owner in
    SYSTEM_DISK_SIZE if the disk is in the system datastore, in the image datastore's SIZE
    for a SELF clone; the image's owner in that SIZE for a persistent image or NONE."""
    target, found = tm_target(disk), []
    if target == "SYSTEM":
        found.append((vm.uid, vm.gid, {"VM": {"": {"SYSTEM_DISK_SIZE": size}}}))
    elif target == "SELF":
        found.append((vm.uid, vm.gid, _datastore_size(disk, size)))
    image = _image_owner_share(pools, disk, size)
    return found + ([image] if image else [])


def _datastore_size(disk: dict[str, str], size: float) -> Usage:
    return {"DATASTORE": {disk.get("DATASTORE_ID", ""): {"SIZE": size}}}


def _image_owner_share(pools: Pools, disk: dict[str, str],
                       size: float) -> tuple[int, int, Usage] | None:
    if not size or not disk.get("IMAGE_ID", "").isdigit():
        return None
    if disk.get("PERSISTENT") != "YES" and tm_target(disk) != "NONE":
        return None
    image = pools.images.find(int(disk["IMAGE_ID"]))
    return None if image is None else (image.uid, image.gid, _datastore_size(disk, size))


def image_owner_snapshots(pools: Pools, vm: Vm) -> list[tuple[int, int, Usage]]:
    """The snapshot sizes the VM's disks charge to their images' owners (freed at DONE,
    as the snapshots go with the VM; counted again at start)."""
    shares = (_image_owner_share(pools, disk, _number(disk.get("DISK_SNAPSHOT_TOTAL_SIZE")))
              for disk in vm.template.vectors("DISK"))
    return [share for share in shares if share]


def usage_of(obj: Owned) -> Usage | None:
    """What an object counts for its owner, or None for kinds without quotas."""
    if isinstance(obj, Vm):
        if obj.state == VmState.DONE:
            return None
        return vm_usage(obj.template, running=is_running(obj.state, obj.lcm_state))
    if isinstance(obj, Image):
        return image_usage(obj)
    return None


def default_quotas(pools: Pools, owner: str) -> str:
    """DEFAULT_USER_QUOTAS / DEFAULT_GROUP_QUOTAS as stored."""
    root = f"DEFAULT_{owner.upper()}_QUOTAS"
    return f"<{root}>{pools.quotas.bodies(owner, [DEFAULTS])[DEFAULTS]}</{root}>"


class QuotaManager:
    """Setting quotas and default quotas; the counting lives in the functions above."""

    def __init__(self, pools: Pools) -> None:
        self.pools = pools

    def chowned(self, obj: Owned, uid: int, gid: int) -> None:
        """The object passed from (uid, gid) to its new owner: the usage moves with it,
        refused if the new owner would pass a limit (inside the chown's write)."""
        usage = usage_of(obj)
        if usage is None:
            return
        for owner, old, new in (("user", uid, obj.uid), ("group", gid, obj.gid)):
            if old == new:
                continue   # an owner kept keeps its usage, even past a limit lowered since
            if _counted(old):
                _Ledger(self.pools, owner, old).apply(usage, -1, False, obj.uid)
            if _counted(new):
                _Ledger(self.pools, owner, new).apply(usage, 1, True, obj.uid)

    def set(self, session: Session, owner: str, oid: int, text: str) -> None:
        """one.user.quota / one.group.quota: the vectors given replace those limits."""
        require_admin(session, f"MANAGE {owner} [{oid}]")
        if oid == 0:
            raise ActionError(f"Cannot set quotas for oneadmin {owner}")
        (self.pools.users if owner == "user" else self.pools.groups).get(oid)
        new = parse(text, self.pools.limits)
        with self.pools.store.write():
            data = self.pools.quotas.load(owner, oid)
            _set_limits(data, new, is_default=False)
            self.pools.quotas.save(owner, oid, data)

    def set_defaults(self, session: Session, owner: str, text: str) -> str:
        """one.userquota.update / one.groupquota.update; returns the new defaults."""
        require_admin(session, f"MANAGE default {owner} quotas")
        new = parse(text, self.pools.limits)
        with self.pools.store.write():
            data = self.pools.quotas.load(owner, DEFAULTS)
            _set_limits(data, new, is_default=True)
            self.pools.quotas.save(owner, DEFAULTS, data)
        return self.defaults_xml(owner)

    def defaults_xml(self, owner: str) -> str:
        return default_quotas(self.pools, owner)


def _set_limits(data: dict[str, Any], new: Template, is_default: bool) -> None:
    """Oned's Quota::set: each vector's limits replace the entry's (those left out
    become -1, or -2 in the defaults); usage stays."""
    implicit = UNLIMITED if is_default else DEFAULT
    for name, value in new.attrs:
        if name not in METRICS or not isinstance(value, dict):
            raise ActionError(f"Unknown quota {name}: quotas are VM, DATASTORE, NETWORK "
                              "and IMAGE vectors.")
        qid = _quota_id(name, value)
        entry = data.setdefault(name, {}).setdefault(qid, new_entry(name))
        for metric in METRICS[name]:
            entry[metric] = _limit(name, value, metric, implicit, is_default)
        if unused(entry, implicit):
            del data[name][qid]


def _bad(kind: str, vector: dict[str, str]) -> ActionError:
    shown = ", ".join(f"{k}={v}" for k, v in vector.items())
    return ActionError(f"Negative limits or bad format in quota {kind} = [ {shown} ]")


def _quota_id(kind: str, vector: dict[str, str]) -> str:
    allowed = set(METRICS[kind]) | ({"ID"} if kind != "VM" else set())
    unknown = sorted(set(vector) - allowed)
    if unknown:
        raise ActionError(f"Unknown attribute {unknown[0]} in quota {kind}: "
                          f"{', '.join(sorted(allowed))}.")
    if kind == "VM":
        return ""
    qid = vector.get("ID", "")
    if not qid.isdigit():
        raise _bad(kind, vector)
    return str(int(qid))


def _limit(kind: str, vector: dict[str, str], metric: str, implicit: float,
           is_default: bool) -> float:
    text = vector.get(metric, "").strip()
    if not text:
        return implicit
    try:
        limit = float(text)
    except ValueError:
        raise _bad(kind, vector) from None
    allowed = (UNLIMITED,) if is_default else (UNLIMITED, DEFAULT)
    if limit != limit or limit in (float("inf"), float("-inf")) or (limit < 0 and limit not in allowed):
        raise _bad(kind, vector)
    return limit

