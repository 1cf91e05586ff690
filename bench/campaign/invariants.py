"""What must hold of oned's pools whenever its VMs are at rest, read over XML-RPC:
no VM lost, no lease of a finished VM, host bookings that match the VMs placed,
no DONE VM with an open history record."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from bench.campaign.fields import integer
from bench.campaign.findings import Findings
from bench.campaign.oned import Client
from one.states import LcmState, VmState

CHECKS = ("VM lost", "DONE VM with an open history record", "phantom host booking",
          "VM placed but not booked", "host usage differs from its VMs", "leaked lease",
          "IP leased to two VMs")
ALL_VMS = (-2, -1, -1, -2)  # every owner, every id, any state including DONE


@dataclass
class VmFacts:
    vid: int
    state: int
    lcm: int
    cpu: float
    memory: int
    open_hosts: list[int] = field(default_factory=list)  # HIDs of records with ETIME 0
    ips: list[tuple[int, str]] = field(default_factory=list)  # (network id, IP) of its NICs

    @property
    def done(self) -> bool:
        return self.state == VmState.DONE

    def describe(self) -> str:
        lcm = f"/{LcmState(self.lcm).name}" if self.state == VmState.ACTIVE else ""
        return f"VM {self.vid} {VmState(self.state).name}{lcm}"


def _number(node: etree._Element, path: str, default: float = 0) -> float:
    text = node.findtext(path)
    try:
        return float(text) if text else default
    except ValueError:
        return default


def vm_facts(doc: etree._Element) -> VmFacts:
    facts = VmFacts(integer(doc, "ID"), integer(doc, "STATE"), integer(doc, "LCM_STATE"),
                    _number(doc, "TEMPLATE/CPU"), int(_number(doc, "TEMPLATE/MEMORY")))
    facts.open_hosts = [integer(h, "HID") for h in doc.iterfind("HISTORY_RECORDS/HISTORY")
                        if h.findtext("ETIME") in ("0", "", None)]
    facts.ips = [(int(nic.findtext("NETWORK_ID") or -1), nic.findtext("IP") or "")
                 for nic in doc.iterfind("TEMPLATE/NIC")]
    return facts


def vms(client: Client) -> dict[int, VmFacts]:
    pool = etree.fromstring(client.ok("one.vmpool.infoextended", *ALL_VMS).encode())
    return {facts.vid: facts for facts in map(vm_facts, pool.iterfind("VM"))}


def check(client: Client, allocated: Iterable[int], findings: Findings) -> dict[int, VmFacts]:
    """Every invariant against the pools as they are now; returns the VMs read."""
    findings.declare(*CHECKS)
    found = vms(client)
    for vid in sorted(set(allocated) - set(found)):
        reply = client.call("one.vm.info", vid)
        if not reply[0]:
            findings.add("VM lost", f"VM {vid} was allocated; one.vm.info says: {reply[1]}")
    for facts in found.values():
        if facts.done and facts.open_hosts:
            findings.add("DONE VM with an open history record",
                         f"VM {facts.vid}: open record on host(s) {facts.open_hosts}")
    _check_hosts(client, found, findings)
    _check_leases(client, found, findings)
    return found


def _check_hosts(client: Client, found: dict[int, VmFacts], findings: Findings) -> None:
    placed: dict[int, list[VmFacts]] = {}
    for facts in found.values():
        for hid in [] if facts.done else facts.open_hosts:
            placed.setdefault(hid, []).append(facts)
    hosts = etree.fromstring(client.ok("one.hostpool.info").encode())
    for host in hosts.iterfind("HOST"):
        hid, name = integer(host, "ID"), host.findtext("NAME")
        booked = {integer(vm, ".") for vm in host.iterfind("VMS/ID")}
        expected = {facts.vid: facts for facts in placed.get(hid, [])}
        for vid in sorted(booked - set(expected)):
            what = found[vid].describe() if vid in found else f"VM {vid} (absent)"
            findings.add("phantom host booking", f"host {name} books {what}")
        for vid in sorted(set(expected) - booked):
            findings.add("VM placed but not booked", f"{expected[vid].describe()} on {name}")
        usage = (_number(host, "HOST_SHARE/CPU_USAGE"), _number(host, "HOST_SHARE/MEM_USAGE"))
        wanted = (round(sum(f.cpu * 100 for f in expected.values())),
                  sum(f.memory * 1024 for f in expected.values()))
        if (round(usage[0]), usage[1]) != wanted:
            findings.add("host usage differs from its VMs",
                         f"host {name}: CPU_USAGE/MEM_USAGE {usage[0]:g}/{usage[1]:g}, its "
                         f"VMs {sorted(expected)} add up to {wanted[0]}/{wanted[1]}")


def _check_leases(client: Client, found: dict[int, VmFacts], findings: Findings) -> None:
    nets = etree.fromstring(client.ok("one.vnpool.info", -2, -1, -1).encode())
    for nid in (integer(n, "ID") for n in nets.iterfind("VNET")):
        net = etree.fromstring(client.ok("one.vn.info", nid).encode())
        for lease in net.iterfind("AR_POOL/AR/LEASES/LEASE"):
            vid = int(lease.findtext("VM") or -1)
            if vid >= 0 and (vid not in found or found[vid].done):
                owner = found[vid].describe() if vid in found else f"absent VM {vid}"
                findings.add("leaked lease", f"network {nid} IP {lease.findtext('IP')} "
                                             f"still leased to {owner}")
    live_ips = Counter(ip for facts in found.values() if not facts.done for ip in facts.ips)
    for (nid, ip), count in live_ips.items():
        if ip and count > 1:
            owners = [f.vid for f in found.values() if not f.done and (nid, ip) in f.ips]
            findings.add("IP leased to two VMs", f"network {nid} IP {ip}: VMs {owners}")
