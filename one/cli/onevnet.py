"""onevnet: virtual networks, their address ranges and leases."""
from __future__ import annotations

import argparse
import sys

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (CLUSTER_ARG, create_command, delete_command, list_command,
                              ownership_commands, show_command)
from one.cli.errors import USAGE, CliError
from one.cli.files import read_file
from one.cli.format import quote, vector
from one.cli.pools import CLUSTER, VNET
from one.cli.sections import PERMISSIONS, Fields, Rows, TemplateText
from one.cli.table import Column, joined, label, named, right, short
from one.cli.xmldoc import Element
from one.states import VnetState

SHORT_STATE = {VnetState.INIT: "init", VnetState.READY: "rdy", VnetState.LOCK_CREATE: "lock",
               VnetState.LOCK_DELETE: "lock", VnetState.DONE: "done", VnetState.ERROR: "err",
               VnetState.UPDATE_FAILURE: "fail"}


def _owner(lease: Element) -> str:
    """`V:<vm>` (V:-1 is an address on hold) or `N:<vnet>` for a reservation."""
    for tag, letter in (("VM", "V"), ("VNET", "N"), ("VROUTER", "R")):
        if lease.find(tag) is not None:
            return f"{letter}:{lease.findtext(tag)}"
    return "-"


COLUMNS = (
    right("ID", "ID", 4), label("USER", "UNAME", 8), label("GROUP", "GNAME", 8),
    label("NAME", "NAME", 15), Column("CLUSTERS", joined("CLUSTERS/ID"), 8),
    Column("BRIDGE", "BRIDGE", 8),
    Column("STATE", short(VnetState, SHORT_STATE), 5),
    right("LEASES", "USED_LEASES", 6),
)
RANGES = (right("AR", "AR_ID", 3), Column("TYPE", "TYPE", 6), right("SIZE", "SIZE", 5),
          right("USED", "USED_LEASES", 5), Column("MAC", "MAC", 17), Column("IP", "IP", 15),
          Column("IP_END", "IP_END", 15))
LEASES = (right("AR", lambda lease: str(lease.xpath("string(../../AR_ID)")), 3),
          Column("OWNER", _owner, 8), Column("MAC", "MAC", 17), Column("IP", "IP", 15))
SECTIONS = (
    Fields("VIRTUAL NETWORK {ID} INFORMATION", (
        Column("ID", "ID"), Column("NAME", "NAME"), Column("USER", "UNAME"),
        Column("GROUP", "GNAME"),
        Column("STATE", named(VnetState)),
        Column("CLUSTERS", joined("CLUSTERS/ID")), Column("BRIDGE", "BRIDGE"),
        Column("VN_MAD", "VN_MAD"), Column("PHYSICAL DEVICE", "PHYDEV"),
        Column("VLAN ID", "VLAN_ID"), Column("PARENT NETWORK", "PARENT_NETWORK_ID"),
        Column("USED LEASES", "USED_LEASES"),
    )),
    PERMISSIONS,
    TemplateText("VIRTUAL NETWORK TEMPLATE", "TEMPLATE"),
    Rows("ADDRESS RANGE POOL", "AR_POOL/AR", RANGES),
    Rows("LEASES", "AR_POOL/AR/LEASES/LEASE", LEASES),
)


def _range_text(ns: argparse.Namespace) -> str:
    """`--file` as given, or AR=[...] built from the flags."""
    if ns.file is not None:
        return read_file(ns.file)
    if ns.size is None:
        raise CliError("addar needs --size (or --file with an AR template)", USAGE)
    attrs = {"TYPE": ns.type or ("IP4" if ns.ip else "ETHER"), "SIZE": str(ns.size)}
    attrs.update({key: value for key, value in (("IP", ns.ip), ("MAC", ns.mac)) if value})
    return vector("AR", attrs)


def _add_range(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vn.add_ar", ctx.one(VNET, ns.id), _range_text(ns))


def _rm_range(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vn.rm_ar", ctx.one(VNET, ns.id), ns.ar_id)


def lease_command(verb: str, help: str) -> Command:
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        ctx.call(f"one.vn.{verb}", ctx.one(VNET, ns.id), f"LEASES=[IP={quote(ns.ip)}]")
    return Command(verb, run, help, (arg("id"), arg("ip")))


def _reserve(ctx: Context, ns: argparse.Namespace) -> None:
    text = f"SIZE={ns.size} NAME={quote(ns.name)}"
    ctx.say(f"Reservation VNET ID: {ctx.call('one.vn.reserve', ctx.one(VNET, ns.id), text)}")


COMMANDS = (
    list_command(VNET, COLUMNS),
    show_command(VNET, SECTIONS),
    create_command(VNET, "Creates a virtual network from a template",
                   (CLUSTER_ARG,), lambda ctx, ns: (ctx.optional(CLUSTER, ns.cluster),)),
    delete_command(VNET),
    Command("addar", _add_range, "Adds an address range", (
        arg("id"), arg("--ip", help="first IPv4 address"), arg("--size", type=int),
        arg("--mac", help="first MAC address"), arg("--type", help="IP4, IP6, IP4_6 or ETHER"),
        arg("--file", help="a template with AR=[...] instead of the flags"))),
    Command("rmar", _rm_range, "Removes an address range without leases in use",
            (arg("id"), arg("ar_id", type=int))),
    lease_command("hold", "Puts an address on hold so no VM gets it"),
    lease_command("release", "Gives an address on hold back"),
    Command("reserve", _reserve, "Reserves addresses into a new network", (
        arg("id"), arg("-n", "--name", required=True, help="name of the reservation"),
        arg("-s", "--size", type=int, required=True, help="how many addresses"))),
    *ownership_commands(VNET),
)
TOOL = Tool("onevnet", "Manages OpenNebula virtual networks.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
