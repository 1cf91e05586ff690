"""The NICs a network driver acts on, read from the VM as the core hands it over.

A NIC carries what its network gave it (BRIDGE, VN_MAD, PHYDEV, VLAN_ID, MTU,
NETWORK_MASK) and its lease (MAC, IP). Every name read here ends up in a
command on a host, so each is checked to be a device name Linux accepts
before anything runs.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from one.errors import InternalError
from one.plugins import HostView, VmView

IFNAMSIZ = 15           # longest Linux device name
_DEVICE = re.compile(r"[A-Za-z0-9_.+-]+")
# OpenNebula's ebtables mask: the MAC minus its last byte. MACs of IPv4 ranges are
# MAC_PREFIX + the four IP bytes, so this is a /24 network.
OPENNEBULA_MASK = 0xFFFF_FFFF_FF00
_PREFIX_MASK = 0xFFFF_0000_0000     # the MAC_PREFIX bytes in front of the IP bytes
_IP_BITS = 0xFFFF_FFFF


class NetworkError(InternalError):
    """A network step that cannot be done; the message says on which host and why."""


def device_name(name: str, what: str) -> str:
    """`name` if Linux takes it as a device name, which also keeps shell commands plain."""
    if not (len(name) <= IFNAMSIZ and _DEVICE.fullmatch(name) and name not in (".", "..")):
        raise NetworkError(f"{what} '{name}' is not a device name (1 to {IFNAMSIZ} of "
                           f"A-Z a-z 0-9 _ . + -)")
    return name


def mac_to_int(mac: str) -> int:
    parts = mac.strip().split(":")
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9A-Fa-f]{1,2}", p) for p in parts):
        raise NetworkError(f"'{mac}' is not a MAC address")
    return int("".join(p.zfill(2) for p in parts), 16)


def int_to_mac(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True)
class Nic:
    """One NIC of a VM, as much of it as host networking needs."""

    nic_id: str
    tap: str                # the hypervisor's device for it: TARGET, else one-<vm id>-<nic id>
    bridge: str
    mac: str = ""
    ip: str = ""
    network_mask: str = ""
    phydev: str = ""
    vlan_id: str = ""
    mtu: str = ""

    @classmethod
    def of(cls, vm_id: int, attrs: Mapping[str, str]) -> Nic:
        nic_id = attrs.get("NIC_ID", "0")
        what = f"NIC {nic_id} of VM {vm_id}:"
        bridge = attrs.get("BRIDGE", "")
        if not bridge:
            raise NetworkError(f"{what} no BRIDGE: its network names none")
        mtu = attrs.get("MTU", "")
        if mtu and not mtu.isdigit():
            raise NetworkError(f"{what} MTU '{mtu}' is not a number")
        phydev, tap = attrs.get("PHYDEV", ""), attrs.get("TARGET") or f"one-{vm_id}-{nic_id}"
        return cls(nic_id=nic_id, tap=device_name(tap, f"{what} TARGET"),
                   bridge=device_name(bridge, f"{what} BRIDGE"),
                   mac=int_to_mac(mac_to_int(attrs["MAC"])) if attrs.get("MAC") else "",
                   ip=attrs.get("IP", ""), network_mask=attrs.get("NETWORK_MASK", ""),
                   phydev=device_name(phydev, f"{what} PHYDEV") if phydev else "",
                   vlan_id=attrs.get("VLAN_ID", ""), mtu=mtu)

    def network_macs(self) -> str:
        """The MACs of this NIC's network, as ebtables' `prefix/mask`.

        The NIC does not say how large its address range is, so the mask comes
        from what it does say: when the MAC embeds the IP (IPv4 ranges) the
        network's NETWORK_MASK widened by the MAC_PREFIX bytes, a /16 giving
        ff:ff:ff:ff:00:00; otherwise OpenNebula's fixed ff:ff:ff:ff:ff:00.
        """
        mac, mask = mac_to_int(self.mac), OPENNEBULA_MASK
        if self.ip and self.network_mask and mac & _IP_BITS == _ip_to_int(self.ip):
            mask = _PREFIX_MASK | _netmask_to_int(self.network_mask)
        return f"{int_to_mac(mac & mask)}/{int_to_mac(mask)}"


def _ip_to_int(ip: str) -> int:
    try:
        return int(ipaddress.IPv4Address(ip))
    except ValueError:
        return -1       # an IPv6 lease: its MAC embeds no IPv4 address


def _netmask_to_int(mask: str) -> int:
    """NETWORK_MASK as OpenNebula writes it (255.255.255.0), or a prefix length."""
    try:
        return int(ipaddress.IPv4Network(f"0.0.0.0/{mask}").netmask)
    except ValueError:
        raise NetworkError(f"NETWORK_MASK '{mask}' is not an IPv4 network mask") from None


def nics_for(vm: VmView, host: HostView, vn_mad: str) -> list[Nic]:
    """The VM's NICs whose network names `vn_mad`; a NIC naming none goes by the host's VN_MAD."""
    default = host.template.get("VN_MAD")
    return [Nic.of(vm.id, attrs) for attrs in vm.template.vectors("NIC")
            if (attrs.get("VN_MAD") or default) == vn_mad]
