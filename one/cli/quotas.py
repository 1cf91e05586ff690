"""Quotas in oneuser and onegroup: the usage tables of `show`, and the
`quota` / `defaultquota` verbs, laid out as OpenNebula's quota helper does.

A cell is `used / limit`; a limit of -1 shows the default quota's, and an
unlimited one (-2) a dash. Editing takes a file, `-` for standard input, or
without either opens $EDITOR on the current limits, as OpenNebula's CLI does.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Callable

from rich.console import Console

from one.cli.base import Command, Context, arg
from one.cli.errors import CliError
from one.cli.files import read_file
from one.cli.format import size
from one.cli.pools import PoolSpec
from one.cli.table import Column, render_table
from one.cli.xmldoc import Element, parse

UNLIMITED = -2.0
FILE_HELP = "quota template, - for stdin; none opens $EDITOR"
# (section, entry, heading -> (metric, how its numbers look)) in OpenNebula's column order.
Cell = tuple[str, str]
VM_CELLS: tuple[tuple[str, Cell], ...] = (
    ("VMS", ("VMS", "count")), ("MEMORY", ("MEMORY", "size")), ("CPU", ("CPU", "cpu")),
    ("DISK SIZE", ("SYSTEM_DISK_SIZE", "size")))
RUNNING_CELLS: tuple[tuple[str, Cell], ...] = (
    ("RUNNING VMS", ("RUNNING_VMS", "count")), ("RUNNING MEMORY", ("RUNNING_MEMORY", "size")),
    ("RUNNING CPU", ("RUNNING_CPU", "cpu")))
LIMITS = {"DATASTORE": ("IMAGES", "SIZE"), "NETWORK": ("LEASES",), "IMAGE": ("RVMS",),
          "VM": ("VMS", "CPU", "MEMORY", "SYSTEM_DISK_SIZE", "RUNNING_VMS", "RUNNING_CPU",
                 "RUNNING_MEMORY")}


def _number(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _shown(value: float, how: str) -> str:
    if how == "size":
        return size(value, "M")
    if how == "cpu":
        return f"{value:.2f}"
    return str(int(value))


@dataclass(frozen=True)
class QuotaUsage:
    """One table of `show`: a row per quota entry at `path`, cells `used / limit`."""

    title: str
    path: str
    cells: tuple[tuple[str, Cell], ...]
    defaults: str                  # DEFAULT_USER_QUOTAS or DEFAULT_GROUP_QUOTAS
    keyed: bool = True             # entries have an ID (all but the VM quota)

    def render(self, console: Console, element: Element) -> None:
        rows = element.findall(self.path)
        if not rows and not self.keyed and element.findtext("ID") != "0":
            rows = [parse("<VM/>")]   # no VM yet: the limits that apply, nothing used
        if not rows:
            return
        columns = ((Column("ID", "ID", 4, "right"),) if self.keyed else ()) + tuple(
            Column(heading, self._cell(element, metric, how), 17, "right")
            for heading, (metric, how) in self.cells)
        render_table(console, columns, rows)

    def _cell(self, root: Element, metric: str, how: str) -> Callable[[Element], str]:
        def value(entry: Element) -> str:
            limit = _number(entry.findtext(metric, default="-1"))
            if limit == -1:
                found = root.find(f"{self.defaults}/{self.path}"
                                  + (f"[ID='{entry.findtext('ID')}']" if self.keyed else ""))
                limit = _number(found.findtext(metric)) if found is not None else UNLIMITED
                limit = UNLIMITED if limit == -1 else limit
            used = _shown(_number(entry.findtext(f"{metric}_USED")), how)
            return f"{used} / {'-' if limit == UNLIMITED else _shown(limit, how)}"
        return value


def quota_sections(defaults: str) -> tuple[QuotaUsage, ...]:
    return (
        QuotaUsage("VMS USAGE & QUOTAS", "VM_QUOTA/VM", VM_CELLS, defaults, keyed=False),
        QuotaUsage("VMS USAGE & QUOTAS - RUNNING", "VM_QUOTA/VM", RUNNING_CELLS, defaults,
                   keyed=False),
        QuotaUsage("DATASTORE USAGE & QUOTAS", "DATASTORE_QUOTA/DATASTORE", (
            ("IMAGES", ("IMAGES", "count")), ("SIZE", ("SIZE", "size"))), defaults),
        QuotaUsage("NETWORK USAGE & QUOTAS", "NETWORK_QUOTA/NETWORK",
                   (("LEASES", ("LEASES", "count")),), defaults),
        QuotaUsage("IMAGE USAGE & QUOTAS", "IMAGE_QUOTA/IMAGE",
                   (("RUNNING VMS", ("RVMS", "count")),), defaults),
    )


def limits_text(root: Element) -> str:
    """The limits of a document as the quota template `quota` takes back (no usage)."""
    lines = []
    for kind, metrics in LIMITS.items():
        for entry in root.iterfind(f"{kind}_QUOTA/{kind}"):
            keys = (["ID"] if kind != "VM" else []) + list(metrics)
            inner = ", ".join(f"{k}={entry.findtext(k)}" for k in keys
                              if entry.findtext(k) is not None)
            lines.append(f"{kind}=[ {inner} ]")
    return "\n".join(lines) + ("\n" if lines else "")


def _edited(current: str) -> str:
    """$EDITOR on the current limits, as OpenNebula's CLI opens it."""
    editor = os.environ.get("EDITOR")
    if not editor:
        raise CliError("No quota file given and EDITOR is not set: give a file or '-'.")
    with tempfile.NamedTemporaryFile("w", suffix=".quota", delete=False) as tmp:
        tmp.write(current)
    try:
        if subprocess.run([*editor.split(), tmp.name], check=False).returncode != 0:
            raise CliError(f"The editor {editor} failed: quotas left unchanged.")
        return read_file(tmp.name, "quota file")
    finally:
        os.unlink(tmp.name)


def _quota_text(ns: argparse.Namespace, current: Callable[[], str]) -> str:
    if ns.file == "-":
        return sys.stdin.read()
    if ns.file:
        return read_file(ns.file, "quota file")
    return _edited(current())


def quota_command(spec: PoolSpec) -> Command:
    """`<tool> quota <id> [file]`: one.<kind>.quota with the file's limits."""
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        oid = ctx.one(spec, ns.id)
        text = _quota_text(ns, lambda: limits_text(parse(ctx.call(f"{spec.prefix}.info", oid))))
        ctx.call(f"{spec.prefix}.quota", oid, text)

    return Command("quota", run, f"Sets the quotas of a {spec.kind} (-1 default, -2 unlimited)",
                   (arg("id"), arg("file", nargs="?", help=FILE_HELP)))


def defaultquota_command(spec: PoolSpec) -> Command:
    """`<tool> defaultquota [file]`: the quotas of every {kind} without its own."""
    method = f"one.{spec.prefix.split('.')[1]}quota"

    def run(ctx: Context, ns: argparse.Namespace) -> None:
        text = _quota_text(ns, lambda: limits_text(parse(ctx.call(f"{method}.info"))))
        ctx.call(f"{method}.update", text)

    return Command("defaultquota", run, f"Sets the default {spec.kind} quotas (-2 unlimited)",
                   (arg("file", nargs="?", help=FILE_HELP),))
