"""onehost: hypervisor hosts, their drivers, status and capacity."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (CLUSTER_ARG, calls, delete_command, id_action, ids_arg,
                              list_command, rename_command, show_command, top_command,
                              update_command)
from one.cli.format import size, timestamp
from one.cli.monitoring import monitoring_command
from one.cli.pools import CLUSTER, HOST, VM
from one.cli.sections import VIRTUAL_MACHINES, Fields, TemplateText
from one.cli.table import Column, label, named, right, short
from one.cli.xmldoc import Element, parse
from one.states import HOST_SHORT, HostState, HostStatus


def allocated(kind: str, show: Callable[[str | int], str]) -> Callable[[Element], str]:
    """`used / max (ratio%)` of HOST_SHARE; `-` while the host has reported no capacity."""
    def value(host: Element) -> str:
        used = int(host.findtext(f"HOST_SHARE/{kind}_USAGE", "0"))
        total = int(host.findtext(f"HOST_SHARE/MAX_{kind}", "0"))
        return f"{show(used)} / {show(total)} ({used * 100 // total}%)" if total else "-"
    return value


def _shares(share: str, probe: str, show: Callable[[str | int], str]) -> tuple[Column, ...]:
    """TOTAL, USED (REAL: what monitoring measured) and ALLOCATED (what VMs booked)."""
    return (
        Column(f"TOTAL {share}", lambda host: show(host.findtext(f"HOST_SHARE/TOTAL_{share}", ""))),
        Column(f"USED {share} (REAL)",
               lambda host: show(host.findtext(f"MONITORING/CAPACITY/USED_{probe}", ""))),
        Column(f"ALLOCATED {share}", allocated(share, show)),
    )


COLUMNS = (
    right("ID", "ID", 4), label("NAME", "NAME", 15), label("CLUSTER", "CLUSTER", 10),
    right("TVM", "HOST_SHARE/RUNNING_VMS", 3),
    right("ALLOCATED_CPU", allocated("CPU", str), 18),
    right("ALLOCATED_MEM", allocated("MEM", size), 18),
    Column("STAT", short(HostState, HOST_SHORT), 6),
)
SECTIONS = (
    Fields("HOST {ID} INFORMATION", (
        Column("ID", "ID"), Column("NAME", "NAME"), Column("CLUSTER", "CLUSTER"),
        Column("STATE", named(HostState)),
        Column("IM_MAD", "IM_MAD"), Column("VM_MAD", "VM_MAD"),
        Column("LAST MONITORING TIME",
               lambda host: timestamp(host.findtext("MONITORING/TIMESTAMP", "0"))),
    )),
    Fields("HOST SHARES", (
        Column("RUNNING VMS", "HOST_SHARE/RUNNING_VMS"),
        *_shares("MEM", "MEMORY", size), *_shares("CPU", "CPU", str),
    )),
    TemplateText("MONITORING INFORMATION", "TEMPLATE"),
    VIRTUAL_MACHINES,
)


def _create(ctx: Context, ns: argparse.Namespace) -> None:
    cluster = ctx.optional(CLUSTER, ns.cluster)
    ctx.say(f"ID: {ctx.call('one.host.allocate', ns.name, ns.im, ns.vm, cluster)}")


CREATE = Command("create", _create, "Adds a host", (
    arg("name", help="host name, as the drivers reach it"),
    arg("-i", "--im", default="kvm", help="information (monitoring) driver, kvm by default"),
    arg("-v", "--vm", default="kvm", help="virtualization driver, kvm by default"),
    CLUSTER_ARG,
))


def _sync(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.say(ctx.call("one.hostpool.sync") or "Host shares match the VMs placed: nothing repaired.")


SYNC = Command("sync", _sync, "Rebuilds host shares from the VMs placed and prints each "
               "repair (an extension: OpenNebula's sync copies probes to hosts)")


def status_command(verb: str, status: HostStatus, help: str) -> Command:
    return id_action(HOST, verb, help, calls("one.host.status", int(status)))


def _flush(ctx: Context, ns: argparse.Namespace) -> int:
    """As OpenNebula's `onehost flush`: the host disabled, then every VM on it asked to
    be rescheduled (the scheduler migrates it); a VM that cannot be is reported."""
    def flush(hid: int) -> int:
        ctx.call("one.host.status", hid, int(HostStatus.DISABLED))
        vms = parse(ctx.call("one.host.info", hid)).findall("VMS/ID")
        return ctx.each(VM, [vm.text or "" for vm in vms],
                        lambda vid: ctx.call("one.vm.action", "resched", vid), "resched")

    refused: list[int] = []  # the exit status of VMs not rescheduled
    status = ctx.each(HOST, ns.ids, lambda hid: refused.append(flush(hid)), "flush")
    return status or max(refused, default=0)


FLUSH = Command("flush", _flush, "Disables hosts and reschedules their VMs to other hosts",
                (ids_arg(HOST, True),))
# As OpenNebula's: offline then enabled again, so the host is probed anew at once.
FORCEUPDATE = id_action(HOST, "forceupdate", "Forces a new monitoring of hosts",
                        lambda ctx, ns, hid: [ctx.call("one.host.status", hid, int(state))
                                              for state in (HostStatus.OFFLINE,
                                                            HostStatus.ENABLED)])


COMMANDS = (
    list_command(HOST, COLUMNS),
    show_command(HOST, SECTIONS),
    top_command(HOST, COLUMNS),
    CREATE,
    delete_command(HOST),
    status_command("enable", HostStatus.ENABLED, "Enables hosts for new VMs and monitoring"),
    status_command("disable", HostStatus.DISABLED, "Disables hosts: no new VMs"),
    status_command("offline", HostStatus.OFFLINE, "Takes hosts offline: no monitoring either"),
    update_command(HOST),
    rename_command(HOST),
    SYNC,
    FLUSH,
    FORCEUPDATE,
    monitoring_command(HOST, ("USED_CPU", "USED_MEMORY")),
)
TOOL = Tool("onehost", "Manages OpenNebula hosts.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
