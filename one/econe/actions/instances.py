"""DescribeInstances: ONE VMs as EC2 instances (i-%08x of the VM id), grouped by reservation.

What EC2 knows that ONE does not (type, AMI, key, reservation, tags) is kept
in the VM's USER_TEMPLATE as EC2_* attributes, written by RunInstances and
CreateTags, so a restart of one-econe loses nothing.
"""
from __future__ import annotations

import base64
import json
import time
from typing import Iterable

from lxml import etree

from one.econe.app import Call
from one.econe.errors import Ec2Error, invalid
from one.econe.params import filters, integer, listed
from one.econe.xml import Element, Part, ec2_id, node, one_id, text
from one.states import LcmState, VmState

MINE = -3          # vmpool filter: the user's own VMs
NOT_FOUND = "InvalidInstanceID.NotFound"
PENDING, RUNNING, SHUTTING_DOWN, TERMINATED, STOPPING, STOPPED = (
    (0, "pending"), (16, "running"), (32, "shutting-down"), (48, "terminated"),
    (64, "stopping"), (80, "stopped"))
_STOPPED_STATES = {VmState.STOPPED, VmState.SUSPENDED, VmState.POWEROFF, VmState.UNDEPLOYED}
_STOPPING = {LcmState.SAVE_STOP, LcmState.SAVE_SUSPEND, LcmState.EPILOG_STOP,
             LcmState.SHUTDOWN_POWEROFF, LcmState.SHUTDOWN_UNDEPLOY, LcmState.EPILOG_UNDEPLOY}
_SHUTTING = {LcmState.SHUTDOWN, LcmState.CANCEL, LcmState.EPILOG, LcmState.CLEANUP_DELETE}
_RUNNING = {LcmState.RUNNING, LcmState.UNKNOWN, LcmState.HOTPLUG, LcmState.HOTPLUG_NIC,
            LcmState.HOTPLUG_SNAPSHOT, LcmState.HOTPLUG_SAVEAS, LcmState.MIGRATE}


def instance_number(text: str) -> int:
    return one_id(text, "i", NOT_FOUND)


def instance_id(vm: Element) -> str:
    return ec2_id("i", vm.findtext("ID") or 0)


def not_found(ids: Iterable[str]) -> Ec2Error:
    return Ec2Error(NOT_FOUND, f"The instance IDs '{', '.join(ids)}' do not exist")


def ec2_state(vm: Element) -> tuple[int, str]:
    state, lcm = int(vm.findtext("STATE") or 0), int(vm.findtext("LCM_STATE") or 0)
    if state == VmState.DONE:
        return TERMINATED
    if state in _STOPPED_STATES:
        return STOPPED
    if state != VmState.ACTIVE:
        return PENDING
    if lcm in _RUNNING:
        return RUNNING
    if lcm in _STOPPING:
        return STOPPING
    return SHUTTING_DOWN if lcm in _SHUTTING else PENDING


def ec2_tags(vm: Element) -> dict[str, str]:
    return _tags(vm.findtext("USER_TEMPLATE/EC2_TAGS"))


def _tags(text: str | None) -> dict[str, str]:
    if not text or text == "{}":
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:  # edited by hand into something else: no tags
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _tags_text(tags: dict[str, str]) -> str:
    items = "".join(f"<item>{text('key', k)}{text('value', v)}</item>" for k, v in tags.items())
    return f"<tagSet>{items}</tagSet>"


def _instance(vm: Element, placement: str) -> str:
    """One instancesSet item, as text: DescribeInstances makes 10,000 of them at once
    (only the values from the VM's templates need escaping)."""
    user = vm.find("USER_TEMPLATE")
    facts = {str(c.tag): c.text or "" for c in user if str(c.tag).startswith("EC2_")} \
        if user is not None else {}

    def ec2(name: str) -> str:
        return facts.get(f"EC2_{name}", "")

    code, name = ec2_state(vm)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(vm.findtext("STIME") or 0)))
    ip, public, key = vm.findtext("TEMPLATE/NIC/IP"), ec2("PUBLIC_IP"), ec2("KEY_NAME")
    return "".join((
        f"<item><instanceId>{instance_id(vm)}</instanceId>",
        f"<instanceState><code>{code}</code><name>{name}</name></instanceState>",
        text("imageId", ec2("IMAGE_ID")), "<privateDnsName/><dnsName/><reason/>",
        text("keyName", key) if key else "", text("amiLaunchIndex", ec2("LAUNCH_INDEX") or "0"),
        text("instanceType", ec2("INSTANCE_TYPE")), f"<launchTime>{stamp}</launchTime>",
        placement, "<monitoring><state>disabled</state></monitoring>",
        text("privateIpAddress", ip) if ip else "", text("ipAddress", public) if public else "",
        "<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>"
        "<virtualizationType>hvm</virtualizationType><hypervisor>xen</hypervisor>",
        _tags_text(_tags(facts.get("EC2_TAGS"))), "</item>"))


def _reservation_items(vms: Iterable[Element], zone: str) -> str:
    """reservationSet's items: instances launched together share the item of their reservation."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    placement = f"<placement>{text('availabilityZone', zone)}<tenancy>default</tenancy></placement>"
    for vm in vms:
        key = vm.findtext("USER_TEMPLATE/EC2_RESERVATION") or ec2_id("r", vm.findtext("ID") or 0)
        grouped.setdefault(key, (vm.findtext("UID") or "", []))[1].append(_instance(vm, placement))
    return "".join(
        f"<item>{text('reservationId', key)}{text('ownerId', owner)}<groupSet/>"
        f"<instancesSet>{''.join(instances)}</instancesSet></item>"
        for key, (owner, instances) in grouped.items())


def reservation(vms: Iterable[Element], zone: str) -> Element:
    """The one reservation of instances launched together (RunInstances' answer)."""
    return etree.fromstring(_reservation_items(vms, zone))


def vms_by_id(call: Call, ids: list[str]) -> list[Element]:
    """Named instances, terminated ones included (the waiters ask for them)."""
    numbers = {instance_number(i): i for i in ids}
    found, missing = [], []
    for number, given in numbers.items():
        try:
            found.append(call.document("one.vm.info", number, not_found=not_found([given])))
        except Ec2Error:
            missing.append(given)
    if missing:
        raise not_found(missing)
    return found


def all_vms(call: Call) -> list[Element]:
    """The user's instances that are not terminated (oned drops DONE VMs from listings),
    from the short listing: it carries the EC2_* facts and is a third of the full one."""
    return list(call.document("one.vmpool.info", MINE, -1, -1, -1))


_FILTERS = ("instance-state-name", "instance-id", "instance-type", "tag-key")


def _filters(call: Call) -> dict[str, list[str]]:
    wanted = filters(call.params)
    for name in wanted:
        if name not in _FILTERS and not name.startswith("tag:"):
            raise invalid("Filter.Name", name)
    return wanted


def _matches(vm: Element, wanted: dict[str, list[str]]) -> bool:
    for name, values in wanted.items():
        if name == "instance-state-name":
            actual = [ec2_state(vm)[1]]
        elif name == "instance-id":
            actual = [instance_id(vm)]
        elif name == "instance-type":
            actual = [vm.findtext("USER_TEMPLATE/EC2_INSTANCE_TYPE") or ""]
        elif name == "tag-key":
            actual = list(ec2_tags(vm))
        else:  # tag:<key>, checked by _filters
            actual = [ec2_tags(vm).get(name[4:], "\0")]
        if not set(actual) & set(values):
            return False
    return True


def _token(params: dict[str, str]) -> tuple[int, int]:
    """NextToken, opaque to clients: the next VM's id and its offset in the user's listing."""
    text = params.get("NextToken")
    if not text:
        return 0, 0
    try:
        oid, offset = base64.urlsafe_b64decode(text).decode().split(".")
        return int(oid), int(offset)
    except ValueError:
        raise invalid("NextToken", text) from None


def _listed(call: Call, limit: int, oid: int, offset: int) -> list[Element]:
    """The instances from the token on. With MaxResults, a page of oned's listing (one VM
    more, to know whether another page follows) if the token's VM is still at its offset;
    else (VMs before it terminated) every instance from its id on."""
    if limit:
        page = list(call.document("one.vmpool.info", MINE, offset, -(limit + 1), -1))
        if not oid or (page and int(page[0].findtext("ID") or -1) == oid):
            return page
    return list(call.document("one.vmpool.info", MINE, oid or -1, -1, -1))


def _page(vms: list[Element], limit: int, oid: int,
          offset: int) -> tuple[list[Element], str | None]:
    """`limit` instances (all with 0) from id `oid` on, in id order, and the next token."""
    numbered = sorted((number, vm) for number, vm in
                      ((int(vm.findtext("ID") or 0), vm) for vm in vms) if number >= oid)
    rest = [vm for _, vm in numbered]
    if not limit or len(rest) <= limit:
        return rest, None
    following = f"{numbered[limit][0]}.{offset + limit}"
    return rest[:limit], base64.urlsafe_b64encode(following.encode()).decode()


def describe_instances(call: Call) -> list[Part]:
    ids = listed(call.params, "InstanceId")
    if ids and call.params.get("MaxResults"):
        raise Ec2Error("InvalidParameterCombination",
                       "The parameter instancesSet cannot be used with the parameter maxResults")
    wanted = _filters(call)
    limit = integer(call.params, "MaxResults", 0, 5, 1000)  # 5..1000, as EC2
    oid, offset = _token(call.params)
    if ids:
        vms = vms_by_id(call, ids)
    else:
        vms = all_vms(call) if wanted else _listed(call, limit, oid, offset)
    shown, token = _page([vm for vm in vms if _matches(vm, wanted)], limit, oid, offset)
    body: list[Part] = [
        f"<reservationSet>{_reservation_items(shown, call.config.zone)}</reservationSet>"]
    if token:
        body.append(node("nextToken", token))
    return body
