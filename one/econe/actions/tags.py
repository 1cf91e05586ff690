"""CreateTags, DeleteTags, DescribeTags on instances (EC2_TAGS in the VM's USER_TEMPLATE)."""
from __future__ import annotations

import json

from one.econe.actions import instances
from one.econe.app import Call
from one.econe.errors import Ec2Error, invalid
from one.econe.params import filters, listed, members, tags
from one.econe.xml import Element, fields, item_set, node, quoted

MAX_TAGS = 50  # per resource, as EC2


def _resources(call: Call) -> list[Element]:
    ids = listed(call.params, "ResourceId")
    if not ids:
        raise Ec2Error("MissingParameter", "The request must contain the parameter ResourceId")
    wrong = [i for i in ids if not i.startswith("i-")]
    if wrong:
        raise Ec2Error("InvalidID", f"The ID '{wrong[0]}' is not valid (only instances, "
                       "i-xxxxxxxx, take tags here)")
    return instances.vms_by_id(call, ids)


def _save(call: Call, vm: Element, new: dict[str, str]) -> None:
    if len(new) > MAX_TAGS:
        raise Ec2Error("TagLimitExceeded", f"More than {MAX_TAGS} tags on "
                       f"{instances.instance_id(vm)}.")
    call.one("one.vm.update", int(vm.findtext("ID") or -1),
             f"EC2_TAGS = {quoted(json.dumps(new))}", 1)


def create_tags(call: Call) -> list[Element]:
    given = tags(call.params)
    if not given:
        raise Ec2Error("MissingParameter", "The request must contain the parameter Tag")
    for vm in _resources(call):
        _save(call, vm, {**instances.ec2_tags(vm), **given})
    return [node("return", "true")]


def _doomed(call: Call) -> dict[str, str | None]:
    found = members(call.params, "Tag")
    if any(not m.get("Key") for m in found):
        raise Ec2Error("MissingParameter", "The request must contain the parameter Tag.N.Key")
    return {m["Key"]: m.get("Value") for m in found}


def delete_tags(call: Call) -> list[Element]:
    """Tag.N.Key alone deletes the key, with Tag.N.Value only if the value matches; no
    Tag.N at all deletes every tag."""
    doomed = _doomed(call)
    for vm in _resources(call):
        kept = {k: v for k, v in instances.ec2_tags(vm).items()
                if doomed and (k not in doomed or doomed[k] not in (None, v))}
        _save(call, vm, kept)
    return [node("return", "true")]


def describe_tags(call: Call) -> list[Element]:
    """Tags of the user's instances; filters resource-id, key, value, resource-type."""
    wanted = filters(call.params)
    unknown = set(wanted) - {"resource-id", "key", "value", "resource-type"}
    if unknown:
        raise invalid("Filter.Name", sorted(unknown)[0])
    items = []
    for vm in instances.vms_by_id(call, wanted["resource-id"]) if "resource-id" in wanted \
            else instances.all_vms(call):
        for key, value in instances.ec2_tags(vm).items():
            row = {"resource-id": instances.instance_id(vm), "key": key, "value": value,
                   "resource-type": "instance"}
            if all(row[name] in values for name, values in wanted.items()):
                items.append(fields("item", {"resourceId": row["resource-id"],
                                             "resourceType": "instance", "key": key,
                                             "value": value}))
    return [item_set("tagSet", items)]
