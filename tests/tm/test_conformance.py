"""Both drivers keep the TMDriver contract, run on a real host over SSH."""
from __future__ import annotations

from pathlib import Path

import pytest
from one_tm_shared import SharedTM
from one_tm_ssh import SshTM

from one.plugins import HostView, TMDriver, VmView
from one.plugins.testing import TMConformance, make_vm_view
from one.states import HostState
from tm.hosts import Host


class OnFirstHost(TMConformance):
    """The suite's VM on the first test host, its directory in the system datastore."""

    @pytest.fixture
    def host(self, driver: TMDriver, hosts: tuple[Host, Host]) -> HostView:
        return HostView(id=0, name=hosts[0].name, state=HostState.MONITORED, im_mad="kvm",
                        vm_mad="kvm")

    @pytest.fixture
    def vm(self, driver: TMDriver, host: HostView, system_ds: Path) -> VmView:
        return make_vm_view(0, host=host.name, system_dir=f"{system_ds}/{driver.name}-0")


class TestSshConformance(OnFirstHost):
    driver_class = SshTM

    @pytest.fixture
    def driver(self, ssh_tm: SshTM) -> SshTM:
        return ssh_tm


class TestSharedConformance(OnFirstHost):
    driver_class = SharedTM

    @pytest.fixture
    def driver(self, shared_tm: SharedTM) -> SharedTM:
        return shared_tm
