"""After the fuzz: every object of every pool must still be readable, then deletable,
as an operator cleaning up would find it."""
from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from bench.campaign.fields import integer
from bench.campaign.findings import Findings
from bench.campaign.oned import Client

CHECKS = ("pool listing fails", "object unreadable", "object not deletable")
PERMANENT_GROUPS = {0, 1}   # oneadmin and users
DEFAULT_CLUSTER = 0
VM_DONE = "6"


@dataclass(frozen=True)
class PoolKind:
    name: str            # one.<name>.info / .delete
    listing: str
    args: tuple[int, ...]
    element: str


# In the order they can be deleted: VMs hold leases and images, users hold groups.
POOLS = (
    PoolKind("vm", "one.vmpool.info", (-2, -1, -1, -1), "VM"),
    PoolKind("image", "one.imagepool.info", (-2, -1, -1), "IMAGE"),
    PoolKind("vn", "one.vnpool.info", (-2, -1, -1), "VNET"),
    PoolKind("host", "one.hostpool.info", (), "HOST"),
    PoolKind("cluster", "one.clusterpool.info", (), "CLUSTER"),
    PoolKind("datastore", "one.datastorepool.info", (), "DATASTORE"),
    PoolKind("user", "one.userpool.info", (), "USER"),
    PoolKind("group", "one.grouppool.info", (), "GROUP"),
)


def listed(admin: Client, kind: PoolKind, findings: Findings) -> list[etree._Element]:
    reply = admin.call(kind.listing, *kind.args)
    try:
        if reply[0]:
            return list(etree.fromstring(reply[1].encode()).iterfind(kind.element))
    except etree.XMLSyntaxError as exc:
        reply = [False, f"unparsable: {exc}"]
    findings.add("pool listing fails", f"{kind.listing}{kind.args}: {reply[1]!s:.300}")
    return []


def readable(admin: Client, kind: PoolKind, findings: Findings) -> list[int]:
    """The ids of the pool whose one.<kind>.info answers a well-formed document."""
    ids = []
    for node in listed(admin, kind, findings):
        oid = integer(node, "ID")
        reply = admin.call(f"one.{kind.name}.info", oid)
        try:
            if reply[0]:
                etree.fromstring(reply[1].encode())
                ids.append(oid)
                continue
        except etree.XMLSyntaxError as exc:
            reply = [False, f"unparsable: {exc}"]
        findings.add("object unreadable", f"{kind.name} {oid}: {reply[1]!s:.300}")
    return ids


def _kept(kind: PoolKind, oid: int, protected: Collection[int], admin: Client) -> bool:
    """Objects that stay: the campaign's own users, built-in groups, the default
    cluster, datastores (oned has no datastore delete), groups still holding users."""
    if kind.name == "user":
        return oid in protected
    if kind.name == "group":
        doc = etree.fromstring(admin.ok("one.group.info", oid).encode())
        return oid in PERMANENT_GROUPS or doc.find("USERS/ID") is not None
    return kind.name == "datastore" or (kind.name == "cluster" and oid == DEFAULT_CLUSTER)


def _delete(admin: Client, kind: PoolKind, oid: int) -> list:
    if kind.name == "vm":
        admin.call("one.vm.unlock", oid)  # a lock the fuzz set is deliberate, not a fault
        return admin.call("one.vm.recover", oid, 3)
    return admin.call(f"one.{kind.name}.delete", oid)


def read_and_delete(admin: Client, protected: Collection[int], findings: Findings,
                    vm_timeout: float = 20.0) -> None:
    findings.declare(*CHECKS)
    for kind in POOLS:
        for oid in readable(admin, kind, findings):
            if _kept(kind, oid, protected, admin):
                continue
            reply = _delete(admin, kind, oid)
            if not reply[0]:
                findings.add("object not deletable", f"{kind.name} {oid}: {reply[1]!s:.300}")
        if kind.name == "vm":
            _wait_vms_done(admin, findings, vm_timeout)


def _wait_vms_done(admin: Client, findings: Findings, timeout: float) -> None:
    """VMs on a host go DONE through their cleanup; leases and hosts wait for that."""
    deadline = time.monotonic() + timeout
    left = listed(admin, POOLS[0], findings)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = listed(admin, POOLS[0], findings)
    for node in left:
        if node.findtext("STATE") != VM_DONE:
            findings.add("object not deletable",
                         f"vm {node.findtext('ID')}: not DONE {timeout:.0f} s after "
                         f"recover --delete (STATE {node.findtext('STATE')}, LCM_STATE "
                         f"{node.findtext('LCM_STATE')})")
