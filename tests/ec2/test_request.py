"""A VM's EC2 section as RunInstances arguments, and the instance type table."""
from __future__ import annotations

import pytest

from one.plugins import HostView
from one.plugins.testing import make_vm_view
from one_vmm_ec2.instance_types import InstanceType, capacity, instance_types, totals
from one_vmm_ec2.request import authorized_ports, run_arguments, section

HOST = HostView(0, "ec2-east", 2, "ec2", "ec2")


def test_public_cloud_section_becomes_run_instances() -> None:
    vm = make_vm_view(7, user_template=[
        ("PUBLIC_CLOUD", {"TYPE": "azure", "AMI": "not-this-one"}),
        ("PUBLIC_CLOUD", {"TYPE": "EC2", "AMI": "ami-1", "INSTANCETYPE": "m5.large",
                          "KEYPAIR": "ops", "SECURITYGROUPS": "web, sg-12, ssh",
                          "SUBNETID": "subnet-9", "AVAILABILITYZONE": "us-east-1b",
                          "TAGS": "team=ops, ONE_ID=forged, broken"})])
    args = run_arguments(vm, HOST, section(vm))
    assert (args["ImageId"], args["InstanceType"], args["KeyName"]) == ("ami-1", "m5.large", "ops")
    assert (args["SecurityGroupIds"], args["SecurityGroups"]) == (["sg-12"], ["web", "ssh"])
    assert (args["SubnetId"], args["Placement"]) == ("subnet-9", {"AvailabilityZone": "us-east-1b"})
    tags = {t["Key"]: t["Value"] for t in args["TagSpecifications"][0]["Tags"]}
    assert tags == {"Name": "conformance-7", "team": "ops", "ONE_ID": "7", "ONE_HOST": "ec2-east"}
    assert "ETH0_IP='192.0.2.10'" in args["UserData"]     # the CONTEXT, as context.sh


def test_userdata_given_wins_and_defaults_apply() -> None:
    vm = make_vm_view(1, user_template=[("EC2", {"AMI": "ami-2", "USERDATA": "#!/bin/sh"})])
    args = run_arguments(vm, HOST, section(vm))
    assert (args["UserData"], args["InstanceType"]) == ("#!/bin/sh", "m1.small")
    assert "KeyName" not in args and "SecurityGroups" not in args


@pytest.mark.parametrize("user_template, message", [
    ([], "has no PUBLIC_CLOUD"),
    ([("PUBLIC_CLOUD", {"TYPE": "ec2", "INSTANCETYPE": "m1.small"})], "has no AMI"),
])
def test_sections_without_what_ec2_needs(user_template: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        section(make_vm_view(3, user_template=user_template))


def test_authorized_ports() -> None:
    assert authorized_ports({"AUTHORIZEDPORTS": "22, 8000-8080"}) == [(22, 22), (8000, 8080)]
    with pytest.raises(ValueError, match="'http'"):
        authorized_ports({"AUTHORIZEDPORTS": "http"})


def test_capacity_and_types_from_the_settings() -> None:
    table = instance_types({"TYPES": "m7g.large:2:8192 m1.small:1:2048"})
    assert table["m7g.large"] == InstanceType(2, 8192) and table["m1.small"].memory_mib == 2048
    counts = capacity({"M7G_LARGE": "3", "m1.small": "1"}, table)
    assert totals(counts, table) == (700, (3 * 8192 + 2048) * 1024)
    with pytest.raises(ValueError, match="not name:vcpus:memory_mib"):
        instance_types({"TYPES": "m9.huge:lots"})
    with pytest.raises(ValueError, match="not a number of instances"):
        capacity({"M1_SMALL": "four"}, table)
    with pytest.raises(ValueError, match="no CAPACITY"):
        capacity(None, table)
