"""onegroup: groups and who belongs to them."""
from __future__ import annotations

import argparse
import sys

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import delete_command, list_command, show_command
from one.cli.pools import GROUP
from one.cli.quotas import defaultquota_command, quota_command, quota_sections
from one.cli.sections import Fields, Section, TemplateText, id_list
from one.cli.table import Column, counted, label, right

COLUMNS = (right("ID", "ID", 4), label("NAME", "NAME", 15),
           right("USERS", counted("USERS/ID"), 5))
SECTIONS: tuple[Section, ...] = (
    Fields("GROUP {ID} INFORMATION", (Column("ID", "ID"), Column("NAME", "NAME"))),
    TemplateText("GROUP TEMPLATE", "TEMPLATE"),
    id_list("USERS", "USERS/ID"),
    *quota_sections("DEFAULT_GROUP_QUOTAS"),
)


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(f"ID: {ctx.call('one.group.allocate', ns.name)}")


COMMANDS = (
    list_command(GROUP, COLUMNS),
    show_command(GROUP, SECTIONS),
    Command("create", _create, "Creates a group", (arg("name"),)),
    delete_command(GROUP),
    quota_command(GROUP),
    defaultquota_command(GROUP),
)
TOOL = Tool("onegroup", "Manages OpenNebula groups.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
