"""Cloud bursting in the pure scheduler: public-cloud hosts come after local ones
whatever the policy or rank, and take only VMs that may burst to their type."""
from __future__ import annotations

import pytest

from one.core.scheduler.policies import (
    CUSTOM, FIXED, LOAD_AWARE, PACKING, STRIPING, cloud_requirements,
)
from test_scheduler import host, placed, vm

EC2 = {"PUBLIC_CLOUD": "YES", "HYPERVISOR": "ec2"}


@pytest.mark.parametrize("policy", [PACKING, STRIPING, LOAD_AWARE, CUSTOM, FIXED])
def test_local_hosts_fill_before_the_public_cloud(policy: int) -> None:
    # The public host is first by id, by every rank (idle, roomy, PRIORITY) and by load.
    cloud = host(0, cpu=10000, PRIORITY="100", **EC2)
    home = host(1, cpu=200, running=5, free_cpu=0)
    vms = [vm(i, requirements=cloud_requirements(["ec2"])) for i in range(4)]
    where = placed(vms, [cloud, home], policy=policy, rank="MAX_CPU")
    assert where == {0: 1, 1: 1, 2: 0, 3: 0}


def test_a_vms_own_rank_cannot_prefer_the_public_cloud() -> None:
    vms = [vm(0, rank="PRIORITY", requirements=cloud_requirements(["ec2"]))]
    assert placed(vms, [host(0, PRIORITY="9", **EC2), host(1)]) == {0: 1}


def test_only_vms_of_the_clouds_type_burst() -> None:
    hosts = [host(0, cpu=100), host(1, **EC2)]
    vms = [vm(0), vm(1, requirements=cloud_requirements([])),
           vm(2, requirements=cloud_requirements(["azure"])),
           vm(3, requirements=cloud_requirements(["ec2", "azure"]))]
    assert placed(vms, hosts) == {0: 0, 3: 1}


def test_type_names_cannot_inject_expressions() -> None:
    assert cloud_requirements(['ec2" | NAME = "x', "ec2"]) == \
        '!(PUBLIC_CLOUD = "YES") | HYPERVISOR = "ec2"'
