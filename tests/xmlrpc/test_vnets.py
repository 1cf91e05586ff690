"""Networks: ranges, MACs from IPs, leases at allocate, holds, reservations."""
from __future__ import annotations

from lxml import etree

from conftest import Caller

VM = "CPU = 1 MEMORY = 64"  # what every VM must ask for
ALLOCATE, ACTION = 0x4000, 0x800


def _doc(rpc: Caller, nid: int) -> etree._Element:
    return etree.fromstring(rpc.ok("one.vn.info", nid).encode())


def _leases(rpc: Caller, nid: int) -> list[tuple[str, str, str]]:
    return [(l.findtext("IP"), l.findtext("MAC"), l.findtext("VM") or "VNET:" + l.findtext("VNET"))
            for l in _doc(rpc, nid).iter("LEASE")]


def _nic(rpc: Caller, vid: int, key: str) -> str:
    return etree.fromstring(rpc.ok("one.vm.info", vid).encode()).findtext(f"TEMPLATE/NIC/{key}")


def test_leases_follow_the_cursor_and_macs_derive_from_ips(rpc: Caller) -> None:
    rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 192.168.0.254, SIZE = 3 ]", -1)
    vids = [rpc.ok("one.vm.allocate", f"{VM} NIC = [ NETWORK = n ]", False) for _ in range(3)]
    assert [_nic(rpc, v, "IP") for v in vids] == ["192.168.0.254", "192.168.0.255", "192.168.1.0"]
    assert _nic(rpc, vids[2], "MAC") == "02:00:c0:a8:01:00"
    assert "No free address" in rpc.fails("one.vm.allocate", f"{VM} NIC = [ NETWORK = n ]", False, code=ALLOCATE)
    rpc.ok("one.vm.action", "terminate", vids[1])
    assert _nic(rpc, rpc.ok("one.vm.allocate", f"{VM} NIC = [ NETWORK = n ]", False), "IP") == "192.168.0.255"


def test_explicit_ip_and_conflicts(rpc: Caller) -> None:
    rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 10 ]", -1)
    vid = rpc.ok("one.vm.allocate", f"{VM} NIC = [ NETWORK = n, IP = 10.0.0.7 ]", False)
    assert _nic(rpc, vid, "IP") == "10.0.0.7"
    assert "in use" in rpc.fails("one.vm.allocate", f"{VM} NIC = [ NETWORK = n, IP = 10.0.0.7 ]", False, code=ALLOCATE)
    assert "not part" in rpc.fails("one.vm.allocate", f"{VM} NIC = [ NETWORK = n, IP = 10.0.1.7 ]", False, code=ALLOCATE)


def test_hold_release_and_ether_ranges(rpc: Caller) -> None:
    nid = rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 2 ]\n"
                 "AR = [ TYPE = ETHER, SIZE = 2, MAC = 02:11:00:00:00:10 ]", -1)
    rpc.ok("one.vn.hold", nid, "LEASES = [ IP = 10.0.0.1 ]")
    assert _leases(rpc, nid) == [("10.0.0.1", "02:00:0a:00:00:01", "-1")]
    assert _nic(rpc, rpc.ok("one.vm.allocate", f"{VM} NIC = [ NETWORK = n ]", False), "IP") == "10.0.0.2"
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 NIC = [ NETWORK = n ]", False)
    assert _nic(rpc, vid, "IP") is None and _nic(rpc, vid, "MAC") == "02:11:00:00:00:10"
    assert "not on hold" in rpc.fails("one.vn.release", nid, "LEASES = [ IP = 10.0.0.2 ]", code=ACTION)
    rpc.ok("one.vn.release", nid, "LEASES = [ IP = 10.0.0.1 ]")
    assert int(_doc(rpc, nid).findtext("USED_LEASES")) == 2


def test_address_ranges_add_update_remove(rpc: Caller) -> None:
    nid = rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy", -1)
    rpc.ok("one.vn.add_ar", nid, "AR = [ TYPE = IP4, IP = 10.2.0.1, SIZE = 4 ]")
    rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 NIC = [ NETWORK = n, IP = 10.2.0.3 ]", False)
    assert "shrink" in rpc.fails("one.vn.update_ar", nid, "AR = [ AR_ID = 0, SIZE = 2 ]", code=ACTION)
    rpc.ok("one.vn.update_ar", nid, "AR = [ AR_ID = 0, SIZE = 8 ]")
    assert _doc(rpc, nid).findtext("AR_POOL/AR/IP_END") == "10.2.0.8"
    assert "in use" in rpc.fails("one.vn.rm_ar", nid, 0, code=ACTION)
    rpc.ok("one.vm.action", "terminate", 0)
    rpc.ok("one.vn.rm_ar", nid, 0)
    assert _doc(rpc, nid).find("AR_POOL/AR") is None


def test_reserve_and_free_ar(rpc: Caller) -> None:
    parent = rpc.ok("one.vn.allocate", "NAME = pub VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.3.0.1, SIZE = 10 ]", -1)
    rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 NIC = [ NETWORK = pub ]", False)
    child = rpc.ok("one.vn.reserve", parent, "SIZE = 3 NAME = mine")
    assert [l[0] for l in _leases(rpc, parent)] == ["10.3.0.1", "10.3.0.2", "10.3.0.3", "10.3.0.4"]
    assert _leases(rpc, parent)[1][2] == f"VNET:{child}"
    assert _doc(rpc, child).findtext("PARENT_NETWORK_ID") == str(parent)
    vid = rpc.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 NIC = [ NETWORK_ID = {child} ]", False)
    assert _nic(rpc, vid, "IP") == "10.3.0.2"
    assert "not a reservation" in rpc.fails("one.vn.free_ar", parent, 0, code=ACTION)
    assert "in use" in rpc.fails("one.vn.free_ar", child, 0, code=ACTION)
    rpc.ok("one.vm.action", "terminate", vid)
    rpc.ok("one.vn.free_ar", child, 0)
    assert [l[0] for l in _leases(rpc, parent)] == ["10.3.0.1"]
    assert "Not enough" in rpc.fails("one.vn.reserve", parent, "SIZE = 10 NAME = big", code=ALLOCATE)


def test_delete_refuses_networks_in_use(rpc: Caller) -> None:
    nid = rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 2 ]", -1)
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 NIC = [ NETWORK = n ]", False)
    assert "in use" in rpc.fails("one.vn.delete", nid, code=ACTION)
    rpc.ok("one.vm.action", "terminate", vid)
    rpc.ok("one.vn.delete", nid)
    rpc.fails("one.vn.info", nid, code=0x400)


def test_user_needs_use_permission_on_network(rpc: Caller) -> None:
    rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 2 ]", -1)
    rpc.ok("one.user.allocate", "u", "pw", "core", [])
    user = rpc.as_user("u:pw")
    user.fails("one.vm.allocate", "CPU = 1 MEMORY = 64 NIC = [ NETWORK_ID = 0 ]", False, code=0x200)
    rpc.ok("one.vn.chmod", 0, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    assert user.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 NIC = [ NETWORK_ID = 0 ]", False) == 0


def test_vlan_ids(rpc: Caller) -> None:
    first = rpc.ok("one.vn.allocate", "NAME = a VN_MAD = 802.1Q PHYDEV = eth0", -1)
    second = rpc.ok("one.vn.allocate", "NAME = b VN_MAD = vxlan PHYDEV = eth0", -1)
    manual = rpc.ok("one.vn.allocate", "NAME = c VN_MAD = 802.1Q VLAN_ID = 3", -1)
    plain = rpc.ok("one.vn.allocate", "NAME = d VN_MAD = bridge", -1)
    auto = rpc.ok("one.vn.allocate", "NAME = e VN_MAD = bridge AUTOMATIC_VLAN_ID = YES", -1)
    vlan = {nid: (_doc(rpc, nid).findtext("VLAN_ID"), _doc(rpc, nid).findtext("VLAN_ID_AUTOMATIC"))
            for nid in (first, second, manual, plain, auto)}
    # a VLAN_ID given by hand is the operator's call, even if taken; the pool skips used ones
    assert vlan == {first: ("2", "1"), second: ("3", "1"), manual: ("3", "0"), plain: (None, "0"),
                    auto: ("4", "1")}
    assert "VLAN_ID must be" in rpc.fails("one.vn.allocate", "NAME = f VN_MAD = 802.1Q VLAN_ID = 5000",
                                          -1, code=ALLOCATE)
