"""The Xen drivers keep the VMM and IM contracts, on sshd hosts running the fake xl."""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

import pytest
from one_vmm_xen import XenIM, XenVMM

from one.plugins import HostView, VmView
from one.plugins.testing import IMConformance, VMMConformance
from one.states import HostState
from tm.hosts import Host


def _host(host: Host, hid: int) -> HostView:
    return HostView(id=hid, name=host.name, state=HostState.MONITORED, im_mad="xen", vm_mad="xen")


class OnXenHosts:
    """The class's driver with the fake xl, on the first sshd host."""

    driver_class: ClassVar[Any]

    @pytest.fixture
    def driver(self, xen_settings: dict[str, str]) -> Iterator[Any]:
        driver = self.driver_class(xen_settings)
        yield driver
        driver.xl.close()

    @pytest.fixture
    def host(self, hosts: tuple[Host, Host]) -> HostView:
        return _host(hosts[0], 0)


class TestXenVMM(OnXenHosts, VMMConformance):
    driver_class = XenVMM

    @pytest.fixture
    def target_host(self, hosts: tuple[Host, Host]) -> HostView:
        return _host(hosts[1], 1)


class TestXenIM(OnXenHosts, IMConformance):
    driver_class = XenIM

    @pytest.fixture
    def guest(self, xen_settings: dict[str, str], host: HostView, vm: VmView) -> Iterator[str]:
        """A domain the VMM driver created on the host, for the probe to find."""
        vmm = XenVMM(xen_settings)
        yield vmm.deploy(vm, host)
        vmm.cancel(vm, host)
        vmm.xl.close()
