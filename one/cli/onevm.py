"""onevm: virtual machines, with the columns and verbs of OpenNebula's onevm."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from one.cli.base import Command, Context, Tool, arg
from one.cli.commands import (calls, create_command, id_action, list_command,
                              ownership_commands, show_command)
from one.cli.format import elapsed, enum_name, size, timestamp
from one.cli.pools import VM
from one.cli.sections import PERMISSIONS, Attributes, Fields, Rows, TemplateText
from one.cli.table import Column, right
from one.cli.xmldoc import Element
from one.states import HistoryAction, LcmState, VmState, vm_short_state

LAST_HOST = "HISTORY_RECORDS/HISTORY[last()]/HOSTNAME"


def _stat(vm: Element) -> str:
    return vm_short_state(int(vm.findtext("STATE", "0")), int(vm.findtext("LCM_STATE", "0")))


def _time(element: Element) -> str:
    return elapsed(element.findtext("STIME", "0"), element.findtext("ETIME", "0"))


COLUMNS = (
    right("ID", "ID", 6), Column("USER", "UNAME", 8), Column("GROUP", "GNAME", 8),
    Column("NAME", "NAME", 15), Column("STAT", _stat, 4), right("CPU", "TEMPLATE/CPU", 4),
    right("MEM", lambda vm: size(vm.findtext("TEMPLATE/MEMORY"), "M"), 7),
    Column("HOST", LAST_HOST, 10), right("TIME", _time, 11),
)

INFORMATION = Fields("VIRTUAL MACHINE {ID} INFORMATION", (
    Column("ID", "ID"), Column("NAME", "NAME"), Column("USER", "UNAME"),
    Column("GROUP", "GNAME"),
    Column("STATE", lambda vm: enum_name(VmState, vm.findtext("STATE"))),
    Column("LCM_STATE", lambda vm: enum_name(LcmState, vm.findtext("LCM_STATE"))),
    Column("RESCHED", lambda vm: "Yes" if vm.findtext("RESCHED") == "1" else "No"),
    Column("HOST", LAST_HOST),
    Column("START TIME", lambda vm: timestamp(vm.findtext("STIME", "0"))),
    Column("END TIME", lambda vm: timestamp(vm.findtext("ETIME", "0"))),
    Column("DEPLOY ID", "DEPLOY_ID"),
))
NICS = (right("ID", "NIC_ID", 3), Column("NETWORK", "NETWORK", 15),
        Column("BRIDGE", "BRIDGE", 8), Column("IP", "IP", 15), Column("MAC", "MAC", 17))
HISTORY = (
    right("SEQ", "SEQ", 3), Column("HOST", "HOSTNAME", 15),
    Column("ACTION", lambda h: enum_name(HistoryAction, h.findtext("ACTION")).lower()
           .replace("_", "-"), 12),
    right("DS", "DS_ID", 3), Column("START", lambda h: timestamp(h.findtext("STIME", "0")), 14),
    right("TIME", _time, 11),
)
SECTIONS = (
    INFORMATION, PERMISSIONS, Attributes("VIRTUAL MACHINE MONITORING", "MONITORING"),
    Rows("VM NICS", "TEMPLATE/NIC", NICS),
    TemplateText("VIRTUAL MACHINE TEMPLATE", "TEMPLATE"),
    TemplateText("USER TEMPLATE", "USER_TEMPLATE"),
    Rows("VIRTUAL MACHINE HISTORY", "HISTORY_RECORDS/HISTORY", HISTORY),
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


COMMANDS = (
    list_command(VM, COLUMNS),
    show_command(VM, SECTIONS),
    create_command(VM, "Creates a VM from a template",
                   (arg("--hold", action="store_true", help="create it on hold"),),
                   lambda ctx, ns: (ns.hold,)),
    *(action_command(*action) for action in ACTIONS),
    id_action(VM, "delete", "Deletes VMs in any state (recover --delete)",
              calls("one.vm.recover", 3)),
    replace(id_action(VM, "recover", "Recovers VMs stuck in a failed operation",
                      lambda ctx, ns, oid: ctx.call("one.vm.recover", oid, ns.op)),
            exclusive=RECOVER),
    *ownership_commands(VM),
)
TOOL = Tool("onevm", "Manages OpenNebula virtual machines.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
