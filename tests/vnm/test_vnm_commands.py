"""The exact commands each network driver sends, against scripted hosts.

The kernel these tests run on has no 802.1Q, so this is where that driver is
proven: what it sends on a fresh host, on a host already set up (nothing), to
finish what a crash left, when the last VM leaves, and how it undoes a step
the kernel refuses. The other drivers' commands are pinned here too; the real
kernel runs them in test_vnm_kernel.py.
"""
from __future__ import annotations

from dataclasses import replace
from importlib.metadata import entry_points

import one_vnm
import pytest
from netns import vm_view
from one_vnm import BridgeVNM, Dot1qVNM, EbtablesVNM, NetworkError, Nic, VxlanVNM
from scripted import ScriptedHost, link

from one.plugins import HostView, TemplateView
from one.plugins.testing import registered
from one.states import HostState

NODE = HostView(id=1, name="node1", state=HostState.MONITORED, im_mad="kvm", vm_mad="kvm")
LEASE = {"MAC": "02:00:0a:01:00:0a", "IP": "10.1.0.10", "NETWORK_MASK": "255.255.255.0"}
VLAN = {"VN_MAD": "802.1Q", "BRIDGE": "onebr5", "PHYDEV": "eth0", "VLAN_ID": "100",
        "MTU": "1500", **LEASE}
FRESH_8021Q = [
    "ip link add name onebr5 mtu 1500 type bridge",
    "ip link set dev onebr5 alias one-vnm up",
    "ip link add link eth0 name eth0.100 mtu 1500 type vlan id 100",
    "ip link set dev eth0.100 master onebr5 alias one-vnm up",
]
OURS = "one-vnm"


def _set_up(*extra: dict[str, object]) -> ScriptedHost:
    """A host where the 802.1Q network of VM 3 is up, its tap in the bridge."""
    return ScriptedHost(links=[
        link("eth0"), link("onebr5", "bridge", alias=OURS),
        link("eth0.100", "vlan", master="onebr5", alias=OURS, vid=100),
        link("one-3-0", "tun", master="onebr5"), *extra])


def test_8021q_on_a_fresh_host_makes_the_bridge_then_the_vlan_device() -> None:
    host = ScriptedHost(links=[link("eth0")])
    Dot1qVNM(executor=host).pre(vm_view(3, VLAN), NODE)
    assert host.commands == FRESH_8021Q
    assert host.hosts == {"node1"}


def test_8021q_pre_on_a_host_set_up_sends_nothing() -> None:
    host = _set_up()
    Dot1qVNM(executor=host).pre(vm_view(3, VLAN), NODE)
    Dot1qVNM(executor=host).post(vm_view(3, VLAN), NODE)
    assert host.commands == []


def test_8021q_pre_finishes_what_an_interrupted_one_left() -> None:
    host = ScriptedHost(links=[link("eth0"), link("onebr5", "bridge", alias=OURS, up=False),
                               link("eth0.100", "vlan", alias=OURS, vid=100)])
    Dot1qVNM(executor=host).pre(vm_view(3, VLAN), NODE)
    assert host.commands == ["ip link set dev onebr5 up",
                             "ip link set dev eth0.100 master onebr5 up"]


def test_8021q_clean_removes_the_vlan_device_then_the_bridge_with_the_last_vm() -> None:
    host = _set_up()
    Dot1qVNM(executor=host).clean(vm_view(3, VLAN), NODE)
    assert host.commands == ["ip link del eth0.100", "ip link del onebr5"]


def test_8021q_clean_keeps_everything_while_another_vm_uses_the_bridge() -> None:
    host = _set_up(link("one-4-0", "tun", master="onebr5"))
    Dot1qVNM(executor=host).clean(vm_view(3, VLAN), NODE)
    assert host.commands == []


def test_clean_takes_only_its_own_device_out_of_an_operators_bridge() -> None:
    host = ScriptedHost(links=[link("eth0"), link("onebr5", "bridge"),
                               link("eth0.100", "vlan", master="onebr5", alias=OURS, vid=100)])
    Dot1qVNM(executor=host).clean(vm_view(3, VLAN), NODE)
    assert host.commands == ["ip link del eth0.100"]


def test_a_refused_step_undoes_the_steps_before_it_and_says_where() -> None:
    host = ScriptedHost(links=[link("eth0")], refuse=("ip link add link",))
    with pytest.raises(NetworkError) as failure:
        Dot1qVNM(executor=host).pre(vm_view(3, VLAN), NODE)
    assert str(failure.value) == (
        "802.1Q pre of VM 3 on host node1: `ip link add link eth0 name eth0.100 mtu 1500 type "
        "vlan id 100` failed: Error: Unknown device type.; undid 1 change(s) made before")
    assert host.commands == FRESH_8021Q[:3] + ["ip link del onebr5"]


def test_an_undo_that_fails_is_reported_too() -> None:
    host = ScriptedHost(links=[link("eth0")], refuse=("ip link add link", "ip link del"))
    with pytest.raises(NetworkError, match="; could not undo: `ip link del onebr5` failed: "
                                           "Error: Unknown device type.$"):
        Dot1qVNM(executor=host).pre(vm_view(3, VLAN), NODE)


def test_an_unreadable_host_state_is_an_error_naming_it() -> None:
    host = ScriptedHost()
    host.run = lambda _host, _command: "RTNETLINK: garbage"  # type: ignore[method-assign]
    with pytest.raises(NetworkError, match="cannot read `ip -j -d link show`"):
        BridgeVNM(executor=host).pre(vm_view(3, BRIDGED), NODE)


def test_a_device_of_another_kind_is_refused_before_any_change() -> None:
    host = ScriptedHost(links=[link("eth0"), link("eth0.100", "vxlan", vid=100)])
    with pytest.raises(NetworkError, match="eth0.100 exists and is no vlan 100"):
        Dot1qVNM(executor=host).pre(vm_view(3, VLAN), NODE)
    assert host.commands == []


@pytest.mark.parametrize("nic, problem", [
    ({"VLAN_ID": "4095"}, "VLAN_ID '4095' is not 1..4094"),
    ({"VLAN_ID": ""}, "VLAN_ID '' is not 1..4094"),
    ({"PHYDEV": ""}, "has no PHYDEV"),
    ({"PHYDEV": "enp0s31f6", "VLAN_ID": "1000000"}, "VLAN_ID '1000000'"),
])
def test_8021q_nic_checks(nic: dict[str, str], problem: str) -> None:
    host = ScriptedHost(links=[link("eth0")])
    with pytest.raises(NetworkError, match=problem):
        Dot1qVNM(executor=host).pre(vm_view(3, {**VLAN, **nic}), NODE)
    assert host.commands == []


def test_vxlan_device_floods_to_the_group_of_its_vni() -> None:
    host = ScriptedHost(links=[link("eth0")])
    VxlanVNM(executor=host).pre(vm_view(3, {**VLAN, "VN_MAD": "vxlan", "MTU": ""}), NODE)
    assert host.commands == [
        "ip link add name onebr5 type bridge",
        "ip link set dev onebr5 alias one-vnm up",
        "ip link add name eth0.100 type vxlan id 100 group 239.0.0.100 dev eth0 dstport 4789 "
        "ttl 16",
        "ip link set dev eth0.100 master onebr5 alias one-vnm up",
    ]


def test_vxlan_settings_and_vnis_beyond_vlans() -> None:
    host = ScriptedHost(links=[link("eth0")])
    driver = VxlanVNM({"VXLAN_MC": "239.1.0.0", "VXLAN_PORT": "8472", "VXLAN_TTL": "1"},
                      executor=host)
    driver.pre(vm_view(3, {**VLAN, "VN_MAD": "vxlan", "VLAN_ID": "70000", "MTU": "1450"}), NODE)
    assert host.commands[2] == ("ip link add name eth0.70000 mtu 1450 type vxlan id 70000 group "
                                "239.2.17.112 dev eth0 dstport 8472 ttl 1")


def test_vxlan_settings_are_checked() -> None:
    with pytest.raises(NetworkError, match="VXLAN_MC = 'nope'"):
        VxlanVNM({"VXLAN_MC": "nope"}, executor=ScriptedHost())
    with pytest.raises(NetworkError, match="VXLAN_TTL = 'x'"):
        VxlanVNM({"VXLAN_TTL": "x"}, executor=ScriptedHost())
    host = ScriptedHost(links=[link("eth0")])
    with pytest.raises(NetworkError, match=r"239.255.255.0 \+ VNI 300 is no multicast group"):
        VxlanVNM({"VXLAN_MC": "239.255.255.0"}, executor=host).pre(
            vm_view(3, {**VLAN, "VN_MAD": "vxlan", "VLAN_ID": "300"}), NODE)
    assert host.commands == []


BRIDGED = {"VN_MAD": "bridge", "BRIDGE": "onebr9", "PHYDEV": "eth2", **LEASE}


def test_bridge_puts_phydev_in_the_bridge_and_clean_lets_it_go_with_the_bridge() -> None:
    host = ScriptedHost(links=[link("eth2")])
    BridgeVNM(executor=host).pre(vm_view(3, BRIDGED), NODE)
    assert host.commands == ["ip link add name onebr9 type bridge",
                             "ip link set dev onebr9 alias one-vnm up",
                             "ip link set dev eth2 master onebr9 up"]
    host = ScriptedHost(links=[link("onebr9", "bridge", alias=OURS),
                               link("eth2", master="onebr9"), link("one-3-0", master="onebr9")])
    BridgeVNM(executor=host).clean(vm_view(3, BRIDGED), NODE)
    assert host.commands == ["ip link del onebr9"]


def test_bridge_refuses_a_missing_phydev_or_a_device_that_is_no_bridge() -> None:
    host = ScriptedHost(links=[link("onebr9", "veth")])
    with pytest.raises(NetworkError, match=r"device onebr9 exists and is no bridge \(veth\)"):
        BridgeVNM(executor=host).pre(vm_view(3, BRIDGED), NODE)
    host = ScriptedHost(links=[])
    with pytest.raises(NetworkError, match="bridge pre of VM 3 on host node1: PHYDEV eth2 does"):
        BridgeVNM(executor=host).pre(vm_view(3, BRIDGED), NODE)
    assert host.commands == []


def test_an_operators_bridge_is_never_deleted() -> None:
    host = ScriptedHost(links=[link("onebr9", "bridge"), link("one-3-0", master="onebr9")])
    BridgeVNM(executor=host).clean(vm_view(3, BRIDGED), NODE)
    assert host.commands == []


FILTERED = {"VN_MAD": "ebtables", "BRIDGE": "onebr9", **LEASE}
RULES = ["-s ! 02:00:0a:01:00:00/ff:ff:ff:ff:ff:00 -o one-3-0 -j DROP",
         "-s ! 02:00:0a:01:00:0a -i one-3-0 -j DROP"]


def _sent(verb: str, rule: str) -> str:
    """A rule as the driver sends it: `!` quoted, for any shell."""
    return f"ebtables {verb} FORWARD " + rule.replace(" ! ", " '!' ")


def test_ebtables_post_adds_opennebulas_two_rules_per_tap() -> None:
    host = ScriptedHost()
    EbtablesVNM(executor=host).post(vm_view(3, FILTERED), NODE)
    assert host.commands == [_sent("-A", rule) for rule in RULES]


def test_ebtables_post_again_adds_nothing_however_ebtables_spells_macs() -> None:
    host = ScriptedHost(rules=["-s ! 2:0:a:1:0:0/ff:ff:ff:ff:ff:0 -o one-3-0 -j DROP",
                               "-s ! 2:0:A:1:0:A -i one-3-0 -j DROP"])
    EbtablesVNM(executor=host).post(vm_view(3, FILTERED), NODE)
    assert host.commands == []


def test_ebtables_clean_removes_every_copy_of_its_rules_and_no_other() -> None:
    other = "-s ! 02:00:0a:01:00:0b -i one-4-0 -j DROP"
    host = ScriptedHost(links=[link("onebr9", "bridge", alias=OURS)],
                        rules=RULES + [other] + RULES)
    EbtablesVNM(executor=host).clean(vm_view(3, FILTERED), NODE)
    assert host.commands == [_sent("-D", rule) for rule in RULES * 2] + [
        "ip link del onebr9"]


def test_ebtables_needs_a_mac() -> None:
    nic = {k: v for k, v in FILTERED.items() if k != "MAC"}
    with pytest.raises(NetworkError, match="NIC 0 has no MAC to filter one-3-0 with"):
        EbtablesVNM(executor=ScriptedHost()).post(vm_view(3, nic), NODE)


@pytest.mark.parametrize("lease, macs", [
    (LEASE, "02:00:0a:01:00:00/ff:ff:ff:ff:ff:00"),
    ({**LEASE, "NETWORK_MASK": "255.255.0.0"}, "02:00:0a:01:00:00/ff:ff:ff:ff:00:00"),
    ({**LEASE, "NETWORK_MASK": "22"}, "02:00:0a:01:00:00/ff:ff:ff:ff:fc:00"),
    # a MAC that does not embed the IP, or no IP: OpenNebula's mask
    ({**LEASE, "MAC": "02:00:c0:a8:01:05"}, "02:00:c0:a8:01:00/ff:ff:ff:ff:ff:00"),
    ({"MAC": "AA:BB:CC:DD:EE:FF"}, "aa:bb:cc:dd:ee:00/ff:ff:ff:ff:ff:00"),
])
def test_network_macs(lease: dict[str, str], macs: str) -> None:
    assert Nic.of(3, {"BRIDGE": "br0", **lease}).network_macs() == macs


@pytest.mark.parametrize("attrs, problem", [
    ({"NETWORK_MASK": "255.0.255.0"}, "NETWORK_MASK '255.0.255.0' is not"),
    ({"MAC": "02:00:0a:01:00"}, "'02:00:0a:01:00' is not a MAC address"),
    ({"BRIDGE": ""}, "NIC 0 of VM 3: no BRIDGE"),
    ({"BRIDGE": "br0;reboot"}, "BRIDGE 'br0;reboot' is not a device name"),
    ({"BRIDGE": "a-very-long-bridge"}, "BRIDGE 'a-very-long-bridge' is not a device name"),
    ({"TARGET": "../tap"}, "TARGET '../tap' is not"),
    ({"MTU": "big"}, "MTU 'big' is not a number"),
])
def test_nic_attributes_are_checked(attrs: dict[str, str], problem: str) -> None:
    with pytest.raises(NetworkError, match=problem):
        Nic.of(3, {"BRIDGE": "br0", **LEASE, **attrs}).network_macs()


def test_each_driver_acts_on_its_own_nics_only() -> None:
    unnamed = {k: v for k, v in FILTERED.items() if k != "VN_MAD"}
    vm = vm_view(3, BRIDGED, {**FILTERED, "TARGET": "vnet7"}, unnamed)
    host = ScriptedHost(links=[link("eth2")])
    BridgeVNM(executor=host).pre(vm, NODE)
    assert [c.split()[4] for c in host.commands] == ["onebr9", "onebr9", "eth2"]
    for node, taps in ((NODE, ["vnet7"]),
                       (replace(NODE, template=TemplateView.of([("VN_MAD", "ebtables")])),
                        ["vnet7", "one-3-2"])):
        host = ScriptedHost()
        EbtablesVNM(executor=host).post(vm, node)
        assert [c.split()[7] for c in host.commands] == [tap for tap in taps for _ in "io"]
    host = ScriptedHost()
    Dot1qVNM(executor=host).pre(vm, NODE)
    assert host.hosts == set(), "a VM with no NIC of the driver costs no trip to the host"


def test_nics_sharing_a_bridge_make_it_once() -> None:
    host = ScriptedHost(links=[link("eth0")])
    Dot1qVNM(executor=host).pre(vm_view(3, VLAN, VLAN), NODE)
    assert host.commands == FRESH_8021Q


def test_the_plugin_registers_four_drivers_through_its_entry_point() -> None:
    assert registered(one_vnm)["vnm"] == ["802.1Q", "bridge", "ebtables", "vxlan"]
    assert "one_vnm" in {e.value for e in entry_points(group="one.plugins")}
