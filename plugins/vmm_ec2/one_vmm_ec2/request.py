"""What a VM asks of EC2: its PUBLIC_CLOUD (or classic EC2) section as RunInstances.

Two spellings, as OpenNebula had them:

* OpenNebula 5: `PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "ami-...", INSTANCETYPE =
  "m1.small", KEYPAIR, SECURITYGROUPS, SUBNETID, AVAILABILITYZONE, TAGS =
  "K=V, K2=V2", ELASTICIP, USERDATA ]` (a VM may have sections of other types);
* OpenNebula 2.2: `EC2 = [ AMI, KEYPAIR, INSTANCETYPE, ELASTICIP, AUTHORIZEDPORTS ]`.

Each instance carries the tags `ONE_ID` (the VM) and `ONE_HOST` (the host
that ran it), so the driver finds it again after a restart of oned and the
probe counts what one host runs. The VM's CONTEXT becomes the user data, in
context.sh form, unless the section gives USERDATA.
"""
from __future__ import annotations

from typing import Any, Mapping

from one.plugins import HostView, VmView
from one.plugins.context import context_sh
from one_vmm_ec2.instance_types import DEFAULT_INSTANCE_TYPE

VM_TAG, HOST_TAG = "ONE_ID", "ONE_HOST"


def section(vm: VmView) -> Mapping[str, str]:
    """The VM's EC2 section: a PUBLIC_CLOUD of TYPE ec2, else a classic EC2 one."""
    found = [v for v in vm.user_template.vectors("PUBLIC_CLOUD")
             if v.get("TYPE", "").lower() == "ec2"]
    found += vm.user_template.vectors("EC2")
    if not found:
        raise ValueError(f"ec2: VM {vm.id} has no PUBLIC_CLOUD = [ TYPE = \"ec2\", AMI = ... ] "
                         f"nor EC2 = [ AMI = ... ] section")
    if not found[0].get("AMI"):
        raise ValueError(f"ec2: the EC2 section of VM {vm.id} has no AMI")
    return found[0]


def _tags(vm: VmView, host: HostView, wanted: Mapping[str, str]) -> list[dict[str, str]]:
    """Name, the section's TAGS, then ours (which win: the driver relies on them)."""
    tags = {"Name": vm.name}
    for pair in wanted.get("TAGS", "").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            tags[key.strip()] = value.strip()
    tags.update({VM_TAG: str(vm.id), HOST_TAG: host.name})
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def user_data(vm: VmView, wanted: Mapping[str, str]) -> str:
    """USERDATA as given, else the CONTEXT variables as the guest's context.sh."""
    if wanted.get("USERDATA"):
        return wanted["USERDATA"]
    context = vm.template.vector("CONTEXT")
    return context_sh(context) if context else ""


def run_arguments(vm: VmView, host: HostView, wanted: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments of RunInstances for one instance of this VM."""
    args: dict[str, Any] = {
        "ImageId": wanted["AMI"], "MinCount": 1, "MaxCount": 1,
        "InstanceType": wanted.get("INSTANCETYPE") or DEFAULT_INSTANCE_TYPE,
        "TagSpecifications": [{"ResourceType": "instance", "Tags": _tags(vm, host, wanted)}],
    }
    groups = split_list(wanted.get("SECURITYGROUPS", ""))
    ids = [group for group in groups if group.startswith("sg-")]
    names = [group for group in groups if group not in ids]
    if ids:
        args["SecurityGroupIds"] = ids
    if names:
        args["SecurityGroups"] = names
    optional = {"KeyName": wanted.get("KEYPAIR"), "SubnetId": wanted.get("SUBNETID"),
                "UserData": user_data(vm, wanted)}
    args.update({key: value for key, value in optional.items() if value})
    if wanted.get("AVAILABILITYZONE"):
        args["Placement"] = {"AvailabilityZone": wanted["AVAILABILITYZONE"]}
    return args


def authorized_ports(wanted: Mapping[str, str]) -> list[tuple[int, int]]:
    """Classic AUTHORIZEDPORTS = "22, 80, 8000-8080" as (from, to) TCP ranges."""
    ranges = []
    for item in split_list(wanted.get("AUTHORIZEDPORTS", "")):
        low, _, high = item.partition("-")
        if not (low.isdigit() and (high or low).isdigit()):
            raise ValueError(f"ec2: AUTHORIZEDPORTS entry {item!r} is not a port or a range")
        ranges.append((int(low), int(high or low)))
    return ranges
