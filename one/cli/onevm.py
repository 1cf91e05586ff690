"""onevm: virtual machines, with the columns and verbs of OpenNebula's onevm."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from one.cli import sched, vm_hotplug, vm_snapshots
from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (calls, create_command, id_action, list_command,
                              lock_commands, ownership_commands, show_command, top_command)
from one.cli.errors import USAGE, CliError
from one.cli.files import read_file
from one.cli.format import elapsed, enum_name, pairs, short_period, size, span, timestamp
from one.cli.monitoring import monitoring_command
from one.cli.pools import HOST, VM
from one.cli.sections import PERMISSIONS, Fields, Rows, TemplateText
from one.cli.table import Column, label, named, right, sized, yes_no
from one.cli.vm_options import HOLD_ARG, MULTIPLE_ARG, TEMPLATE_ARGS, template_text
from one.cli.xmldoc import Element
from one.states import HistoryAction, LcmState, VmState, vm_short_state

LOCK_LEVELS = {"1": "Use", "2": "Manage", "3": "Admin", "4": "All"}   # OpenNebula's words
DEFAULT_VAR = "~/.one/var"  # oned's VAR_LOCATION when $ONE_VAR does not name one
ON_HOST = (VmState.ACTIVE, VmState.SUSPENDED, VmState.POWEROFF)


def _stat(vm: Element) -> str:
    return vm_short_state(int(vm.findtext("STATE", "0")), int(vm.findtext("LCM_STATE", "0")))


def _host(vm: Element) -> str:
    """The last history record's host, while the VM is on it (as OpenNebula shows it)."""
    if int(vm.findtext("STATE", "0")) not in ON_HOST:
        return ""
    return vm.findtext("HISTORY_RECORDS/HISTORY[last()]/HOSTNAME", "")


def _time(element: Element) -> str:
    return elapsed(element.findtext("STIME", "0"), element.findtext("ETIME", "0"))


def _prolog(record: Element) -> str:
    """How long the history record's prolog took (or has taken so far); 0 if none ran."""
    start = record.findtext("PSTIME", "0")
    return short_period(span(start, record.findtext("PETIME", "0")) if int(start) else 0)


def _traffic(name: str) -> Column:
    """NETRX/NETTX are bytes; OpenNebula shows them in K and up."""
    def value(vm: Element) -> str:
        octets = vm.findtext(f"MONITORING/{name}", "")
        return size(int(octets) // 1024 if octets.isdigit() else None)
    return Column(name, value)


COLUMNS = (
    right("ID", "ID", 6), label("USER", "UNAME", 8), label("GROUP", "GNAME", 8),
    label("NAME", "NAME", 15), Column("STAT", _stat, 4), right("CPU", "TEMPLATE/CPU", 4),
    right("MEM", sized("TEMPLATE/MEMORY", "M"), 7),
    label("HOST", _host, 10), right("TIME", _time, 11),
)

INFORMATION = Fields("VIRTUAL MACHINE {ID} INFORMATION", (
    Column("ID", "ID"), Column("NAME", "NAME"), Column("USER", "UNAME"),
    Column("GROUP", "GNAME"),
    Column("STATE", named(VmState)),
    Column("LCM_STATE", named(LcmState, "LCM_STATE")),
    Column("RESCHED", yes_no("RESCHED")),
    Column("HOST", _host),
    Column("START TIME", lambda vm: timestamp(vm.findtext("STIME", "0"))),
    Column("END TIME", lambda vm: timestamp(vm.findtext("ETIME", "0"))),
    Column("DEPLOY ID", "DEPLOY_ID"),
), notes=(Column("LOCK", lambda vm: LOCK_LEVELS.get(vm.findtext("LOCK/LOCKED", ""), "")),
          Column("ERROR", "USER_TEMPLATE/ERROR"),
          Column("SCHED_MESSAGE", "USER_TEMPLATE/SCHED_MESSAGE")))
MONITORING = Fields("VIRTUAL MACHINE MONITORING", (
    Column("CPU", "MONITORING/CPU"),
    Column("MEMORY", sized("MONITORING/MEMORY")),
    _traffic("NETTX"), _traffic("NETRX"),
))
NICS = (right("ID", "NIC_ID", 3), Column("NETWORK", "NETWORK", 15),
        Column("BRIDGE", "BRIDGE", 8), Column("IP", "IP", 15), Column("MAC", "MAC", 17))
HISTORY = (
    right("SEQ", "SEQ", 3), Column("HOST", "HOSTNAME", 15),
    Column("ACTION", lambda h: enum_name(HistoryAction, h.findtext("ACTION")).lower()
           .replace("_", "-"), 12),
    Column("START", lambda h: timestamp(h.findtext("STIME", "0")), 14),
    right("TIME", _time, 11), right("PROLOG", _prolog, 10),
)
SECTIONS = (
    INFORMATION, PERMISSIONS, MONITORING,
    vm_hotplug.Disks(),
    Rows("VM NICS", "TEMPLATE/NIC", NICS, optional=True),
    *vm_snapshots.SECTIONS_AFTER_NICS,
    TemplateText("VIRTUAL MACHINE TEMPLATE", "TEMPLATE"),
    TemplateText("USER TEMPLATE", "USER_TEMPLATE"),
    Rows("VIRTUAL MACHINE HISTORY", "HISTORY_RECORDS/HISTORY", HISTORY),
    vm_snapshots.SCHEDULED_ACTIONS,
)

# (verb, has a --hard form, help); each is one.vm.action(verb[-hard], id).
ACTIONS = (
    ("terminate", True, "Terminates VMs (--hard: destroys them at once)"),
    ("hold", False, "Holds pending VMs so the scheduler leaves them"),
    ("release", False, "Releases held VMs to the scheduler"),
    ("poweroff", True, "Powers VMs off, keeping them on their host"),
    ("reboot", True, "Reboots VMs (--hard: resets them)"),
    ("suspend", False, "Suspends VMs, keeping their memory on the host"),
    ("resume", False, "Resumes stopped, suspended, undeployed or powered-off VMs"),
    ("stop", False, "Stops VMs, saving their state to the system datastore"),
    ("undeploy", True, "Shuts VMs down and frees their host"),
    ("resched", False, "Asks the scheduler to move VMs"),
    ("unresched", False, "Cancels a resched"),
)
RECOVER = (
    arg("--failure", dest="op", action="store_const", const=0, help="the operation failed"),
    arg("--success", dest="op", action="store_const", const=1, help="the operation succeeded"),
    arg("--retry", dest="op", action="store_const", const=2, help="retry the operation"),
    arg("--delete", dest="op", action="store_const", const=3, help="delete the VM"),
    arg("--recreate", dest="op", action="store_const", const=4,
        help="delete and create it again, pending"),
    arg("--delete-db", dest="op", action="store_const", const=5,
        help="delete it from the database only"),
)


def action_command(verb: str, hard: bool, help: str) -> Command:
    def invoke(ctx: Context, ns: argparse.Namespace, oid: int) -> object:
        name = f"{verb}-hard" if getattr(ns, "hard", False) else verb
        return ctx.call("one.vm.action", name, oid)

    flags = (arg("--hard", action="store_true", help="skip the graceful path"),) if hard else ()
    return id_action(VM, verb, help, invoke, flags)


HOST_ARG = arg("host", help="host id or name")
ENFORCE_ARG = arg("--enforce", action="store_true",
                  help="refuse a host without room for the VM (deploy: or outside its clusters)")
DEPLOY = id_action(
    VM, "deploy", "Deploys VMs on a host, bypassing the scheduler",
    lambda ctx, ns, oid: ctx.call("one.vm.deploy", oid, ctx.one(HOST, ns.host), ns.enforce, -1),
    (HOST_ARG, ENFORCE_ARG))
MIGRATE = id_action(
    VM, "migrate", "Moves VMs to another host (--live: while they run)",
    lambda ctx, ns, oid: ctx.call("one.vm.migrate", oid, ctx.one(HOST, ns.host), ns.live,
                                  ns.enforce, -1, 0),
    (HOST_ARG, arg("--live", action="store_true", help="move the running guest, no save"),
     ENFORCE_ARG))


def _resize(ctx: Context, ns: argparse.Namespace, oid: int) -> object:
    given = {"CPU": ns.cpu, "VCPU": ns.vcpu, "MEMORY": ns.memory}
    if all(value is None for value in given.values()):
        raise CliError("resize: give --cpu, --vcpu or --memory", USAGE)
    text = pairs({key: str(value) for key, value in given.items() if value is not None})
    return ctx.call("one.vm.resize", oid, text, ns.enforce)


RESIZE = id_action(VM, "resize", "Changes CPU, VCPU and MEMORY of VMs (live when running)",
                   _resize, (*TEMPLATE_ARGS[1:4], ENFORCE_ARG))


def _disk_saveas(ctx: Context, ns: argparse.Namespace) -> None:
    """OpenNebula's `onevm disk-saveas`: the new image id, the disk written at the epilog."""
    image = ctx.call("one.vm.disksaveas", ctx.one(VM, ns.id), ns.disk_id, ns.name, ns.type,
                     ns.snapshot)
    ctx.say(f"Image ID: {image}")


DISK_SAVEAS = Command("disk-saveas", _disk_saveas,
                      "Saves a VM's disk into a new image (written when the VM ends)", (
    arg("id", help="VM id or name"), arg("disk_id", type=int, help="the disk's DISK_ID"),
    arg("name", help="name of the new image"),
    arg("-t", "--type", default="", type=str.upper, help="type of the new image (OS, DATABLOCK...)"),
    arg("-s", "--snapshot", type=int, default=-1, help="save this disk snapshot instead"),
))


def log_path(vid: int) -> Path:
    """Where oned writes a VM's log: `<VAR_LOCATION>/vms/<id>/vm.log` on the front-end."""
    return Path(os.environ.get("ONE_VAR") or DEFAULT_VAR).expanduser() / "vms" / str(vid) / "vm.log"


def _log(ctx: Context, ns: argparse.Namespace) -> None:
    sys.stdout.write(read_file(str(log_path(ctx.one(VM, ns.id)))))


COMMANDS = (
    list_command(VM, COLUMNS),
    show_command(VM, SECTIONS),
    top_command(VM, COLUMNS),
    Command("log", _log, "Prints a VM's log (read on the front-end, from $ONE_VAR)",
            (arg("id"),)),
    create_command(VM, "Creates VMs from a template file or the template options",
                   (HOLD_ARG, MULTIPLE_ARG, *TEMPLATE_ARGS), lambda ctx, ns: (ns.hold,),
                   build=template_text, count=lambda ns: ns.multiple),
    DEPLOY,
    MIGRATE,
    DISK_SAVEAS,
    RESIZE,
    *(action_command(*action) for action in ACTIONS),
    id_action(VM, "delete", "Deletes VMs in any state (recover --delete)",
              calls("one.vm.recover", 3)),
    replace(id_action(VM, "recover", "Recovers VMs stuck in a failed operation",
                      lambda ctx, ns, oid: ctx.call("one.vm.recover", oid, ns.op)),
            exclusive=RECOVER),
    *ownership_commands(VM),
    *lock_commands(VM, "VMs"),
    monitoring_command(VM, ("CPU", "MEMORY")),
    *sched.COMMANDS,
    *vm_hotplug.COMMANDS,
    *vm_snapshots.COMMANDS,
)
TOOL = Tool("onevm", "Manages OpenNebula virtual machines.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
