"""`onevm snapshot-*`, `disk-snapshot-*`, `disk-resize`, `updateconf` and the show sections
SNAPSHOTS, VM DISK SNAPSHOTS and SCHEDULED ACTIONS (each only when the VM has some).

As OpenNebula's CLI: the verbs print nothing on success (the VM's state says
the rest: `onevm show`), sizes are MB or with a unit (`10G`).
"""
from __future__ import annotations

import argparse
from copy import deepcopy
from dataclasses import dataclass

from lxml import etree
from rich.console import Console

from one.cli.base import Command, Context, arg
from one.cli.commands import id_action
from one.cli.errors import USAGE, CliError
from one.cli.files import read_file
from one.cli.format import megabytes, timestamp
from one.cli.pools import VM
from one.cli.sections import IfPresent, Rows
from one.cli.table import Column, render_table, right
from one.cli.xmldoc import Element

DISK_ARG = arg("disk_id", type=int, help="the disk's DISK_ID")
SNAP_ARG = arg("snapshot_id", type=int, help="the snapshot's ID")


def _time(name: str, path: str, width: int) -> Column:
    return Column(name, lambda e: timestamp(e.findtext(path, "0") or "0"), width)


def _active(snapshot: Element) -> str:
    return "=>" if snapshot.findtext("ACTIVE") == "YES" else ""


@dataclass(frozen=True)
class DiskSnapshots:
    """VM DISK SNAPSHOTS: one row per snapshot of every disk, its DISK_ID beside it."""

    title: str
    columns: tuple[Column, ...]

    def render(self, console: Console, element: Element) -> None:
        rows = []
        for disk in element.iterfind("SNAPSHOTS"):
            for snapshot in disk.iterfind("SNAPSHOT"):
                row = etree.Element("SNAPSHOT")
                etree.SubElement(row, "DISK_ID").text = disk.findtext("DISK_ID", "")
                row.extend(deepcopy(child) for child in snapshot)
                rows.append(row)
        render_table(console, self.columns, rows)


SECTIONS_AFTER_NICS = (
    IfPresent(DiskSnapshots("VM DISK SNAPSHOTS", (
        Column("AC", _active, 2), right("ID", "ID", 3), right("DISK", "DISK_ID", 4),
        right("PARENT", "PARENT", 6), _time("DATE", "DATE", 14),
        right("SIZE", lambda s: f"{s.findtext('SIZE', '0')}M", 8),
        Column("NAME", "NAME", 32))), "SNAPSHOTS"),
    IfPresent(Rows("SNAPSHOTS", "TEMPLATE/SNAPSHOT", (
        right("ID", "SNAPSHOT_ID", 4), _time("TIME", "TIME", 14),
        Column("NAME", "NAME", 30), Column("HYPERVISOR_ID", "HYPERVISOR_ID", 15))),
        "TEMPLATE/SNAPSHOT"),
)
_REPEAT = {"0": "weekly", "1": "monthly", "2": "yearly", "3": "hourly"}
SCHEDULED_ACTIONS = IfPresent(Rows("SCHEDULED ACTIONS", "TEMPLATE/SCHED_ACTION", (
    right("ID", "ID", 3), Column("ACTION", "ACTION", 15),
    _time("SCHEDULED", "TIME", 14),
    Column("REPEAT", lambda a: _REPEAT.get(a.findtext("REPEAT", ""), "") and
           f"{_REPEAT[a.findtext('REPEAT', '')]} {a.findtext('DAYS', '')}", 16),
    Column("DONE", lambda a: timestamp(a.findtext("DONE", "-1"))
           if int(a.findtext("DONE", "-1") or -1) > 0 else "-", 14),
    Column("MESSAGE", "MESSAGE", 20))), "TEMPLATE/SCHED_ACTION")


def _snapshot_create(ctx: Context, ns: argparse.Namespace, oid: int) -> object:
    return ctx.call("one.vm.snapshotcreate", oid, ns.name or "")


def _updateconf(ctx: Context, ns: argparse.Namespace, oid: int) -> object:
    text = read_file(ns.file) if ns.file is not None else ns.template_text
    if text is None:
        raise CliError("updateconf: give a template file or --template-text", USAGE)
    return ctx.call("one.vm.updateconf", oid, text, int(ns.append))


COMMANDS: tuple[Command, ...] = (
    id_action(VM, "snapshot-create", "Takes a system snapshot of a running VM", _snapshot_create,
              (arg("name", nargs="?", help="snapshot name"),)),
    id_action(VM, "snapshot-revert", "Reverts a running VM to a system snapshot",
              lambda ctx, ns, oid: ctx.call("one.vm.snapshotrevert", oid, ns.snapshot_id),
              (SNAP_ARG,)),
    id_action(VM, "snapshot-delete", "Deletes a system snapshot of a running VM",
              lambda ctx, ns, oid: ctx.call("one.vm.snapshotdelete", oid, ns.snapshot_id),
              (SNAP_ARG,)),
    id_action(VM, "disk-snapshot-create", "Takes a snapshot of a VM disk (running, poweroff, "
              "suspended)", lambda ctx, ns, oid: ctx.call("one.vm.disksnapshotcreate", oid,
                                                          ns.disk_id, ns.name),
              (DISK_ARG, arg("name", help="snapshot name"))),
    id_action(VM, "disk-snapshot-revert", "Reverts a disk of a powered-off VM to a snapshot",
              lambda ctx, ns, oid: ctx.call("one.vm.disksnapshotrevert", oid, ns.disk_id,
                                            ns.snapshot_id), (DISK_ARG, SNAP_ARG)),
    id_action(VM, "disk-snapshot-delete", "Deletes a disk snapshot",
              lambda ctx, ns, oid: ctx.call("one.vm.disksnapshotdelete", oid, ns.disk_id,
                                            ns.snapshot_id), (DISK_ARG, SNAP_ARG)),
    id_action(VM, "disk-snapshot-rename", "Renames a disk snapshot",
              lambda ctx, ns, oid: ctx.call("one.vm.disksnapshotrename", oid, ns.disk_id,
                                            ns.snapshot_id, ns.name),
              (DISK_ARG, SNAP_ARG, arg("name", help="the new name"))),
    id_action(VM, "disk-resize", "Grows a VM disk (running or powered off)",
              lambda ctx, ns, oid: ctx.call("one.vm.diskresize", oid, ns.disk_id, str(ns.size)),
              (DISK_ARG, arg("size", type=megabytes, help="new size: MB, or with a unit (10G)"))),
    id_action(VM, "updateconf", "Changes OS, FEATURES, INPUT, GRAPHICS, VIDEO, RAW, CPU_MODEL "
              "and CONTEXT (live on a running VM)", _updateconf,
              (arg("file", nargs="?", help="template file"),
               arg("--template-text", help="the template itself, instead of a file"),
               arg("--append", action="store_true",
                   help="merge into the sections instead of replacing them"))),
)
