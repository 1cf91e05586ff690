"""RunInstances and the life-cycle actions: Stop, Start, Reboot, Terminate.

An instance type is a VM template (econe.conf); RunInstances instantiates it
as the user with the AMI as its disk, the key pair and user data in CONTEXT,
and the EC2 facts in the VM's USER_TEMPLATE.
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets

from one.cli.errors import ServerError
from one.econe.actions import images, instances
from one.econe.actions.keypairs import public_key
from one.econe.actions.zones import template_id
from one.econe.app import Call
from one.econe.errors import Ec2Error, invalid
from one.econe.oned import refusal
from one.econe.params import integer, listed, members, required, tags
from one.econe.xml import Element, fields, item_set, node, quoted

ACTION_REFUSED = 0x800
MAX_USER_DATA = 16 * 1024  # bytes, as EC2
MAX_COUNT = 1000


def _user_data(call: Call) -> str | None:
    text = call.params.get("UserData")
    if text is None:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise invalid("UserData", "(not base64)") from None
    if len(data) > MAX_USER_DATA:
        raise invalid("UserData", f"({len(data)} bytes, more than {MAX_USER_DATA})")
    return text


def _instance_tags(call: Call) -> dict[str, str]:
    result: dict[str, str] = {}
    for spec in members(call.params, "TagSpecification"):
        kind = spec.get("ResourceType", "")
        if kind != "instance":
            raise invalid("TagSpecification.ResourceType", kind)
        result.update(tags(spec))
    return result


def _extra(call: Call, image: int, reservation: str, index: int) -> str:
    """The extra template merged over the instance type's template."""
    params = call.params
    context = {"NETWORK": "YES"}
    key_name = params.get("KeyName")
    if key_name:
        context["SSH_PUBLIC_KEY"] = public_key(call, key_name)
    user_data = _user_data(call)
    if user_data is not None:
        context.update(USER_DATA=user_data, USERDATA_ENCODING="base64")
    ec2 = {"INSTANCE_TYPE": params.get("InstanceType", "m1.small"),
           "IMAGE_ID": params["ImageId"], "RESERVATION": reservation,
           "LAUNCH_INDEX": str(index), "KEY_NAME": key_name or "",
           "TAGS": json.dumps(_instance_tags(call))}
    lines = [f"DISK = [ IMAGE_ID = {quoted(str(image))} ]",
             "CONTEXT = [ " + ", ".join(f"{k} = {quoted(v)}" for k, v in context.items()) + " ]"]
    lines += [f"EC2_{k} = {quoted(v)}" for k, v in ec2.items() if v]
    return "\n".join(lines)


def _created(call: Call, ids: list[int]) -> list[Element]:
    return [call.document("one.vm.info", oid) for oid in ids]


def run_instances(call: Call) -> list[Element]:
    params = call.params
    ami = required(params, "ImageId")
    image = images.image_number(ami)
    call.one("one.image.info", image, not_found=images.not_found(ami))
    low = integer(params, "MinCount", 1, 1, MAX_COUNT)
    high = integer(params, "MaxCount", low, low, MAX_COUNT)
    template = template_id(call, params.get("InstanceType", "m1.small"))
    reservation = f"r-{secrets.token_hex(4)}"
    extras = [_extra(call, image, reservation, index) for index in range(high)]
    ids: list[int] = []
    for extra in extras:  # on hold: all or nothing until MinCount is met
        try:
            ids.append(int(call.client.call("one.template.instantiate", template, "", True,
                                            extra, False)))
        except ServerError as exc:
            if len(ids) >= low:
                break
            for oid in ids:  # fewer than MinCount: none at all, as EC2
                call.one("one.vm.action", "terminate-hard", oid)
            raise refusal(exc) from None
    for oid in ids:
        call.one("one.vm.action", "release", oid)
    vms = _created(call, ids)
    return list(instances.reservation(vms, call.config.zone))


def _state_changes(call: Call, action: str, tag: str, force_action: str | None = None,
                   ) -> list[Element]:
    ids = listed(call.params, "InstanceId")
    if not ids:
        raise Ec2Error("MissingParameter", "The request must contain the parameter InstanceId")
    before = instances.vms_by_id(call, ids)
    if force_action and call.params.get("Force", "false").lower() == "true":
        action = force_action
    for vm in before:
        if instances.ec2_state(vm) == instances.TERMINATED and action.startswith("terminate"):
            continue  # terminating a terminated instance succeeds, as EC2
        try:
            call.client.call("one.vm.action", action, int(vm.findtext("ID") or -1))
        except ServerError as exc:
            if exc.code == ACTION_REFUSED:
                raise Ec2Error("IncorrectInstanceState", f"The instance "
                               f"'{instances.instance_id(vm)}' is not in a state from which "
                               f"it can be {tag}: {exc.message}") from None
            raise refusal(exc) from None
    after = _created(call, [int(vm.findtext("ID") or -1) for vm in before])
    items = []
    for old, new in zip(before, after):
        item = fields("item", {"instanceId": instances.instance_id(new)})
        for name, vm in (("currentState", new), ("previousState", old)):
            code, state = instances.ec2_state(vm)
            item.append(fields(name, {"code": code, "name": state}))
        items.append(item)
    return [item_set("instancesSet", items)]


def stop_instances(call: Call) -> list[Element]:
    return _state_changes(call, "poweroff", "stopped", force_action="poweroff-hard")


def start_instances(call: Call) -> list[Element]:
    return _state_changes(call, "resume", "started")


def terminate_instances(call: Call) -> list[Element]:
    return _state_changes(call, "terminate-hard", "terminated")


def reboot_instances(call: Call) -> list[Element]:
    _state_changes(call, "reboot", "rebooted")
    return [node("return", "true")]
