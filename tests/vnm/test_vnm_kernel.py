"""The network drivers against this machine's kernel, on hosts made of namespaces.

Each host is a network namespace reached over SSH through the executor the
drivers use in production (see netns.py); VMs are namespaces behind taps the
test plugs into the bridges, as a hypervisor would. Traffic between VMs is a
TCP connection to a service in the other VM, which needs ARP and IP to cross
the bridges (and the VXLAN tunnel) both ways.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
import netns
import pytest
from netns import TRUNK, UNDERLAY, Lab, vm_view
from one_vnm import BridgedVNM, BridgeVNM, EbtablesVNM, NetworkError, VxlanVNM

from one.drivers.remote import Remote

Make = Callable[[type[BridgedVNM]], BridgedVNM]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with netns.lab(tmp_path_factory.mktemp("vnm-lab")) as built:
        yield built


@pytest.fixture
def vms(lab: Lab) -> Iterator[Lab]:
    """The lab, whose VMs made in the test are removed after it."""
    with lab.scope():
        yield lab


@pytest.fixture
def make(lab: Lab) -> Iterator[Make]:
    """Drivers as oned builds them from their settings; their SSH connections closed after."""
    made: list[BridgedVNM] = []

    def driver(cls: type[BridgedVNM]) -> BridgedVNM:
        made.append(cls(lab.settings))
        return made[-1]
    yield driver
    for each in made:
        assert isinstance(each.executor, Remote)
        each.executor.close()


def _nic(mac: str, ip: str, **network: str) -> dict[str, str]:
    return {"MAC": mac, "IP": ip, "NETWORK_MASK": "255.255.255.0", **network}


@pytest.mark.parametrize("driver_class, network, uplink", [
    (BridgeVNM, {"VN_MAD": "bridge", "BRIDGE": "onebr-l2", "PHYDEV": TRUNK}, TRUNK),
    (VxlanVNM, {"VN_MAD": "vxlan", "BRIDGE": "onebr-vx", "PHYDEV": UNDERLAY, "VLAN_ID": "51"},
     f"{UNDERLAY}.51"),
])
def test_one_segment_across_two_hosts(vms: Lab, make: Make, driver_class: type[BridgedVNM],
                                      network: dict[str, str], uplink: str) -> None:
    h1, h2 = vms.hosts
    before = [host.devices() for host in vms.hosts]
    bridge, driver = network["BRIDGE"], make(driver_class)
    guests = [vms.guest(h1, "one-1-0", "02:00:0a:03:00:01", "10.3.0.1/24"),
              vms.guest(h2, "one-2-0", "02:00:0a:03:00:02", "10.3.0.2/24")]
    views = [vm_view(1, _nic("02:00:0a:03:00:01", "10.3.0.1", **network)),
             vm_view(2, _nic("02:00:0a:03:00:02", "10.3.0.2", **network))]
    for guest, vm in zip(guests, views):
        driver.pre(vm, guest.host.view)
        guest.plug(bridge)
        driver.post(vm, guest.host.view)
    assert [host.master(uplink) for host in vms.hosts] == [bridge, bridge]
    guests[1].serve()
    assert guests[0].reaches(guests[1])

    for guest, vm in zip(guests, views):
        guest.unplug()
        driver.clean(vm, guest.host.view)
        driver.clean(vm, guest.host.view)
    assert [host.devices() for host in vms.hosts] == [b - {"one-1-0", "one-2-0"} for b in before]
    assert [host.master(TRUNK) for host in vms.hosts] == ["", ""]


NET_A = {"VN_MAD": "ebtables", "BRIDGE": "onebr-eb"}
NET_B = NET_A     # another network on the same bridge: only its MAC range differs


def test_ebtables_keeps_spoofers_and_other_networks_away(vms: Lab, make: Make) -> None:
    h1 = vms.hosts[0]
    before = h1.devices()
    # VM 12 leased ...:0c but sends as ...:63, inside its network's range; VM 13 belongs to
    # network B (10.2.0.0/24) and takes an address of A's subnet to try its luck.
    nics = {10: _nic("02:00:0a:01:00:0a", "10.1.0.10", **NET_A),
            11: _nic("02:00:0a:01:00:0b", "10.1.0.11", **NET_A),
            12: _nic("02:00:0a:01:00:0c", "10.1.0.12", **NET_A),
            13: _nic("02:00:0a:02:00:0d", "10.2.0.13", **NET_B)}
    macs = {10: "02:00:0a:01:00:0a", 11: "02:00:0a:01:00:0b", 12: "02:00:0a:01:00:63",
            13: "02:00:0a:02:00:0d"}
    views = {vid: vm_view(vid, nic) for vid, nic in nics.items()}
    guests = {vid: vms.guest(h1, f"one-{vid}-0", macs[vid], f"10.1.0.{vid}/24") for vid in nics}
    driver = make(EbtablesVNM)
    for vid, vm in views.items():
        driver.pre(vm, h1.view)
        guests[vid].plug("onebr-eb")
    protected = guests[10]
    protected.serve()
    assert guests[12].reaches(protected) and guests[13].reaches(protected), "no filter yet"

    for vm in views.values():
        driver.post(vm, h1.view)
    assert guests[11].reaches(protected)
    assert not guests[12].reaches(protected), "a spoofed MAC must not get out of its tap"
    assert not guests[13].reaches(protected), "another network's MAC must not get in"
    rules = h1.rules()
    assert len(rules) == 8

    restarted = make(EbtablesVNM)       # as after an oned restart: nothing remembered
    for vm in views.values():
        restarted.pre(vm, h1.view)
        restarted.post(vm, h1.view)
    assert h1.rules() == rules

    for vid, vm in views.items():
        guests[vid].unplug()
        restarted.clean(vm, h1.view)
        restarted.clean(vm, h1.view)
    assert h1.rules() == []
    assert h1.devices() == before - {f"one-{vid}-0" for vid in nics}


def test_a_failing_step_leaves_no_bridge_behind(vms: Lab, make: Make) -> None:
    h1 = vms.hosts[0]
    before = h1.devices()
    vm = vm_view(5, _nic("02:00:0a:05:00:01", "10.5.0.1", VN_MAD="vxlan", BRIDGE="onebr-bad",
                         PHYDEV="eth9", VLAN_ID="61"))
    with pytest.raises(NetworkError) as failure:
        make(VxlanVNM).pre(vm, h1.view)
    message = str(failure.value)
    assert message.startswith(
        f"vxlan pre of VM 5 on host {h1.name}: `ip link add name eth9.61 type vxlan id 61 "
        "group 239.0.0.61 dev eth9 dstport 4789 ttl 16` failed: ")
    assert message.endswith("; undid 1 change(s) made before")
    assert h1.devices() == before


def test_vms_booting_at_once_share_one_bridge(vms: Lab, make: Make) -> None:
    h1, driver = vms.hosts[0], make(BridgeVNM)
    views = [vm_view(vid, _nic(f"02:00:0a:06:00:{vid:02x}", f"10.6.0.{vid}", VN_MAD="bridge",
                               BRIDGE="onebr-many")) for vid in range(20, 28)]
    with ThreadPoolExecutor(len(views)) as pool:
        list(pool.map(lambda vm: driver.pre(vm, h1.view), views))
    assert "onebr-many" in h1.devices()
    with ThreadPoolExecutor(len(views)) as pool:
        list(pool.map(lambda vm: driver.clean(vm, h1.view), views))
    assert "onebr-many" not in h1.devices()


def test_a_bridge_the_operator_made_stays(vms: Lab, make: Make) -> None:
    h1 = vms.hosts[0]
    h1.sh("ip link add name br-admin type bridge")
    vm = vm_view(7, _nic("02:00:0a:07:00:01", "10.7.0.1", VN_MAD="bridge", BRIDGE="br-admin"))
    guest = vms.guest(h1, "one-7-0", "02:00:0a:07:00:01", "10.7.0.1/24")
    driver = make(BridgeVNM)
    driver.pre(vm, h1.view)
    guest.plug("br-admin")
    guest.unplug()
    driver.clean(vm, h1.view)
    assert "br-admin" in h1.devices()
    h1.sh("ip link del br-admin")


def test_commands_run_inside_the_host_they_name(lab: Lab, make: Make) -> None:
    """The premise of this module: the executor reaches each namespace through its sshd."""
    executor = make(BridgeVNM).executor
    for host in lab.hosts:
        inode = executor.run(host.name, "stat -L -c %i /proc/self/ns/net").strip()
        assert int(inode) == os.stat(f"/run/netns/{host.ns}").st_ino
