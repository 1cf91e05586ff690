"""What `oneflow` and `oneflow-template` share: the REST connection in the context,
documents as tables, --json, and verbs applied to several ids."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Iterable, cast

from rich.console import Console

from one.cli.base import Arg, Command, Context, arg
from one.cli.errors import CliError, ServerError, USAGE
from one.cli.flowclient import FlowClient
from one.cli.table import Column, build_table, label, right

Document = dict[str, Any]


def rest(method: str, path: str, body: Any = None) -> Any:
    """One request; the connection is read from the environment each time (it is cheap, and
    usage errors never need credentials)."""
    return FlowClient.from_env().request(method, path, body)


def body(document: Document) -> Document:
    return cast(Document, document["TEMPLATE"]["BODY"])


def json_field(get: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A column getter over JSON (the table renderer is the one every tool uses)."""
    return lambda row: str(get(row))


def owner_columns(last: Column) -> tuple[Column, ...]:
    return (right("ID", json_field(lambda d: d["ID"]), 4),
            label("USER", json_field(lambda d: d["UNAME"]), 8),
            label("GROUP", json_field(lambda d: d["GNAME"]), 8),
            label("NAME", json_field(lambda d: d["NAME"]), 20), last)


def json_table(columns: Iterable[Column], rows: Iterable[Document]) -> Any:
    return build_table(columns, cast(Any, rows))


def print_table(out: Console, columns: Iterable[Column], rows: Iterable[Document]) -> None:
    out.print(json_table(columns, rows))


def emit(ctx: Context, ns: argparse.Namespace, data: Any, render: Callable[[Any], None]) -> None:
    if ns.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        render(data)


def documents(path: str) -> list[Document]:
    return cast(list[Document], rest("GET", path)["DOCUMENT_POOL"].get("DOCUMENT") or [])


def number(text: str) -> int:
    if not text.isdigit():
        raise CliError(f"'{text}' is not an id (a number)", USAGE)
    return int(text)


def each(ctx: Context, tokens: list[str], action: Callable[[int], Any]) -> int:
    """`action` on every id; a refusal is reported and the others still run."""
    status = 0
    for oid in [number(t) for t in tokens]:
        try:
            action(oid)
        except ServerError as exc:
            ctx.err.print(f"[bold red]{exc.message}[/]")
            status = 1
    return status


IDS = arg("ids", nargs="+", metavar="ID", help="ids")
JSON = arg("-j", "--json", action="store_true", help="print the reply as JSON")


def verb(name: str, help: str, action: Callable[[argparse.Namespace, int], Any],
         args: tuple[Arg, ...] = ()) -> Command:
    return Command(name, lambda ctx, ns: each(ctx, ns.ids, lambda oid: action(ns, oid)), help,
                   (IDS,) + args)
