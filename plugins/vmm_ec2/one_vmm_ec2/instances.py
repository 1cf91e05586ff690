"""Instances as oned sees them: found by their tags, polled in bulk.

One DescribeInstances per host lists every instance the host runs (by its
`ONE_HOST` tag), so monitoring 100 VMs costs one call, never one per VM.
"""
from __future__ import annotations

from typing import Any, Mapping

from one.plugins import HostView, PollState, VmPoll, VmView
from one_vmm_ec2.instance_types import InstanceType
from one_vmm_ec2.request import HOST_TAG, VM_TAG

Instance = Mapping[str, Any]   # one element of DescribeInstances' Reservations[].Instances

# EC2's instance states as OpenNebula's poll letters. A pending instance is
# booting on EC2's side, which oned counts as running (the boot operation
# already waited for it); a stopped one is a guest switched off (POWEROFF);
# shutting-down and terminated are gone.
STATES = {"pending": PollState.RUNNING, "running": PollState.RUNNING,
          "stopping": PollState.GONE, "stopped": PollState.GONE,
          "shutting-down": PollState.GONE, "terminated": PollState.GONE}
# States of an instance that still is (or can again be) the VM.
LIVE = ("pending", "running", "stopping", "stopped")
# What `onevm show` tells of the instance (OpenNebula's names, in the VM's template).
_SHOWN = {"AWS_INSTANCE_ID": "InstanceId", "AWS_INSTANCE_TYPE": "InstanceType",
          "AWS_PRIVATE_IP_ADDRESS": "PrivateIpAddress", "AWS_IP_ADDRESS": "PublicIpAddress",
          "AWS_DNS_NAME": "PublicDnsName", "AWS_PRIVATE_DNS_NAME": "PrivateDnsName",
          "AWS_KEY_NAME": "KeyName", "AWS_SUBNET_ID": "SubnetId", "AWS_VPC_ID": "VpcId"}


def state(instance: Instance) -> str:
    return str(instance["State"]["Name"])


def poll_of(instance: Instance | None, types: Mapping[str, InstanceType]) -> VmPoll:
    """What oned records of an instance; a missing one is GONE."""
    if instance is None:
        return VmPoll(PollState.GONE)
    extra = {key: str(instance[field]) for key, field in _SHOWN.items() if instance.get(field)}
    zone = instance.get("Placement", {}).get("AvailabilityZone")
    if zone:
        extra["AWS_AVAILABILITY_ZONE"] = zone
    size = types.get(instance.get("InstanceType", ""))
    return VmPoll(STATES.get(state(instance), PollState.UNKNOWN),
                  memory=size.memory_kib if size else 0, extra=extra)


def _listed(client: Any, filters: list[dict[str, Any]]) -> list[Instance]:
    pages = client.get_paginator("describe_instances").paginate(Filters=filters)
    return [instance for page in pages for reservation in page["Reservations"]
            for instance in reservation["Instances"]]


def of_host(client: Any, host: HostView) -> list[Instance]:
    """Every instance the host runs or ran recently (terminated ones linger a while)."""
    return _listed(client, [{"Name": f"tag:{HOST_TAG}", "Values": [host.name]}])


def of_vm(client: Any, vm: VmView, host: HostView) -> Instance | None:
    """The VM's instance on this host that is not gone, if any (the newest)."""
    found = _listed(client, [{"Name": f"tag:{HOST_TAG}", "Values": [host.name]},
                             {"Name": f"tag:{VM_TAG}", "Values": [str(vm.id)]},
                             {"Name": "instance-state-name", "Values": list(LIVE)}])
    return max(found, key=lambda instance: instance["LaunchTime"], default=None)
