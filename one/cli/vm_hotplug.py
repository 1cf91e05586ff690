"""`onevm disk-attach|disk-detach|nic-attach|nic-detach` and the VM DISKS section.

As OpenNebula's CLI: a disk from an image (--image, by id or name), a volatile
one (--size MB, --type fs|swap), or any DISK written in a file (--file); a NIC
on a network (--network, --ip). Devices are plugged while a VM runs or is
powered off; `onevm show` lists them under VM DISKS (the CONTEXT CD-ROM too)
and VM NICS, each only when the VM has some.
"""
from __future__ import annotations

import argparse

from rich.console import Console

from one.cli.base import Command, Context, arg
from one.cli.errors import USAGE, CliError
from one.cli.files import read_file
from one.cli.format import size, vector
from one.cli.pools import IMAGE, VM, VNET
from one.cli.table import Column, Getter, render_table, right
from one.cli.xmldoc import Element, tag


def _disk_template(ctx: Context, ns: argparse.Namespace) -> str:
    chosen = [flag for flag, value in (("--image", ns.image), ("--file", ns.file),
                                       ("--size", ns.size)) if value is not None]
    if len(chosen) != 1:
        raise CliError("disk-attach: give one of --image, --file or --size", USAGE)
    if ns.file is not None:
        return read_file(ns.file)
    attrs = {"IMAGE_ID": str(ctx.one(IMAGE, ns.image))} if ns.image is not None else {
        "TYPE": ns.type, "SIZE": str(ns.size), "FORMAT": ns.format}
    attrs.update({key: value for key, value in (("TARGET", ns.target), ("DEV_PREFIX", ns.prefix),
                                                ("CACHE", ns.cache)) if value})
    return vector("DISK", attrs)


def _disk_attach(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vm.attach", ctx.one(VM, ns.id), _disk_template(ctx, ns))


def _nic_attach(ctx: Context, ns: argparse.Namespace) -> None:
    attrs = {"NETWORK_ID": str(ctx.one(VNET, ns.network))}
    if ns.ip:
        attrs["IP"] = ns.ip
    if ns.model:
        attrs["MODEL"] = ns.model
    ctx.call("one.vm.attachnic", ctx.one(VM, ns.id), vector("NIC", attrs))


def _disk_detach(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vm.detach", ctx.one(VM, ns.id), ns.disk_id)


def _nic_detach(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vm.detachnic", ctx.one(VM, ns.id), ns.nic_id)


_VM = arg("id", help="VM id or name")
COMMANDS = (
    Command("disk-attach", _disk_attach, "Attaches a disk to a running or powered-off VM", (
        _VM, arg("--image", help="image id or name"),
        arg("--file", help="file with a DISK = [ ... ] template"),
        arg("--size", type=int, help="a volatile disk of this many MB"),
        arg("--type", default="fs", choices=("fs", "swap"), help="volatile disk type (fs)"),
        arg("--format", default="raw", choices=("raw", "qcow2"), help="volatile disk format"),
        arg("--target", help="device in the guest (vdb, sdc...)"),
        arg("--prefix", help="device prefix (hd, sd, vd)"),
        arg("--cache", help="cache mode (none, writeback...)"))),
    Command("disk-detach", _disk_detach,
            "Detaches a disk from a running or powered-off VM",
            (_VM, arg("disk_id", type=int, help="the disk's DISK_ID"))),
    Command("nic-attach", _nic_attach, "Attaches a NIC on a network to a running or powered-off VM", (
        _VM, arg("--network", required=True, help="network id or name"),
        arg("--ip", help="this address of the network"),
        arg("--model", help="NIC model (virtio, e1000...)"))),
    Command("nic-detach", _nic_detach,
            "Detaches a NIC from a running or powered-off VM",
            (_VM, arg("nic_id", type=int, help="the NIC's NIC_ID"))),
)


def _disk_id(disk: Element) -> str:
    """DISK_ID; the CD-ROM's is the one after the last disk until a hotplug writes it."""
    parent = disk.getparent()
    count = len(parent.findall("DISK")) if parent is not None else 0
    return disk.findtext("DISK_ID") or (str(count) if tag(disk) == "CONTEXT" else "")


def _image(disk: Element) -> str:
    """The image's name; a volatile disk's format and size, the CD-ROM's CONTEXT."""
    if tag(disk) == "CONTEXT":
        return "CONTEXT"
    kind = disk.findtext("TYPE", "").lower()
    if disk.findtext("IMAGE"):
        return disk.findtext("IMAGE", "")
    amount = size(disk.findtext("SIZE"), "M")
    return f"{amount} - swap" if kind == "swap" else f"{disk.findtext('FORMAT', 'raw')} - {amount}"


def _size(disk: Element) -> str:
    """Used/size in the guest, as OpenNebula shows it (`-` where unknown)."""
    if tag(disk) == "CONTEXT":
        return "-"
    used = disk.findtext("MONITOR_SIZE")
    return f"{size(used, 'M') if used else '-'}/{size(disk.findtext('SIZE'), 'M')}"


def _field(path: str, lower: bool = False) -> Getter:
    """A disk's value, `-` when missing; the CD-ROM shows only its TARGET."""
    def value(disk: Element) -> str:
        text = "-" if tag(disk) == "CONTEXT" and path != "TARGET" else disk.findtext(path) or "-"
        return text.lower() if lower else text
    return value


DISK_COLUMNS = (
    right("ID", _disk_id, 3), Column("DATASTORE", _field("DATASTORE"), 10),
    Column("TARGET", _field("TARGET"), 6), Column("IMAGE", _image, 35),
    Column("SIZE", _size, 9), Column("TYPE", _field("TYPE", lower=True), 4),
    Column("SAVE", lambda d: "-" if tag(d) == "CONTEXT" else d.findtext("SAVE") or "NO", 4),
)


class Disks:
    """VM DISKS: each DISK, then the CONTEXT CD-ROM; left out when there is none."""

    title = "VM DISKS"

    def shown(self, vm: Element) -> bool:
        return bool(self._rows(vm))

    def render(self, console: Console, vm: Element) -> None:
        render_table(console, DISK_COLUMNS, self._rows(vm))

    @staticmethod
    def _rows(vm: Element) -> list[Element]:
        return vm.findall("TEMPLATE/DISK") + vm.findall("TEMPLATE/CONTEXT")
