"""oneflow-template: OneFlow service templates through the REST API (ONEFLOW_URL)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from one.cli.base import Command, Context, Tool, arg
from one.cli.errors import USAGE, CliError
from one.cli.files import read_file
from one.cli.flowcommands import (JSON, Document, body, emit, json_field, number,
                                  owner_columns, print_table, rest, verb)
from one.cli.table import Column

COLUMNS = owner_columns(Column("ROLES", json_field(
    lambda d: ",".join(r["name"] for r in body(d)["roles"]))))


def _json_file(path: str) -> Any:
    try:
        return json.loads(read_file(Path(path), "service template file"))
    except ValueError as error:
        raise CliError(f"{path} is not JSON: {error}", USAGE) from None


def _list(ctx: Context, ns: argparse.Namespace) -> None:
    emit(ctx, ns, rest("GET", "/service_template"), lambda data: print_table(
        ctx.out, COLUMNS, data["DOCUMENT_POOL"].get("DOCUMENT") or []))


def _render(ctx: Context, doc: Document) -> None:
    ctx.out.print(f"[bold]SERVICE TEMPLATE {doc['ID']} INFORMATION[/]")
    for key, value in (("ID", doc["ID"]), ("NAME", doc["NAME"]), ("USER", doc["UNAME"]),
                       ("GROUP", doc["GNAME"])):
        ctx.say(f"{key:<16}: {value}")
    ctx.out.print()
    ctx.out.print("[bold]TEMPLATE CONTENTS[/]")
    ctx.say(json.dumps(body(doc), indent=2))


def _show(ctx: Context, ns: argparse.Namespace) -> None:
    emit(ctx, ns, rest("GET", f"/service_template/{number(ns.id)}"),
         lambda data: _render(ctx, data["DOCUMENT"]))


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(f"ID: {rest('POST', '/service_template', _json_file(ns.file))['DOCUMENT']['ID']}")


def _update(ctx: Context, ns: argparse.Namespace) -> None:
    rest("PUT", f"/service_template/{number(ns.id)}", _json_file(ns.file))


def _perform(oid: int, perform: str, **params: Any) -> Any:
    return rest("POST", f"/service_template/{oid}/action",
                {"action": {"perform": perform, "params": params}})


def _instantiate(ctx: Context, ns: argparse.Namespace) -> None:
    merge = {"name": ns.name} if ns.name else {}
    reply = _perform(number(ns.id), "instantiate", merge_template=merge)
    ctx.say(f"ID: {reply['DOCUMENT']['ID']}")


def _clone(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(f"ID: {_perform(number(ns.id), 'clone', name=ns.name)['DOCUMENT']['ID']}")


def _chmod(ns: argparse.Namespace, oid: int) -> None:
    if not (len(ns.octet) == 3 and all(c in "01234567" for c in ns.octet)):
        raise CliError(f"'{ns.octet}' is not a permission octet such as 640", USAGE)
    _perform(oid, "chmod", octet=ns.octet)


def _chown(ctx: Context, ns: argparse.Namespace) -> None:
    _perform(number(ns.id), "chown", owner_id=number(ns.user),
             group_id=-1 if ns.group is None else number(ns.group))


COMMANDS = (
    Command("list", _list, "Lists service templates", (JSON,)),
    Command("show", _show, "Shows a service template", (arg("id"), JSON)),
    Command("create", _create, "Stores a service template from a JSON file", (arg("file"),)),
    Command("update", _update, "Replaces a service template with a JSON file",
            (arg("id"), arg("file"))),
    Command("instantiate", _instantiate, "Creates a service from a template",
            (arg("id"), arg("--name", help="name of the service"))),
    verb("delete", "Deletes service templates",
         lambda ns, oid: rest("DELETE", f"/service_template/{oid}")),
    Command("chown", _chown, "Changes the owner (and group) of a service template",
            (arg("id"), arg("user", help="user id"), arg("group", nargs="?", help="group id"))),
    verb("chmod", "Changes the permissions of service templates", _chmod,
         (arg("--octet", required=True, help="e.g. 640"),)),
    Command("clone", _clone, "Copies a service template", (arg("id"), arg("name"))),
)
TOOL = Tool("oneflow-template", "Manages OneFlow service templates.", COMMANDS)
main = TOOL.main

if __name__ == "__main__":
    sys.exit(main())
