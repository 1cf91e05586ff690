"""Address ranges: the arithmetic behind leases, IPs and MACs.

An AR is stored as a dict with OpenNebula's names (AR_ID, TYPE, IP, MAC, SIZE,
NEXT_INDEX); lease number i of an AR has address IP+i and MAC MAC+i. For IPv4
ranges the MAC is the network's MAC_PREFIX followed by the four IP bytes.
"""
from __future__ import annotations

import ipaddress
import secrets
from typing import Any, Mapping

from one.errors import AllocateError

AR_TYPES = ("IP4", "ETHER", "IP4_6", "IP6")
DEFAULT_MAC_PREFIX = "02:00"
_RESERVED_KEYS = {"AR_ID", "TYPE", "IP", "MAC", "SIZE", "NEXT_INDEX"}


def ip_to_int(ip: str) -> int:
    try:
        return int(ipaddress.IPv4Address(ip.strip()))
    except ValueError:
        raise AllocateError(f"Wrong IP address: '{ip}'") from None


def int_to_ip(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def mac_to_int(mac: str) -> int:
    parts = mac.strip().lower().split(":")
    if len(parts) != 6 or not all(len(p) == 2 and _is_hex(p) for p in parts):
        raise AllocateError(f"Wrong MAC address: '{mac}'")
    return int("".join(parts), 16)


def int_to_mac(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def mac_for_ip(prefix: str, ip: str) -> str:
    """MAC = 16-bit prefix + the 32-bit IPv4 address (OpenNebula's derivation)."""
    return int_to_mac((mac_to_int(prefix + ":00:00:00:00") & 0xFFFF00000000) | ip_to_int(ip))


def make_ar(ar_id: int, spec: Mapping[str, str], mac_prefix: str = DEFAULT_MAC_PREFIX) -> dict[str, Any]:
    """Validate an `AR = [...]` vector and build the stored range."""
    kind = spec.get("TYPE", "").upper()
    if kind not in AR_TYPES:
        raise AllocateError(f"Unknown or missing TYPE in address range: '{kind}'")
    size_text = spec.get("SIZE", "")
    if not size_text.isdigit() or int(size_text) <= 0:
        raise AllocateError(f"SIZE of an address range must be a positive integer, not '{size_text}'")
    size = int(size_text)
    ar: dict[str, Any] = {"AR_ID": ar_id, "TYPE": kind, "SIZE": size, "NEXT_INDEX": 0}
    if kind in ("IP4", "IP4_6"):
        if "IP" not in spec:
            raise AllocateError("An IP4 address range needs an IP")
        first = ip_to_int(spec["IP"])
        if first + size - 1 > 0xFFFFFFFF:
            raise AllocateError("Address range goes beyond 255.255.255.255")
        ar["IP"] = int_to_ip(first)
    if "MAC" in spec:
        ar["MAC"] = int_to_mac(mac_to_int(spec["MAC"]))
    elif "IP" in ar:
        ar["MAC"] = mac_for_ip(mac_prefix, ar["IP"])
    else:
        ar["MAC"] = int_to_mac((mac_to_int(mac_prefix + ":00:00:00:00") & 0xFFFF00000000)
                               | secrets.randbits(32) & 0xFFFF0000)
    if mac_to_int(ar["MAC"]) + size - 1 > 0xFFFFFFFFFFFF:
        raise AllocateError("Address range goes beyond ff:ff:ff:ff:ff:ff")
    ar["ATTRS"] = {k: v for k, v in spec.items() if k not in _RESERVED_KEYS}
    return ar


def lease_ip(ar: Mapping[str, Any], index: int) -> str | None:
    return int_to_ip(ip_to_int(ar["IP"]) + index) if "IP" in ar else None


def lease_mac(ar: Mapping[str, Any], index: int) -> str:
    return int_to_mac(mac_to_int(ar["MAC"]) + index)


def index_of_ip(ar: Mapping[str, Any], ip: str) -> int | None:
    if "IP" not in ar:
        return None
    index = ip_to_int(ip) - ip_to_int(ar["IP"])
    return index if 0 <= index < ar["SIZE"] else None


def index_of_mac(ar: Mapping[str, Any], mac: str) -> int | None:
    index = mac_to_int(mac) - mac_to_int(ar["MAC"])
    return index if 0 <= index < ar["SIZE"] else None


def ar_end(ar: Mapping[str, Any]) -> dict[str, str]:
    """MAC_END and IP_END, as vn.info shows them."""
    last = ar["SIZE"] - 1
    end = {"MAC_END": lease_mac(ar, last)}
    if "IP" in ar:
        end["IP_END"] = int_to_ip(ip_to_int(ar["IP"]) + last)
    return end
