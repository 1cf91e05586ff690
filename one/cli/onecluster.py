"""onecluster: clusters and the hosts, networks and datastores in them."""
from __future__ import annotations

import argparse
import sys

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import delete_command, list_command, rename_command, show_command, update_command
from one.cli.pools import CLUSTER, DATASTORE, HOST, VNET, PoolSpec
from one.cli.sections import Fields, TemplateText, id_list
from one.cli.table import Column, counted, label, right

COLUMNS = (right("ID", "ID", 4), label("NAME", "NAME", 25), right("HOSTS", counted("HOSTS/ID"), 5),
           right("VNETS", counted("VNETS/ID"), 5), right("DATASTORES", counted("DATASTORES/ID"), 10))
SECTIONS = (
    Fields("CLUSTER {ID} INFORMATION", (Column("ID", "ID"), Column("NAME", "NAME"))),
    TemplateText("CLUSTER TEMPLATE", "TEMPLATE"),
    id_list("HOSTS", "HOSTS/ID"),
    id_list("VNETS", "VNETS/ID"),
    id_list("DATASTORES", "DATASTORES/ID"),
)


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(f"ID: {ctx.call('one.cluster.allocate', ns.name)}")


def membership(verb: str, spec: PoolSpec, noun: str, help: str) -> Command:
    """`addhost <cluster> <host>` and its siblings: one.cluster.<verb><noun>(cluster, id)."""
    def run(ctx: Context, ns: argparse.Namespace) -> int:
        cid = ctx.one(CLUSTER, ns.cluster)
        return ctx.each(spec, ns.ids, lambda oid: ctx.call(f"one.cluster.{verb}{noun}", cid, oid),
                        f"{verb}{noun}")

    return Command(f"{verb}{noun}", run, help, (
        arg("cluster", help="cluster id or name"),
        arg("ids", nargs="+", metavar="ID", help=f"{spec.kind} ids, ranges 1..3 or names")))


MEMBERS = tuple(
    membership(verb, spec, noun, f"{how} {what} {where} the cluster")
    for spec, noun, what in ((HOST, "host", "hosts"), (VNET, "vnet", "virtual networks"),
                             (DATASTORE, "datastore", "datastores"))
    for verb, how, where in (("add", "Adds", "to"), ("del", "Removes", "from")))

COMMANDS = (
    list_command(CLUSTER, COLUMNS),
    show_command(CLUSTER, SECTIONS),
    Command("create", _create, "Creates a cluster", (arg("name"),)),
    delete_command(CLUSTER),
    rename_command(CLUSTER),
    update_command(CLUSTER),
) + MEMBERS
TOOL = Tool("onecluster", "Manages OpenNebula clusters.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
