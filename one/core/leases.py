"""Leases: handing out, holding and freeing addresses of a network's ranges.

Only used addresses have a row, so a /16 costs nothing until VMs use it. A
free address is found from the range's rotating cursor (NEXT_INDEX), as
OpenNebula does, with one indexed query in the common case.
"""
from __future__ import annotations

from typing import Any

from one.errors import ActionError, AllocateError
from one.pool import address_range as ars
from one.pool.models import Lease, Vnet, rows

AR = dict[str, Any]


def _first_free(vnet: Vnet, ar: AR) -> int | None:
    size, start = ar["SIZE"], ar["NEXT_INDEX"] % ar["SIZE"]
    for low, high in ((start, size), (0, start)):
        query = (Lease.select(Lease.index)
                 .where((Lease.vnet == vnet.oid) & (Lease.ar_id == ar["AR_ID"])
                        & (Lease.index >= low) & (Lease.index < high))
                 .order_by(Lease.index).tuples())
        expected = low
        for (index,) in query.iterator():
            if index != expected:
                return expected
            expected += 1
        if expected < high:
            return expected
    return None


def find_address(vnet: Vnet, ip: str | None, mac: str | None) -> tuple[AR, int]:
    """The range and offset of an explicit IP or MAC of this network."""
    for ar in vnet.ars:
        index = ars.index_of_ip(ar, ip) if ip else ars.index_of_mac(ar, mac or "")
        if index is not None:
            return ar, index
    raise AllocateError(f"Address {ip or mac} is not part of network {vnet.oid}.")


def is_free(vnet: Vnet, ar: AR, index: int) -> bool:
    return Lease.get_or_none(vnet=vnet.oid, ar_id=ar["AR_ID"], index=index) is None


def take(vnet: Vnet, vm: int, ip: str | None = None, mac: str | None = None,
         ar_id: int | None = None, reserved_by: int = -1) -> tuple[AR, int]:
    """Lease an address to a VM (-1: on hold); the caller holds the write lock
    and saves the network afterwards (its cursor moves)."""
    if ip or mac:
        ar, index = find_address(vnet, ip, mac)
        if not is_free(vnet, ar, index):
            raise AllocateError(f"Address {ip or mac} is already in use in network {vnet.oid}.")
    else:
        for ar in vnet.ars:
            if ar_id is not None and ar["AR_ID"] != ar_id:
                continue
            free = _first_free(vnet, ar)
            if free is not None:
                index = free
                break
        else:
            raise AllocateError(f"No free address lease in network {vnet.oid}.")
    Lease.create(vnet=vnet.oid, ar_id=ar["AR_ID"], index=index, vm=vm, reserved_by=reserved_by)
    ar["NEXT_INDEX"] = (index + 1) % ar["SIZE"]
    return ar, index


def release(vnet: Vnet, ip: str | None, mac: str | None) -> None:
    """Free an address put on hold (leases of VMs are freed with the VM)."""
    ar, index = find_address(vnet, ip, mac)
    lease = Lease.get_or_none(vnet=vnet.oid, ar_id=ar["AR_ID"], index=index)
    if lease is None or lease.vm != -1 or lease.reserved_by != -1:
        raise ActionError(f"Address {ip or mac} is not on hold in network {vnet.oid}.")
    lease.delete_instance()


def release_lease(vnet: Vnet, vm: int, ip: str | None, mac: str | None) -> None:
    """Free the address one NIC of a VM holds (a NIC detached); the caller saves the network."""
    ar, index = find_address(vnet, ip, mac)
    Lease.delete().where((Lease.vnet == vnet.oid) & (Lease.ar_id == ar["AR_ID"])
                         & (Lease.index == index) & (Lease.vm == vm)).execute()


def release_vm(vm: int) -> set[int]:
    """Free every lease of a VM; the networks touched, to re-render."""
    touched = {row[0] for row in rows(Lease.select(Lease.vnet).where(Lease.vm == vm))}
    Lease.delete().where(Lease.vm == vm).execute()
    return touched


def used_in_ar(vnet: Vnet, ar_id: int) -> int:
    return Lease.select().where((Lease.vnet == vnet.oid) & (Lease.ar_id == ar_id)).count()


def reserve_block(parent: Vnet, size: int, ar_id: int | None) -> tuple[AR, int]:
    """First run of `size` free addresses in one range of the parent."""
    for ar in parent.ars:
        if ar_id is not None and ar["AR_ID"] != ar_id:
            continue
        used = {row[0] for row in rows(Lease.select(Lease.index)
                .where((Lease.vnet == parent.oid) & (Lease.ar_id == ar["AR_ID"])))}
        run = 0
        for index in range(ar["SIZE"]):
            run = 0 if index in used else run + 1
            if run == size:
                return ar, index - size + 1
    raise AllocateError(f"Not enough free addresses in network {parent.oid} for {size}.")


def hold_block(parent: Vnet, ar: AR, first: int, size: int, child: int) -> None:
    for index in range(first, first + size):
        Lease.create(vnet=parent.oid, ar_id=ar["AR_ID"], index=index, reserved_by=child)


def free_block(parent_id: int, parent_ar: int, first: int, size: int) -> None:
    Lease.delete().where((Lease.vnet == parent_id) & (Lease.ar_id == parent_ar)
                         & (Lease.index >= first) & (Lease.index < first + size)).execute()
