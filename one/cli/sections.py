"""The parts of a `show` page, declared as data by each tool.

A page is a tuple of sections rendered in order: labelled fields, a table
of repeated elements (NICs, leases, history) or a template printed back in
the syntax `update` accepts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

from rich.console import Console
from rich.text import Text

from one.cli.format import quote, rights
from one.cli.table import Column, joined, render_table
from one.cli.xmldoc import Element, tag

LABEL_WIDTH = 20


class Section(Protocol):
    @property
    def title(self) -> str: ...

    def render(self, console: Console, element: Element) -> None: ...


def _pair(console: Console, label: str, value: str) -> None:
    console.print(Text(f"{label:<{LABEL_WIDTH}}: {value or '-'}"))


@dataclass(frozen=True)
class Fields:
    """Declared labels, e.g. the INFORMATION block; `{ID}` in the title is the object id.

    `notes` are rows printed only when they have a value, such as a VM's last
    ERROR: an operator should see them when they matter and not a `-` otherwise.
    """

    title: str
    rows: tuple[Column, ...]
    notes: tuple[Column, ...] = ()

    def render(self, console: Console, element: Element) -> None:
        for column in self.rows:
            _pair(console, column.name, column.value(element))
        for column in self.notes:
            value = column.value(element)
            if value:
                _pair(console, column.name, value)


@dataclass(frozen=True)
class Rows:
    """A table with one row per element at `path`."""

    title: str
    path: str
    columns: tuple[Column, ...]
    optional: bool = False   # left out, title and all, when there is no row (VM NICS)

    def shown(self, element: Element) -> bool:
        return not self.optional or element.find(self.path) is not None

    def render(self, console: Console, element: Element) -> None:
        render_table(console, self.columns, element.iterfind(self.path))


@dataclass(frozen=True)
class TemplateText:
    """A TEMPLATE element written back as `NAME="value"` / `NAME=[ ... ]` lines."""

    title: str
    path: str

    def render(self, console: Console, element: Element) -> None:
        found = element.find(self.path)
        if found is not None and len(found):
            console.print(Text(template_text(found)))


def template_text(template: Element) -> str:
    lines = []
    for attr in template:
        if len(attr) == 0:
            lines.append(f"{tag(attr)}={quote(attr.text or '')}")
            continue
        inner = ",\n".join(f"  {tag(key)}={quote(key.text or '')}" for key in attr)
        lines.append(f"{tag(attr)}=[\n{inner} ]")
    return "\n".join(lines)


@dataclass(frozen=True)
class IfPresent:
    """A section shown only when the document has an element at `path` (a VM's
    SNAPSHOTS), as OpenNebula leaves out the tables a resource has nothing for."""

    section: Section
    path: str

    @property
    def title(self) -> str:
        return self.section.title

    def render(self, console: Console, element: Element) -> None:
        self.section.render(console, element)

    def shown(self, element: Element) -> bool:
        return element.find(self.path) is not None


def render_show(console: Console, sections: Iterable[Section], element: Element) -> None:
    """Sections with a bold title each, separated by a blank line as in OpenNebula;
    one with a `shown` method saying no (a table with no rows) is left out."""
    sections = [s for s in sections if getattr(s, "shown", lambda _: True)(element)]
    for index, section in enumerate(sections):
        if index:
            console.print()
        title = section.title.format(ID=element.findtext("ID", default=""))
        console.print(Text(title, style="bold"))
        section.render(console, element)


def _rights(owner: str) -> Column:
    return Column(owner, lambda element: rights(*(
        element.findtext(f"PERMISSIONS/{owner}_{bit}", default="0") for bit in "UMA")))


def id_list(title: str, path: str) -> Fields:
    """The ids of related objects (a host's VMs, a group's users) on one line."""
    return Fields(title, (Column("IDS", joined(path)),))


PERMISSIONS = Fields("PERMISSIONS", (_rights("OWNER"), _rights("GROUP"), _rights("OTHER")))
VIRTUAL_MACHINES = id_list("VIRTUAL MACHINES", "VMS/ID")
