"""onegroup: groups and who belongs to them."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from one.acl_syntax import parse as numbers

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import delete_command, list_command, show_command
from one.cli.pools import GROUP, USER
from one.cli.quotas import defaultquota_command, quota_command, quota_sections
from one.cli.sections import Fields, Section, TemplateText, id_list
from one.cli.table import Column, counted, label, right

COLUMNS = (right("ID", "ID", 4), label("NAME", "NAME", 15),
           right("USERS", counted("USERS/ID"), 5))
SECTIONS: tuple[Section, ...] = (
    Fields("GROUP {ID} INFORMATION", (Column("ID", "ID"), Column("NAME", "NAME"))),
    TemplateText("GROUP TEMPLATE", "TEMPLATE"),
    id_list("USERS", "USERS/ID"),
    id_list("ADMINS", "ADMINS/ID"),
    *quota_sections("DEFAULT_GROUP_QUOTAS"),
)
# What OpenNebula's client gives a new group's users: they may create these.
DEFAULT_CREATE = "VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VROUTER+VMGROUP+BACKUPJOB"


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    """As OpenNebula's `onegroup create`: the group, then the rule letting its users
    create resources (`@<id> VM+IMAGE+.../* CREATE`), as its Ruby client adds it."""
    gid = ctx.call("one.group.allocate", ns.name)
    ctx.say(f"ID: {gid}")
    resources = numbers(f"@{gid} {DEFAULT_CREATE}/* CREATE")
    ctx.call("one.acl.addrule", *(f"{n:x}" for n in resources))


def _admin(method: str) -> Callable[[Context, argparse.Namespace], None]:
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        ctx.call(method, ctx.one(GROUP, ns.group), ctx.one(USER, ns.user))

    return run


COMMANDS = (
    list_command(GROUP, COLUMNS),
    show_command(GROUP, SECTIONS),
    Command("create", _create, "Creates a group", (arg("name"),)),
    delete_command(GROUP),
    Command("addadmin", _admin("one.group.addadmin"), "Makes a member an administrator",
            (arg("group"), arg("user"))),
    Command("deladmin", _admin("one.group.deladmin"), "Removes an administrator",
            (arg("group"), arg("user"))),
    quota_command(GROUP),
    defaultquota_command(GROUP),
)
TOOL = Tool("onegroup", "Manages OpenNebula groups.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
