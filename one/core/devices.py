"""A VM's disks and NICs as hotplug changes them: ids, quotas, what they hold.

Why apart from the manager: the API call sets a device up (image or lease
taken, quotas charged, the vector marked in flight) and the life-cycle
thread settles it when the driver answers, in another write; both read and
write the same vectors the same way. A device in flight carries ATTACH=YES
(being plugged) or DETACH=YES (being unplugged), as oned marks the disk or
NIC its drivers must act on.
"""
from __future__ import annotations

from typing import Iterator

from one.core import leases, quotas
from one.core.images import release_image
from one.pool.models import Vm
from one.pool.pools import Pools
from one.pool.template import Template

ATTACH, DETACH = "ATTACH", "DETACH"
ID_KEYS = {"DISK": "DISK_ID", "NIC": "NIC_ID"}


def next_id(vm: Vm, kind: str) -> int:
    """oned's rule: one past the highest id in use (a disk's also past the CONTEXT
    CD-ROM's, which is a disk of the VM too)."""
    key = ID_KEYS[kind]
    used = [int(v[key]) for v in vm.template.vectors(kind) if v.get(key, "").isdigit()]
    context = vm.template.vector("CONTEXT")
    if kind == "DISK" and context is not None and context.get("DISK_ID", "").isdigit():
        used.append(int(context["DISK_ID"]))
    return max(used, default=-1) + 1


def fix_context_id(vm: Vm) -> None:
    """Write down the CONTEXT CD-ROM's DISK_ID before the disk count changes: its
    file (disk.<n> on the host) stays where the prolog put it."""
    context = vm.template.vector("CONTEXT")
    if context is not None and "DISK_ID" not in context:
        vm.template.set("CONTEXT", {**context, "DISK_ID": str(len(vm.template.vectors("DISK")))})


def find(vm: Vm, kind: str, device_id: int) -> dict[str, str] | None:
    key = ID_KEYS[kind]
    return next((v for v in vm.template.vectors(kind) if v.get(key) == str(device_id)), None)


def in_flight(vm: Vm) -> Iterator[tuple[str, dict[str, str], str]]:
    """(kind, vector, ATTACH or DETACH) of each device a hotplug is acting on."""
    for kind in ID_KEYS:
        for vector in vm.template.vectors(kind):
            for flag in (ATTACH, DETACH):
                if vector.get(flag) == "YES":
                    yield kind, vector, flag


def replace(vm: Vm, kind: str, old: dict[str, str], new: dict[str, str] | None) -> None:
    """Put `new` where `old` is among the VM's vectors of that kind (None: drop it)."""
    items = [(new if v is old else v) for v in vm.template.vectors(kind)]
    vm.template.remove(kind)
    for item in items:
        if item is not None:
            vm.template.add(kind, item)


def usage(kind: str, vector: dict[str, str]) -> quotas.Usage:
    """What one device counts: a disk its system-datastore MB and its image's
    RVMS, a NIC its network lease (what the VM's quotas count of it)."""
    counted = quotas.vm_usage(Template([(kind, vector)]), running=False)
    vm = counted["VM"][""]
    counted["VM"] = {"": {"SYSTEM_DISK_SIZE": vm["SYSTEM_DISK_SIZE"]}}
    return counted


def release(pools: Pools, vm: Vm, kind: str, vector: dict[str, str]) -> None:
    """A device leaves the VM: its image or lease and its quota usage are freed."""
    quotas.release(pools, vm.uid, vm.gid, usage(kind, vector))
    if kind == "DISK":
        release_image(pools, vm, vector)
    elif vector.get("NETWORK_ID", "").isdigit():
        vnet = pools.vnets.find(int(vector["NETWORK_ID"]))
        if vnet is not None:
            leases.release_lease(vnet, vm.oid, vector.get("IP"), vector.get("MAC"))
            pools.vnets.save(vnet, lazy=True)


def settle(pools: Pools, vm: Vm, ok: bool) -> str:
    """The driver answered (inside its write): a device attached, or failing to
    detach, stays; one detached, or failing to attach, goes with what it held.
    Returns what happened, for the VM's log."""
    said = []
    for kind, vector, flag in list(in_flight(vm)):
        kept = {k: v for k, v in vector.items() if k != flag}
        stays = ok == (flag == ATTACH)
        if not stays:
            release(pools, vm, kind, vector)
        replace(vm, kind, vector, kept if stays else None)
        verb = "attached" if flag == ATTACH else "detached"
        said.append(f"{kind} {kept.get(ID_KEYS[kind])} {'' if ok else 'not '}{verb}")
    return ", ".join(said)

