"""Elastic IPs: reservations of one address from the public network (one.vn.reserve).

An address is a reservation network of the user (eipalloc-%08x of its id),
so oned's quotas and ownership apply. Association is recorded on both sides
(EC2_INSTANCE_ID on the reservation, EC2_PUBLIC_IP on the VM) and shown by
DescribeAddresses/DescribeInstances; `one` has no NIC hot-plug, so routing
the address to the VM is the network's business, as with OpenNebula's econe.
"""
from __future__ import annotations

import secrets

from one.econe.actions import instances
from one.econe.app import Call
from one.econe.errors import Ec2Error
from one.econe.params import listed, required
from one.econe.xml import Element, ec2_id, fields, item_set, node, quoted

NOT_FOUND = "InvalidAllocationID.NotFound"


def _public(call: Call) -> Element:
    wanted = call.config.public_network
    if not wanted:
        raise Ec2Error("UnsupportedOperation", "This cloud has no public network for addresses.")
    for vnet in call.document("one.vnpool.info", -2, -1, -1):
        if wanted in (vnet.findtext("NAME"), vnet.findtext("ID")):
            return vnet
    raise Ec2Error("UnsupportedOperation", f"The public network '{wanted}' is not usable.")


def _addresses(call: Call) -> list[Element]:
    """The user's reservations from the public network."""
    parent = _public(call).findtext("ID")
    return [v for v in call.document("one.vnpool.info", -3, -1, -1)
            if v.findtext("PARENT_NETWORK_ID") == parent]


def _ip(vnet: Element) -> str:
    return vnet.findtext("AR_POOL/AR/IP") or ""


def _allocation(vnet: Element) -> str:
    return ec2_id("eipalloc", vnet.findtext("ID") or 0)


def _find(call: Call) -> Element:
    """The address named by AllocationId or PublicIp."""
    allocation, ip = call.params.get("AllocationId"), call.params.get("PublicIp")
    if not allocation and not ip:
        raise Ec2Error("MissingParameter", "The request must contain AllocationId or PublicIp")
    for vnet in _addresses(call):
        if allocation in (None, _allocation(vnet)) and ip in (None, _ip(vnet)):
            return vnet
    if allocation:
        raise Ec2Error(NOT_FOUND, f"The allocation ID '{allocation}' does not exist")
    raise Ec2Error("InvalidAddress.NotFound", f"Address '{ip}' not found.")


def allocate_address(call: Call) -> list[Element]:
    public = _public(call)
    oid = call.one("one.vn.reserve", int(public.findtext("ID") or -1),
                   f"NAME = {quoted('eip-' + secrets.token_hex(4))} SIZE = 1")
    vnet = call.document("one.vn.info", oid)
    return [node("publicIp", _ip(vnet)), node("domain", "vpc"),
            node("allocationId", _allocation(vnet))]


def describe_addresses(call: Call) -> list[Element]:
    if not call.config.public_network:
        return [item_set("addressesSet", [])]
    ips, allocations = listed(call.params, "PublicIp"), listed(call.params, "AllocationId")
    items = []
    for vnet in _addresses(call):
        if (ips and _ip(vnet) not in ips) or (allocations and _allocation(vnet) not in allocations):
            continue
        items.append(fields("item", {
            "publicIp": _ip(vnet), "allocationId": _allocation(vnet), "domain": "vpc",
            "instanceId": vnet.findtext("TEMPLATE/EC2_INSTANCE_ID") or None}))
    return [item_set("addressesSet", items)]


def release_address(call: Call) -> list[Element]:
    vnet = _find(call)
    if vnet.findtext("TEMPLATE/EC2_INSTANCE_ID"):
        raise Ec2Error("InvalidIPAddress.InUse", f"Address {_ip(vnet)} is associated.")
    call.one("one.vn.delete", int(vnet.findtext("ID") or -1))
    return [node("return", "true")]


def _associate(call: Call, vnet: Element, instance: str, ip: str) -> None:
    vm = instances.vms_by_id(call, [instance])[0] if instance else None
    call.one("one.vn.update", int(vnet.findtext("ID") or -1),
             f"EC2_INSTANCE_ID = {quoted(instance)}", 1)
    if vm is not None:
        call.one("one.vm.update", int(vm.findtext("ID") or -1), f"EC2_PUBLIC_IP = {quoted(ip)}", 1)


def associate_address(call: Call) -> list[Element]:
    instance = required(call.params, "InstanceId")
    instances.vms_by_id(call, [instance])  # NotFound before anything changes
    vnet = _find(call)
    previous = vnet.findtext("TEMPLATE/EC2_INSTANCE_ID")
    if previous and previous != instance:
        _dissociate(call, vnet)
    _associate(call, vnet, instance, _ip(vnet))
    return [node("return", "true"), node("associationId", "eipassoc-" + _allocation(vnet)[9:])]


def _dissociate(call: Call, vnet: Element) -> None:
    instance = vnet.findtext("TEMPLATE/EC2_INSTANCE_ID") or ""
    try:
        vm = instances.vms_by_id(call, [instance])[0] if instance else None
    except Ec2Error:  # the instance is gone: only the address keeps a trace
        vm = None
    if vm is not None:
        call.one("one.vm.update", int(vm.findtext("ID") or -1), 'EC2_PUBLIC_IP = ""', 1)
    call.one("one.vn.update", int(vnet.findtext("ID") or -1), 'EC2_INSTANCE_ID = ""', 1)


def disassociate_address(call: Call) -> list[Element]:
    association = call.params.get("AssociationId")
    if association:
        call.params.setdefault("AllocationId", "eipalloc-" + association[9:])
    _dissociate(call, _find(call))
    return [node("return", "true")]
