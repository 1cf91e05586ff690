"""oneacl: ACL rules in OpenNebula's string form (`@1 VM+NET/* CREATE`).

The string is parsed here, as OpenNebula's Ruby client does, and sent as the
four hexadecimal numbers one.acl.addrule takes; lists show oned's columns.
"""
from __future__ import annotations

import argparse
import sys

from one.acl_syntax import TYPES, parse
from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import calls, id_action, list_command
from one.cli.errors import USAGE, CliError
from one.cli.pools import PoolSpec
from one.cli.table import Column, right
from one.cli.xmldoc import Element

ACL = PoolSpec("ACL", "one.acl", "one.acl.info", "ACL")
# oneacl_helper.rb: one letter per type, in OpenNebula's type order.
_TYPE_LETTERS = dict(zip(TYPES, "VHNIUTGDCOZSvRMAPtB"))
_RIGHT_LETTERS = {"USE": "u", "MANAGE": "m", "ADMIN": "a", "CREATE": "c"}


def _part(element: Element, index: int) -> str:
    parts = (element.findtext("STRING") or "").split()
    return parts[index] if index < len(parts) else ""


def _resource_mask(element: Element) -> str:
    named = set(_part(element, 1).split("/")[0].split("+"))
    return "".join(letter if kind in named else "-" for kind, letter in _TYPE_LETTERS.items())


def _rights_mask(element: Element) -> str:
    named = set(_part(element, 2).split("+"))
    return "".join(letter if right in named else "-" for right, letter in _RIGHT_LETTERS.items())


COLUMNS = (
    right("ID", "ID", 4),
    right("USER", lambda e: _part(e, 0), 8),
    Column("RES_VHNIUTGDCOZSvRMAPtB", _resource_mask, 23),
    right("RID", lambda e: _part(e, 1).partition("/")[2], 5),
    right("OPE_UMAC", _rights_mask, 8),
    right("ZONE", lambda e: _part(e, 3), 5),
)


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    """`oneacl create "@1 VM+NET/* CREATE"`, or the parts as separate arguments."""
    try:
        numbers = parse(" ".join(ns.rule))
    except ValueError as exc:
        raise CliError(str(exc), USAGE) from None
    ctx.say(f"ID: {ctx.call('one.acl.addrule', *(f'{n:x}' for n in numbers))}")


COMMANDS = (
    list_command(ACL, COLUMNS),
    Command("create", _create, "Adds a rule: USER RESOURCE RIGHTS [ZONE]",
            (arg("rule", nargs="+", help='the rule, e.g. "@1 VM+NET/* CREATE"'),)),
    id_action(ACL, "delete", "Deletes rules", calls("one.acl.delrule")),
)
TOOL = Tool("oneacl", "Manages OpenNebula ACL rules.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
