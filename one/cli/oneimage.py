"""oneimage: disk images, registered into datastores and copied there by oned."""
from __future__ import annotations

import argparse
import sys
import time

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (create_command, delete_command, id_action, list_command,
                              ownership_commands, show_command, switch_commands)
from one.cli.errors import CliError
from one.cli.format import enum_name, megabytes, pairs, timestamp
from one.cli.pools import DATASTORE, IMAGE
from one.cli.sections import PERMISSIONS, VIRTUAL_MACHINES, Fields, TemplateText
from one.cli.table import Column, label, named, right, short, sized, yes_no
from one.cli.xmldoc import Element, parse
from one.states import ImageState, ImageType

WAIT_DELAY = 0.2  # seconds between polls of --wait
COPYING = (ImageState.INIT, ImageState.LOCKED)

SHORT_STATE = {
    ImageState.INIT: "init", ImageState.READY: "rdy", ImageState.USED: "used",
    ImageState.DISABLED: "disa", ImageState.LOCKED: "lock", ImageState.ERROR: "err",
    ImageState.CLONE: "clon", ImageState.DELETE: "dele", ImageState.USED_PERS: "used",
    ImageState.LOCKED_USED: "lock", ImageState.LOCKED_USED_PERS: "lock",
}
SHORT_TYPE = {
    ImageType.OS: "OS", ImageType.CDROM: "CD", ImageType.DATABLOCK: "DB",
    ImageType.KERNEL: "KL", ImageType.RAMDISK: "RD", ImageType.CONTEXT: "CX",
    ImageType.BACKUP: "BK", ImageType.FILESYSTEM: "FS",
}

COLUMNS = (
    right("ID", "ID", 4), label("USER", "UNAME", 8), label("GROUP", "GNAME", 8),
    label("NAME", "NAME", 15), label("DATASTORE", "DATASTORE", 10),
    right("SIZE", sized("SIZE", "M"), 7),
    Column("TYPE", short(ImageType, SHORT_TYPE, "TYPE"), 4),
    right("PER", yes_no("PERSISTENT"), 3),
    Column("STAT", short(ImageState, SHORT_STATE), 4),
    right("RVMS", "RUNNING_VMS", 4),
)
SECTIONS = (
    Fields("IMAGE {ID} INFORMATION", (
        Column("ID", "ID"), Column("NAME", "NAME"), Column("USER", "UNAME"),
        Column("GROUP", "GNAME"), Column("DATASTORE", "DATASTORE"),
        Column("TYPE", named(ImageType, "TYPE")),
        Column("REGISTER TIME", lambda image: timestamp(image.findtext("REGTIME", "0"))),
        Column("PERSISTENT", yes_no("PERSISTENT")), Column("SOURCE", "SOURCE"),
        Column("PATH", "PATH"), Column("FORMAT", "FORMAT"), Column("FSTYPE", "FS"),
        Column("SIZE", sized("SIZE", "M")),
        Column("STATE", named(ImageState)),
        Column("RUNNING_VMS", "RUNNING_VMS"),
    ), notes=(Column("ERROR", "TEMPLATE/ERROR"),)),
    PERMISSIONS,
    TemplateText("IMAGE TEMPLATE", "TEMPLATE"),
    VIRTUAL_MACHINES,
)


def _template(ns: argparse.Namespace) -> str | None:
    """The template the create options describe; None when none was given."""
    attrs = {"NAME": ns.name, "PATH": ns.path, "TYPE": ns.type, "SIZE": ns.size, "FS": ns.fs,
             "PERSISTENT": "YES" if ns.persistent else None, "DESCRIPTION": ns.description}
    given = {key: str(value) for key, value in attrs.items() if value is not None}
    return pairs(given) if given else None


def _state(image: Element) -> int:
    return int(image.findtext("STATE") or 0)


def wait_ready(ctx: Context, oid: int) -> None:
    """--wait: polls while oned copies the image; a failed copy fails the command."""
    started = time.monotonic()
    with ctx.err.status(f"IMAGE {oid}: copying") as progress:
        while _state(image := parse(ctx.call("one.image.info", oid))) in COPYING:
            progress.update(f"IMAGE {oid}: copying ({time.monotonic() - started:.0f}s)")
            time.sleep(WAIT_DELAY)
    if _state(image) == ImageState.ERROR:
        reason = image.findtext("TEMPLATE/ERROR") or "no reason given"
        raise CliError(f"IMAGE {oid} ERROR: {reason}")
    if ctx.verbose:
        ctx.say(f"IMAGE {oid}: {enum_name(ImageState, image.findtext('STATE'))}")


def _wait_if_asked(ctx: Context, ns: argparse.Namespace, oid: int) -> None:
    """After create or clone, which both return while oned still copies."""
    if ns.wait:
        wait_ready(ctx, oid)


WAIT_ARG = arg("--wait", action="store_true", help="wait until the copy is READY (or failed)")
CREATE_OPTIONS = (
    arg("-d", "--datastore", default="default",
        help="datastore id or name (the one named default if not given)"),
    arg("--name", help="name of the new image"),
    arg("--path", help="file on the front-end, or http(s) URL, to copy the image from"),
    arg("--type", type=str.upper, help="OS (the default), CDROM, DATABLOCK..."),
    arg("--size", type=megabytes, help="size of an empty DATABLOCK: MB, or 10G"),
    arg("--fs", help="file system to make on an empty DATABLOCK (ext4, xfs...)"),
    arg("--persistent", action="store_true", help="changes made by VMs are kept"),
    arg("--description", help="what the image is for"),
    WAIT_ARG,
)
CREATE = create_command(IMAGE, "Registers an image from a template or the options",
                        CREATE_OPTIONS, lambda ctx, ns: (ctx.one(DATASTORE, ns.datastore),),
                        _template, _wait_if_asked)


def _clone(ctx: Context, ns: argparse.Namespace) -> None:
    oid = ctx.call("one.image.clone", ctx.one(IMAGE, ns.id), ns.name,
                   ctx.optional(DATASTORE, ns.datastore))
    ctx.say(f"ID: {oid}")
    _wait_if_asked(ctx, ns, oid)


COMMANDS = (
    list_command(IMAGE, COLUMNS),
    show_command(IMAGE, SECTIONS),
    CREATE,
    delete_command(IMAGE),
    *switch_commands(IMAGE, "one.image.enable", ("enable", "Enables images: READY again"),
                     ("disable", "Disables images: no new VM may use them")),
    *switch_commands(IMAGE, "one.image.persistent",
                     ("persistent", "Makes images persistent: one VM at a time, changes kept"),
                     ("nonpersistent", "Makes images non-persistent: each VM gets a copy")),
    Command("clone", _clone, "Copies an image into a new one", (
        arg("id"), arg("name", help="name of the copy"),
        arg("-d", "--datastore", help="datastore id or name (the image's own if not given)"),
        WAIT_ARG)),
    id_action(IMAGE, "chtype", "Changes the type of images (OS, CDROM, DATABLOCK...)",
              lambda ctx, ns, oid: ctx.call("one.image.chtype", oid, ns.type),
              (arg("type", type=str.upper),)),
    *ownership_commands(IMAGE),
)
TOOL = Tool("oneimage", "Manages OpenNebula images.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
