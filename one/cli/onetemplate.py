"""onetemplate: VM templates, stored and instantiated, as OpenNebula's onetemplate."""
from __future__ import annotations

import argparse
import sys

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (LOCK_LEVELS, create_command, id_action, list_command,
                              lock_commands, ownership_commands, show_command)
from one.cli.files import read_file
from one.cli.format import timestamp
from one.cli.pools import TEMPLATE
from one.cli.sections import PERMISSIONS, Fields, TemplateText
from one.cli.table import Column, label, right
from one.cli.vm_options import HOLD_ARG, MULTIPLE_ARG, TEMPLATE_ARGS, template_text
from one.cli.xmldoc import Element

_LOCK_NAMES = {str(level): name.upper() for name, level in LOCK_LEVELS.items()}


def _regtime(template: Element) -> str:
    return timestamp(template.findtext("REGTIME", "0"))


def _lock(template: Element) -> str:
    return _LOCK_NAMES.get(template.findtext("LOCK/LOCKED", ""), "None")


COLUMNS = (right("ID", "ID", 4), label("USER", "UNAME", 8), label("GROUP", "GNAME", 8),
           label("NAME", "NAME", 20), Column("REGTIME", _regtime, 14))
SECTIONS = (
    Fields("TEMPLATE {ID} INFORMATION", (
        Column("ID", "ID"), Column("NAME", "NAME"), Column("USER", "UNAME"),
        Column("GROUP", "GNAME"), Column("LOCK", _lock), Column("REGISTER TIME", _regtime),
    )),
    PERMISSIONS,
    TemplateText("TEMPLATE CONTENTS", "TEMPLATE"),
)


def _instantiate(ctx: Context, ns: argparse.Namespace) -> None:
    """`--multiple N` VMs; `%i` in --name becomes each VM's number (0..N-1)."""
    tid = ctx.one(TEMPLATE, ns.id)
    parts = [read_file(ns.file) if ns.file is not None else None, template_text(ns, name=False)]
    extra = "\n".join(part for part in parts if part)
    for index in range(ns.multiple):
        name = (ns.name or "").replace("%i", str(index))
        vid = ctx.call("one.template.instantiate", tid, name, ns.hold, extra, ns.persistent)
        ctx.say(f"VM ID: {vid}")


INSTANTIATE = Command(
    "instantiate", _instantiate, "Creates VMs from a template; the options and FILE add to it",
    (arg("id", help="template id or name"),
     arg("file", nargs="?", help="a template file merged over the stored one"),
     HOLD_ARG, MULTIPLE_ARG, *TEMPLATE_ARGS,
     arg("--persistent", action="store_true",
         help="each VM from a private copy of the template with persistent copies of its images")))


def _clone(ctx: Context, ns: argparse.Namespace) -> None:
    new = ctx.call("one.template.clone", ctx.one(TEMPLATE, ns.id), ns.name, ns.recursive)
    ctx.say(f"ID: {new}")


RECURSIVE = arg("-r", "--recursive", action="store_true",
                help="the images of its owner it names too")
CLONE = Command("clone", _clone, "Copies a template (--recursive: and its images)",
                (arg("id", help="template id or name"), arg("name", help="name of the copy"),
                 RECURSIVE))
DELETE = id_action(TEMPLATE, "delete", "Deletes templates (--recursive: and their images)",
                   lambda ctx, ns, oid: ctx.call("one.template.delete", oid, ns.recursive),
                   (RECURSIVE,))

COMMANDS = (
    list_command(TEMPLATE, COLUMNS),
    show_command(TEMPLATE, SECTIONS),
    create_command(TEMPLATE, "Stores a template from a file or the template options",
                   TEMPLATE_ARGS, build=template_text),
    INSTANTIATE,
    CLONE,
    DELETE,
    *lock_commands(TEMPLATE, "templates"),
    *ownership_commands(TEMPLATE),
)
TOOL = Tool("onetemplate", "Manages OpenNebula VM templates.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
