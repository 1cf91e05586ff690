"""Columns declared once per resource, and the one table renderer.

Every list, and every table inside `show` (NICs, leases, history...), is a
tuple of Columns rendered here, so all tools look and align alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Union

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from one.cli.xmldoc import Element

Getter = Union[str, Callable[[Element], str]]


@dataclass(frozen=True)
class Column:
    """A heading and how to read its value: a path below the element, or a function."""

    name: str
    get: Getter
    width: int | None = None
    justify: JustifyMethod = "left"

    def value(self, element: Element) -> str:
        if callable(self.get):
            return self.get(element)
        return element.findtext(self.get, default="") or ""


def right(name: str, get: Getter, width: int | None = None) -> Column:
    """Numbers align right, as in OpenNebula's tables."""
    return Column(name, get, width, "right")


def build_table(columns: Iterable[Column], rows: Iterable[Element]) -> Table:
    """The table as a renderable, for printing once or refreshing in place (top)."""
    columns = tuple(columns)
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column.name, justify=column.justify, min_width=column.width,
                         no_wrap=True)
    for row in rows:
        table.add_row(*(Text(column.value(row)) for column in columns))
    return table


def render_table(console: Console, columns: Iterable[Column], rows: Iterable[Element]) -> None:
    console.print(build_table(columns, rows))


def joined(path: str) -> Getter:
    """Repeated values (CLUSTERS/ID, VMS/ID) shown as one comma-separated cell."""
    return lambda element: ",".join(e.text or "" for e in element.iterfind(path))
