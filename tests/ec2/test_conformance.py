"""The shipped conformance suites, run against moto's EC2."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from .motoserver import Account
from one.plugins import HostView, TemplateView, VmView
from one.plugins.testing import IMConformance, VMMConformance, make_vm_view
from one.states import HostState
from one_vmm_ec2 import Ec2IM, Ec2VMM


def ec2_host(account: Account) -> HostView:
    template = TemplateView.of([
        ("EC2_ACCESS", account.access), ("EC2_SECRET", account.secret),
        ("EC2_ENDPOINT", account.endpoint), ("REGION_NAME", "us-east-1"),
        ("CAPACITY", {"M1_SMALL": "4", "M1_LARGE": "2"})])
    return HostView(id=0, name="ec2-east", state=HostState.MONITORED, im_mad="ec2",
                    vm_mad="ec2", template=template)


def ec2_vm(host: HostView, account: Account) -> VmView:
    return make_vm_view(0, host=host.name, user_template=[
        ("PUBLIC_CLOUD", {"TYPE": "ec2", "AMI": account.ami(), "INSTANCETYPE": "m1.small"})])


class TestEc2VMM(VMMConformance):
    driver_class = Ec2VMM

    @pytest.fixture
    def driver(self) -> Ec2VMM:
        return Ec2VMM({"POLL_INTERVAL": "0.05"})

    @pytest.fixture
    def host(self, account: Account) -> HostView:
        return ec2_host(account)

    @pytest.fixture
    def vm(self, host: HostView, account: Account) -> VmView:
        return ec2_vm(host, account)


class TestEc2IM(IMConformance):
    driver_class = Ec2IM

    @pytest.fixture
    def driver(self) -> Ec2IM:
        return Ec2IM({})

    @pytest.fixture
    def host(self, account: Account) -> HostView:
        return ec2_host(account)

    @pytest.fixture
    def guest(self, host: HostView, account: Account) -> Iterator[str]:
        """An instance the EC2 VMM runs for the host, so the probe has a VM to report."""
        vmm = Ec2VMM({"POLL_INTERVAL": "0.05"})
        vm = ec2_vm(host, account)
        deploy_id = vmm.deploy(vm, host)
        yield deploy_id
        vmm.cancel(replace(vm, deploy_id=deploy_id), host)
