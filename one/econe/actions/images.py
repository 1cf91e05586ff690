"""DescribeImages: ONE images as AMIs (ami-%08x of the image id)."""
from __future__ import annotations

import datetime as dt

from one.econe.app import Call
from one.econe.errors import Ec2Error
from one.econe.params import listed, required
from one.econe.xml import Element, ec2_id, fields, item_set, node, one_id, quoted

READY, USED = "1", "2"
IMAGE_NOT_FOUND = "InvalidAMIID.NotFound"


def image_number(text: str) -> int:
    return one_id(text, "ami", IMAGE_NOT_FOUND)


def not_found(ami: str) -> Ec2Error:
    return Ec2Error(IMAGE_NOT_FOUND, f"The image id '[{ami}]' does not exist")


def _state(image: Element) -> str:
    state = image.findtext("STATE")
    return "available" if state in (READY, USED) else "pending" if state in ("0", "4") else \
        "failed"


def _image(image: Element) -> Element:
    stamp = dt.datetime.fromtimestamp(int(image.findtext("REGTIME") or 0), dt.timezone.utc)
    return fields("item", {
        "imageId": ec2_id("ami", image.findtext("ID") or 0),
        "imageLocation": image.findtext("PATH") or image.findtext("SOURCE") or "",
        "imageState": _state(image), "imageOwnerId": image.findtext("UID"),
        "creationDate": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "isPublic": "true" if image.findtext("PERMISSIONS/OTHER_U") == "1" else "false",
        "architecture": "x86_64", "imageType": "machine", "name": image.findtext("NAME"),
        "description": image.findtext("TEMPLATE/DESCRIPTION") or "",
        "rootDeviceType": "ebs", "rootDeviceName": "/dev/sda1",
        "virtualizationType": "hvm", "hypervisor": "xen"})


def describe_images(call: Call) -> list[Element]:
    """The user's images and those shared with them (OS images only); ImageId.N narrows."""
    wanted = {image_number(ami): ami for ami in listed(call.params, "ImageId")}
    pool = call.document("one.imagepool.info", -2, -1, -1)
    images = {int(i.findtext("ID") or -1): i for i in pool if i.findtext("TYPE") == "0"}
    missing = [ami for oid, ami in wanted.items() if oid not in images]
    if missing:
        raise not_found(missing[0])
    shown = [images[oid] for oid in (wanted or images)]
    return [item_set("imagesSet", [_image(i) for i in shown])]


IMAGES_DATASTORE = 1  # the default image datastore, as oned bootstraps it


def register_image(call: Call) -> list[Element]:
    """An OS image from ImageLocation (a path or URL oned can read), in the default datastore."""
    name = required(call.params, "Name")
    location = required(call.params, "ImageLocation")
    text = f"NAME = {quoted(name)}\nTYPE = OS\nPATH = {quoted(location)}"
    description = call.params.get("Description")
    if description:
        text += f"\nDESCRIPTION = {quoted(description)}"
    oid = call.one("one.image.allocate", text, IMAGES_DATASTORE)
    return [node("imageId", ec2_id("ami", oid))]


def deregister_image(call: Call) -> list[Element]:
    ami = required(call.params, "ImageId")
    call.one("one.image.delete", image_number(ami), False, not_found=not_found(ami))
    return [node("return", "true")]
