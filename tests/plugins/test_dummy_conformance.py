"""The dummy drivers pass the conformance suite: this is also how the suite is proven to run.

Each test gets its own datacenter, so the suite's VM 0 on `localhost` never
meets the domains other tests (or an oned in this process) left behind.
"""
from __future__ import annotations

from dataclasses import replace

import pytest
from one_dummy import Datacenter, Domain, DummyIM, DummyTM, DummyVMM, DummyVNM

from one.plugins import HostView
from one.plugins.testing import IMConformance, TMConformance, VMMConformance, VNMConformance


@pytest.fixture
def datacenter() -> Datacenter:
    return Datacenter()


class TestDummyVMM(VMMConformance):
    driver_class = DummyVMM

    @pytest.fixture
    def driver(self, datacenter: Datacenter) -> DummyVMM:
        return DummyVMM(datacenter=datacenter)

    @pytest.fixture
    def target_host(self, host: HostView) -> HostView:
        return replace(host, id=1, name="node2")


class TestDummyIM(IMConformance):
    driver_class = DummyIM

    @pytest.fixture
    def driver(self, datacenter: Datacenter) -> DummyIM:
        return DummyIM(datacenter=datacenter)

    @pytest.fixture
    def guest(self, datacenter: Datacenter, host: HostView) -> str:
        """A guest on the suite's host, so the probe has a VM to report."""
        datacenter.hypervisor(host.name).create(Domain("one-7", memory_kib=131072))
        return "one-7"


class TestDummyTM(TMConformance):
    driver_class = DummyTM

    @pytest.fixture
    def driver(self) -> DummyTM:
        return DummyTM()


class TestDummyVNM(VNMConformance):
    driver_class = DummyVNM

    @pytest.fixture
    def driver(self) -> DummyVNM:
        return DummyVNM()
