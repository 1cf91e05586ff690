"""The VNM conformance suite for every driver of one_vnm.

`bridge`, `ebtables` and `vxlan` run against a namespace host over SSH, and
each test must leave that host as it found it; `802.1Q` runs against a
scripted host, as this kernel has no 802.1Q (its commands are pinned in
test_vnm_commands.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import netns
import pytest
from netns import UNDERLAY, Lab, vm_view
from one_vnm import BridgedVNM, BridgeVNM, Dot1qVNM, EbtablesVNM, VxlanVNM
from scripted import ScriptedHost, link

from one.plugins import HostView, VmView
from one.drivers.remote import Remote
from one.plugins.testing import VNMConformance

LEASE = {"MAC": "02:00:0a:09:00:05", "IP": "10.9.0.5", "NETWORK_MASK": "255.255.255.0"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with netns.lab(tmp_path_factory.mktemp("vnm-conformance")) as built:
        yield built


class OnNamespaceHost(VNMConformance):
    """The suite on the lab's host, for a VM with one NIC of the driver under test."""

    network: dict[str, str] = {}

    @pytest.fixture
    def driver(self, lab: Lab) -> Iterator[BridgedVNM]:
        built = self.driver_class(lab.settings)
        yield built
        assert isinstance(built.executor, Remote)
        built.executor.close()

    @pytest.fixture
    def host(self, lab: Lab) -> HostView:
        return lab.hosts[0].view

    @pytest.fixture
    def vm(self) -> VmView:
        return vm_view(4, {**LEASE, **self.network})

    @pytest.fixture(autouse=True)
    def leaves_the_host_as_found(self, lab: Lab) -> Iterator[None]:
        host = lab.hosts[0]
        before = host.devices(), host.rules()
        yield
        assert (host.devices(), host.rules()) == before

    driver_class: ClassVar[type[BridgedVNM]] = BridgedVNM   # also names it to the suite


class TestBridge(OnNamespaceHost):
    driver_class, network = BridgeVNM, {"VN_MAD": "bridge", "BRIDGE": "onebr-cf"}


class TestEbtables(OnNamespaceHost):
    driver_class, network = EbtablesVNM, {"VN_MAD": "ebtables", "BRIDGE": "onebr-cf"}


class TestVxlan(OnNamespaceHost):
    driver_class = VxlanVNM
    network = {"VN_MAD": "vxlan", "BRIDGE": "onebr-cf", "PHYDEV": UNDERLAY, "VLAN_ID": "33"}


class TestDot1q(VNMConformance):
    driver_class = Dot1qVNM

    @pytest.fixture
    def driver(self) -> Dot1qVNM:
        return Dot1qVNM(executor=ScriptedHost(links=[link("eth0")]))

    @pytest.fixture
    def vm(self) -> VmView:
        return vm_view(4, {**LEASE, "VN_MAD": "802.1Q", "BRIDGE": "onebr-cf", "PHYDEV": "eth0",
                           "VLAN_ID": "33"})
