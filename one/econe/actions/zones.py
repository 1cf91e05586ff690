"""DescribeRegions, DescribeAvailabilityZones, DescribeInstanceTypes: the cloud's shape."""
from __future__ import annotations

from one.econe.app import Call
from one.econe.errors import Ec2Error
from one.econe.params import listed
from one.econe.xml import Element, fields, item_set


def describe_regions(call: Call) -> list[Element]:
    region = call.config.region
    endpoint = f"{call.config.host}:{call.config.port}"
    return [item_set("regionInfo", [fields("item", {
        "regionName": region, "regionEndpoint": endpoint, "optInStatus": "opt-in-not-required"})])]


def describe_zones(call: Call) -> list[Element]:
    return [item_set("availabilityZoneInfo", [fields("item", {
        "zoneName": call.config.zone, "zoneState": "available",
        "regionName": call.config.region, "zoneType": "availability-zone"})])]


def _instance_type(name: str, template: Element) -> Element:
    vcpu = template.findtext("TEMPLATE/VCPU") or template.findtext("TEMPLATE/CPU") or "1"
    memory = template.findtext("TEMPLATE/MEMORY") or "0"
    item = fields("item", {"instanceType": name, "currentGeneration": "true",
                           "bareMetal": "false", "hypervisor": "one"})
    item.append(fields("vCpuInfo", {"defaultVCpus": max(1, int(float(vcpu)))}))
    item.append(fields("memoryInfo", {"sizeInMiB": int(float(memory))}))
    return item


def describe_instance_types(call: Call) -> list[Element]:
    """The configured types whose template this user can see, with its CPU and memory."""
    wanted = listed(call.params, "InstanceType")
    unknown = [t for t in wanted if t not in call.config.instance_types]
    if unknown:
        raise Ec2Error("InvalidInstanceType", f"The instance type '{unknown[0]}' does not exist")
    pool = call.document("one.templatepool.info", -2, -1, -1)
    by_name = {t.findtext("NAME"): t for t in pool}
    by_id = {t.findtext("ID"): t for t in pool}
    items = []
    for name, ref in call.config.instance_types.items():
        template = by_id.get(ref) if ref.isdigit() else by_name.get(ref)
        if template is not None and (not wanted or name in wanted):
            items.append(_instance_type(name, template))
    return [item_set("instanceTypeSet", items)]


def template_id(call: Call, instance_type: str) -> int:
    """The VM template an instance type is, as this user sees it."""
    ref = call.config.instance_types.get(instance_type)
    if ref is None:
        raise Ec2Error("InvalidInstanceType", f"The instance type '{instance_type}' does not exist")
    if ref.isdigit():
        return int(ref)
    pool = call.document("one.templatepool.info", -2, -1, -1)
    for template in pool:
        if template.findtext("NAME") == ref:
            return int(template.findtext("ID") or -1)
    raise Ec2Error("InvalidInstanceType", f"The instance type '{instance_type}' has no template "
                   f"'{ref}' this user may use")
