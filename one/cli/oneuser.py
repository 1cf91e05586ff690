"""oneuser: accounts, passwords, login tokens and primary groups."""
from __future__ import annotations

import argparse
import sys
import time

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (delete_command, id_action, list_command, show_command,
                              switch_commands, update_command)
from one.cli.pools import GROUP, USER
from one.cli.errors import USAGE, CliError
from one.cli.quotas import defaultquota_command, quota_command, quota_sections
from one.cli.sections import Fields, Section, TemplateText
from one.cli.table import Column, label, render_table, right
from one.cli.xmldoc import Element, parse

DEFAULT_TOKEN_SECONDS = 36000  # OpenNebula's oneuser login default: ten hours


def _created(key: Element) -> str:
    return time.strftime("%m/%d %H:%M:%S", time.localtime(int(key.findtext("CREATED") or 0)))


def _enabled(user: Element) -> str:
    return "yes" if user.findtext("ENABLED") == "1" else "no"


def _secondary(user: Element) -> str:
    """GROUPS lists the primary group too; show only the others."""
    primary = user.findtext("GID")
    return ",".join(e.text or "" for e in user.iterfind("GROUPS/ID") if e.text != primary)


COLUMNS = (right("ID", "ID", 4), label("NAME", "NAME", 15), Column("ENABLED", _enabled, 7),
           label("GROUP", "GNAME", 10), Column("AUTH", "AUTH_DRIVER", 8))
SECTIONS: tuple[Section, ...] = (
    Fields("USER {ID} INFORMATION", (
        Column("ID", "ID"), Column("NAME", "NAME"), Column("GROUP", "GNAME"),
        Column("SECONDARY GROUPS", _secondary), Column("PASSWORD", "PASSWORD"),
        Column("AUTH_DRIVER", "AUTH_DRIVER"), Column("ENABLED", _enabled),
    )),
    TemplateText("USER TEMPLATE", "TEMPLATE"),
    *quota_sections("DEFAULT_USER_QUOTAS"),
)


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(f"ID: {ctx.call('one.user.allocate', ns.name, ns.password, ns.driver, [])}")


def _passwd(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.user.passwd", ctx.one(USER, ns.id), ns.password)


KEY_COLUMNS = (label("ACCESS_KEY_ID", "ACCESS_KEY_ID", 20), Column("CREATED", _created))


def _ec2_keys(ctx: Context, ns: argparse.Namespace) -> None:
    """create prints the secret (shown only this once); delete needs --key."""
    uid = ctx.optional(USER, ns.user)
    if ns.action == "create":
        key = parse(ctx.call("one.user.ec2keys_create", uid))
        ctx.say(f"ACCESS_KEY_ID:     {key.findtext('ACCESS_KEY_ID')}\n"
                f"SECRET_ACCESS_KEY: {key.findtext('SECRET_ACCESS_KEY')}")
    elif ns.action == "list":
        render_table(ctx.out, KEY_COLUMNS,
                     parse(ctx.call("one.user.ec2keys_list", uid)).iterfind("EC2_KEY"))
    elif not ns.key:
        raise CliError("oneuser ec2-keys delete: --key ACCESS_KEY_ID is required", USAGE)
    else:
        ctx.call("one.user.ec2keys_delete", uid, ns.key)


def _login(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(str(ctx.call("one.user.login", ns.name, "", ns.time, -1)))


COMMANDS = (
    list_command(USER, COLUMNS),
    show_command(USER, SECTIONS),
    Command("create", _create, "Creates a user", (
        arg("name"), arg("password"),
        arg("--driver", default="core", help="authentication driver, core by default"))),
    delete_command(USER),
    Command("passwd", _passwd, "Changes a password", (arg("id"), arg("password"))),
    Command("login", _login, "Creates a login token and prints it", (
        arg("name"), arg("--time", type=int, default=DEFAULT_TOKEN_SECONDS,
                         help="seconds the token is valid (0 revokes)"))),
    *switch_commands(USER, "one.user.enable", ("enable", "Enables users"),
                     ("disable", "Disables users: they can no longer log in")),
    id_action(USER, "chgrp", "Changes the primary group of users",
              lambda ctx, ns, oid: ctx.call("one.user.chgrp", oid, ctx.one(GROUP, ns.group)),
              (arg("group"),)),
    update_command(USER),
    quota_command(USER),
    defaultquota_command(USER),
    Command("ec2-keys", _ec2_keys, "Creates, lists or deletes EC2 access keys (one-econe)", (
        arg("action", choices=("create", "list", "delete")),
        arg("user", nargs="?", help="user name or id; the caller by default"),
        arg("--key", help="the ACCESS_KEY_ID to delete"))),
)
TOOL = Tool("oneuser", "Manages OpenNebula users.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
