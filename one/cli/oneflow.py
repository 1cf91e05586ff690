"""oneflow: OneFlow services through the REST API (ONEFLOW_URL), as OpenNebula's oneflow."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import seconds
from one.cli.errors import USAGE, CliError
from one.cli.flowcommands import (JSON, Document, body, documents, emit, json_field,
                                  json_table, number, owner_columns, print_table, rest, verb)
from one.cli.table import Column, right
from one.states import ServiceState

COLUMNS = owner_columns(Column("STATE", json_field(lambda d: _state(body(d)["state"])), 18))
ROLE_COLUMNS = (
    Column("ROLE", json_field(lambda r: r["name"]), 14),
    Column("STATE", json_field(lambda r: _state(r["state"])), 18),
    right("CARDINALITY", json_field(lambda r: r["cardinality"])),
    right("VMS", json_field(lambda r: len(r["nodes"]))),
    Column("VM IDS", json_field(lambda r: ",".join(str(n["deploy_id"]) for n in r["nodes"]))))


def _state(number: Any) -> str:
    try:
        return ServiceState(int(number)).name
    except ValueError:
        return str(number)


def _list(ctx: Context, ns: argparse.Namespace) -> None:
    emit(ctx, ns, rest("GET", "/service"), lambda data: print_table(
        ctx.out, COLUMNS, data["DOCUMENT_POOL"].get("DOCUMENT") or []))


def _render(ctx: Context, doc: Document) -> None:
    service = body(doc)
    ctx.out.print(f"[bold]SERVICE {doc['ID']} INFORMATION[/]")
    for key, value in (("ID", doc["ID"]), ("NAME", doc["NAME"]), ("USER", doc["UNAME"]),
                       ("GROUP", doc["GNAME"]), ("STRATEGY", service.get("deployment", "none")),
                       ("SERVICE STATE", _state(service["state"]))):
        ctx.say(f"{key:<16}: {value}")
    ctx.out.print()
    ctx.out.print("[bold]ROLES[/]")
    print_table(ctx.out, ROLE_COLUMNS, service["roles"])


def _show(ctx: Context, ns: argparse.Namespace) -> None:
    reply = rest("GET", f"/service/{number(ns.id)}")
    emit(ctx, ns, reply, lambda data: _render(ctx, data["DOCUMENT"]))


def _top(ctx: Context, ns: argparse.Namespace) -> None:
    if ns.id is None:
        ctx.watch(lambda: json_table(COLUMNS, documents("/service")), ns.delay, ns.count)
    else:
        path = f"/service/{number(ns.id)}"
        ctx.watch(lambda: json_table(ROLE_COLUMNS, body(rest("GET", path)["DOCUMENT"])["roles"]),
                  ns.delay, ns.count)


def _action(perform: str) -> Any:
    return lambda ns, oid: rest("POST", f"/service/{oid}/action",
                                {"action": {"perform": perform}})


def _scale(ctx: Context, ns: argparse.Namespace) -> None:
    if ns.cardinality < 0:
        raise CliError("the cardinality cannot be negative", USAGE)
    rest("PUT", f"/service/{number(ns.id)}/role/{ns.role}",
         {"cardinality": ns.cardinality, "force": ns.force})


COMMANDS = (
    Command("list", _list, "Lists services", (JSON,)),
    Command("show", _show, "Shows a service and its roles", (arg("id"), JSON)),
    Command("top", _top, "Lists services (or one's roles) over and over",
            (arg("id", nargs="?"), arg("-d", "--delay", type=seconds, default=5.0,
                                       help="seconds between refreshes"),
             arg("-n", "--count", type=int, help="this many refreshes, then stop"))),
    verb("delete", "Deletes services and their VMs",
         lambda ns, oid: rest("DELETE", f"/service/{oid}")),
    verb("shutdown", "Undeploys services, children roles before their parents",
         _action("shutdown")),
    verb("recover", "Retries what failed in services", _action("recover")),
    Command("scale", _scale, "Sets the cardinality of a role",
            (arg("id"), arg("role"), arg("cardinality", type=int),
             arg("-f", "--force", action="store_true",
                 help="even outside the role's min_vms..max_vms"))),
)
TOOL = Tool("oneflow", "Manages OneFlow services.", COMMANDS)
main = TOOL.main

if __name__ == "__main__":
    sys.exit(main())
