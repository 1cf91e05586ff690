"""The drivers: a Linux bridge per network, and what each driver adds to it.

`pre` makes the NICs' bridges (and, for VLAN drivers, the device that carries
the network off the host) before the hypervisor plugs the VM's taps into them;
`post` filters the taps once they exist; `clean` takes all that back after
the VM left. Devices a driver creates carry the alias `one-vnm`, so `clean`
removes those and only those, also after oned restarted: a bridge an operator
made stays whatever happens, and a bridge a driver made goes away with the last
port that is not the driver's own.
"""
from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from one.plugins import HostView, VmView, VNMDriver
from one.drivers.remote import Remote, SshSettings
from one_vnm.host import MARK, Change, Command, Executor, HostNet, Links
from one_vnm.nics import Nic, NetworkError, device_name, nics_for

Plan = Callable[[HostNet, Sequence[Nic]], "list[Change]"]
VXLAN_MC = "239.0.0.0"      # OpenNebula's base: VNI n uses group 239.0.0.0 + n
VXLAN_PORT = "4789"         # IANA's VXLAN port (Linux defaults to 8472 otherwise)
VXLAN_TTL = "16"            # OpenNebula's default multicast TTL
CHAIN = "FORWARD"           # ebtables chain of frames bridged between ports


def _delete(device: str) -> Command:
    return ("ip", "link", "del", device)


def _by_bridge(nics: Sequence[Nic]) -> dict[str, list[Nic]]:
    groups: dict[str, list[Nic]] = {}
    for nic in nics:
        groups.setdefault(nic.bridge, []).append(nic)
    return groups


@dataclass(frozen=True)
class Uplink:
    """The device that carries a bridge's frames off the host.

    Either the host's own PHYDEV, only enslaved, or a VLAN or VXLAN device on
    it that the driver creates (`create`) and so also deletes.
    """

    name: str
    create: Command | None = None
    kind: str = ""          # as `ip -d link` names it
    vid: int | None = None


class BridgedVNM(VNMDriver):
    """What every driver here does: bridges on demand, plus an optional uplink device.

    Settings, from the driver's VN_MAD vector in oned.conf: the executor's
    `SSH_USER`, `SSH_PORT`, `SSH_KEY`, `KNOWN_HOSTS`, `ACCEPT_NEW_HOST_KEYS`.
    Actions on one host are serialized, so two VMs booting at once never race
    to create the same bridge.
    """

    def __init__(self, config: Mapping[str, str] | None = None,
                 executor: Executor | None = None) -> None:
        super().__init__(config)
        self.executor = executor or Remote(SshSettings.from_config(self.config))
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def pre(self, vm: VmView, host: HostView) -> None:
        self._act("pre", vm, host, self.plan_pre)

    def post(self, vm: VmView, host: HostView) -> None:
        """Nothing to do: the hypervisor has plugged each tap into its bridge."""

    def clean(self, vm: VmView, host: HostView) -> None:
        self._act("clean", vm, host, self.plan_clean)

    def uplink(self, nic: Nic) -> Uplink | None:
        """The device to enslave to the NIC's bridge: PHYDEV as it is, if the network has one."""
        return Uplink(nic.phydev) if nic.phydev else None

    def _act(self, action: str, vm: VmView, host: HostView, plan: Plan) -> None:
        nics = nics_for(vm, host, self.name)
        if not nics:
            return      # no NIC of this driver: not even a look at the host
        net = HostNet(self.executor, host.name, f"{self.name} {action} of VM {vm.id}", self.log)
        with self._lock(host.name):
            net.apply(plan(net, nics))

    def _lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(host, threading.Lock())

    def plan_pre(self, net: HostNet, nics: Sequence[Nic]) -> list[Change]:
        links, changes = net.links(), []
        for bridge, group in _by_bridge(nics).items():
            changes += _bridge_changes(net, group[0], links)
            uplinks = {uplink.name: uplink for uplink in map(self.uplink, group) if uplink}
            for uplink in uplinks.values():
                changes += _uplink_changes(net, uplink, bridge, links)
        return changes

    def plan_clean(self, net: HostNet, nics: Sequence[Nic]) -> list[Change]:
        """Our devices on each bridge once no VM's port is left but this VM's, which is leaving.

        PHYDEV is no VM's port: it leaves the bridge as the bridge goes.
        """
        links, changes = net.links(), []
        for bridge, group in _by_bridge(nics).items():
            found, ports = links.get(bridge), links.ports(bridge)
            leaving = {nic.tap for nic in group} | {u.name for u in map(self.uplink, group) if u}
            if found is None or any(not p.ours and p.name not in leaving for p in ports):
                continue
            changes += [Change(_delete(port.name)) for port in ports if port.ours]
            if found.ours:
                changes.append(Change(_delete(bridge)))
        return changes


def _bridge_changes(net: HostNet, nic: Nic, links: Links) -> list[Change]:
    """Create the bridge, marked as ours, with the network's MTU; or just bring it up."""
    bridge, found = nic.bridge, links.get(nic.bridge)
    if found is None:
        mtu = ("mtu", nic.mtu) if nic.mtu else ()
        return [Change(("ip", "link", "add", "name", bridge, *mtu, "type", "bridge"),
                       undo=_delete(bridge)),
                Change(("ip", "link", "set", "dev", bridge, "alias", MARK, "up"))]
    if found.kind != "bridge":
        raise net.error(f"device {bridge} exists and is no bridge ({found.kind or 'plain'})")
    return [] if found.up else [Change(("ip", "link", "set", "dev", bridge, "up"))]


def _uplink_changes(net: HostNet, uplink: Uplink, bridge: str, links: Links) -> list[Change]:
    """Create the device and enslave it, or finish what an earlier attempt left."""
    found, name = links.get(uplink.name), uplink.name
    if found is None:
        if uplink.create is None:
            raise net.error(f"PHYDEV {name} does not exist")
        return [Change(uplink.create, undo=_delete(name)),
                Change(("ip", "link", "set", "dev", name, "master", bridge, "alias", MARK, "up"))]
    if uplink.create and (found.kind, found.vid) != (uplink.kind, uplink.vid):
        raise net.error(f"device {name} exists and is no {uplink.kind} {uplink.vid} "
                        f"({found.kind or 'plain'} {found.vid or ''})")
    if found.master not in ("", bridge):
        raise net.error(f"device {name} is a port of bridge {found.master}, not {bridge}")
    if not found.master:
        return [Change(("ip", "link", "set", "dev", name, "master", bridge, "up"),
                       undo=("ip", "link", "set", "dev", name, "nomaster"))]
    return [] if found.up else [Change(("ip", "link", "set", "dev", name, "up"))]


class BridgeVNM(BridgedVNM):
    """`bridge`: the network's BRIDGE on the host, with PHYDEV in it when given."""

    name = "bridge"


class EbtablesVNM(BridgedVNM):
    """`ebtables`: bridges, and OpenNebula's L2 isolation of each tap.

    Into a tap go only frames from MACs of its network; out of it only frames
    with the VM's own MAC. Networks sharing a bridge are so kept apart, and a VM
    cannot pose as another by changing its MAC.
    """

    name = "ebtables"

    def post(self, vm: VmView, host: HostView) -> None:
        self._act("post", vm, host, self.plan_filters)

    def plan_filters(self, net: HostNet, nics: Sequence[Nic]) -> list[Change]:
        """The rules the host lacks, so a repeated post adds none twice."""
        present = set(net.rules(CHAIN))
        return [Change(("ebtables", "-A", CHAIN, *rule), undo=("ebtables", "-D", CHAIN, *rule))
                for nic in nics for rule in filters(nic) if rule not in present]

    def plan_clean(self, net: HostNet, nics: Sequence[Nic]) -> list[Change]:
        """Every copy of the VM's rules, then the bridges as the other drivers."""
        wanted = {rule for nic in nics for rule in filters(nic)}
        removals = [Change(("ebtables", "-D", CHAIN, *rule))
                    for rule in net.rules(CHAIN) if rule in wanted]
        return removals + super().plan_clean(net, nics)


def filters(nic: Nic) -> list[Command]:
    """OpenNebula's two rules for a tap, as `ebtables -L` prints them back."""
    if not nic.mac:
        raise NetworkError(f"NIC {nic.nic_id} has no MAC to filter {nic.tap} with")
    return [("-s", "!", nic.network_macs(), "-o", nic.tap, "-j", "DROP"),
            ("-s", "!", nic.mac, "-i", nic.tap, "-j", "DROP")]


class TaggedVNM(BridgedVNM):
    """A bridge whose uplink is `<PHYDEV>.<VLAN_ID>`, OpenNebula's name for it."""

    device_kind: ClassVar[str] = ""
    max_id: ClassVar[int] = 0

    def uplink(self, nic: Nic) -> Uplink:
        what = f"NIC {nic.nic_id} of a {self.name} network"
        if not nic.phydev:
            raise NetworkError(f"{what} has no PHYDEV to carry VLAN {nic.vlan_id or '?'}")
        if not (nic.vlan_id.isdigit() and 1 <= int(nic.vlan_id) <= self.max_id):
            raise NetworkError(f"{what}: VLAN_ID '{nic.vlan_id}' is not 1..{self.max_id}")
        name = device_name(f"{nic.phydev}.{nic.vlan_id}", f"{what}: device")
        mtu = ("mtu", nic.mtu) if nic.mtu else ()
        return Uplink(name, ("ip", "link", "add", *self.creation(nic, name, mtu)),
                      self.device_kind, int(nic.vlan_id))

    def creation(self, nic: Nic, name: str, mtu: Command) -> Command:
        """The words after `ip link add` that create the device."""
        raise NotImplementedError


class Dot1qVNM(TaggedVNM):
    """`802.1Q`: tagged frames on PHYDEV through a VLAN device in the bridge."""

    name, device_kind, max_id = "802.1Q", "vlan", 4094

    def creation(self, nic: Nic, name: str, mtu: Command) -> Command:
        return ("link", nic.phydev, "name", name, *mtu, "type", "vlan", "id", nic.vlan_id)


class VxlanVNM(TaggedVNM):
    """`vxlan`: the bridge's frames in VXLAN over PHYDEV, VNI = VLAN_ID, flooded by multicast.

    Settings `VXLAN_MC` (base group, 239.0.0.0: VNI n uses the base + n),
    `VXLAN_PORT` (4789) and `VXLAN_TTL` (16).
    """

    name, device_kind, max_id = "vxlan", "vxlan", (1 << 24) - 1

    def __init__(self, config: Mapping[str, str] | None = None,
                 executor: Executor | None = None) -> None:
        super().__init__(config, executor)
        base = self.config.get("VXLAN_MC", VXLAN_MC)
        try:
            self.group_base = ipaddress.IPv4Address(base)
        except ValueError:
            raise NetworkError(f"VXLAN_MC = '{base}' is not an IPv4 address") from None
        self.port = self.config.get("VXLAN_PORT", VXLAN_PORT)
        self.ttl = self.config.get("VXLAN_TTL", VXLAN_TTL)
        for key, value in (("VXLAN_PORT", self.port), ("VXLAN_TTL", self.ttl)):
            if not value.isdigit():
                raise NetworkError(f"{key} = '{value}' is not a number")

    def creation(self, nic: Nic, name: str, mtu: Command) -> Command:
        number = int(self.group_base) + int(nic.vlan_id)
        group = ipaddress.IPv4Address(number) if number <= 0xFFFF_FFFF else None
        if group is None or not group.is_multicast:
            raise NetworkError(f"VXLAN_MC {self.group_base} + VNI {nic.vlan_id} is no "
                               f"multicast group")
        return ("name", name, *mtu, "type", "vxlan", "id", nic.vlan_id, "group", str(group),
                "dev", nic.phydev, "dstport", self.port, "ttl", self.ttl)
