"""Columns declared once per resource, and the one table renderer.

Every list, and every table inside `show` (NICs, leases, history...), is a
tuple of Columns rendered here, so all tools look and align alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Callable, Iterable, Mapping, TypeVar, Union

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from one.cli.format import enum_name, short_state, size
from one.cli.xmldoc import Element

Getter = Union[str, Callable[[Element], str]]
E = TypeVar("E", bound=IntEnum)


@dataclass(frozen=True)
class Column:
    """A heading and how to read its value: a path below the element, or a function."""

    name: str
    get: Getter
    width: int | None = None
    justify: JustifyMethod = "left"
    cut: bool = False  # values past `width` end in … (see `label`)

    def value(self, element: Element) -> str:
        if callable(self.get):
            return self.get(element)
        return element.findtext(self.get, default="") or ""


def right(name: str, get: Getter, width: int | None = None) -> Column:
    """Numbers align right, as in OpenNebula's tables."""
    return Column(name, get, width, "right")


def label(name: str, get: Getter, width: int) -> Column:
    """A name (of the object, its owner, its host) cut to `width` with …, as OpenNebula's
    `%-15.15s` cuts it, so one long name cannot push every row out of line; `show`
    prints it whole."""
    return Column(name, get, width, cut=True)


def build_table(columns: Iterable[Column], rows: Iterable[Element]) -> Table:
    """The table as a renderable, for printing once or refreshing in place (top)."""
    columns = tuple(columns)
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column.name, justify=column.justify, min_width=column.width,
                         max_width=column.width if column.cut else None, no_wrap=True)
    for row in rows:
        table.add_row(*(Text(column.value(row)) for column in columns))
    return table


def render_table(console: Console, columns: Iterable[Column], rows: Iterable[Element]) -> None:
    console.print(build_table(columns, rows))


def joined(path: str) -> Getter:
    """Repeated values (CLUSTERS/ID, VMS/ID) shown as one comma-separated cell."""
    return lambda element: ",".join(e.text or "" for e in element.iterfind(path))


def counted(path: str) -> Getter:
    """How many repeated elements there are (a datastore's IMAGES/ID, a group's USERS/ID)."""
    return lambda element: str(len(element.findall(path)))


def sized(path: str, unit: str = "K") -> Getter:
    """An amount in `unit` (MEMORY in K, an image's SIZE in M) shown as `1.5G`."""
    return lambda element: size(element.findtext(path), unit)


def named(kind: type[IntEnum], path: str = "STATE") -> Getter:
    """A state or type number shown by its name (READY, DATABLOCK), as `show` does."""
    return lambda element: enum_name(kind, element.findtext(path))


def short(kind: type[E], words: Mapping[E, str], path: str = "STATE") -> Getter:
    """A state or type number as its short word (rdy, DB), as the STAT and TYPE columns."""
    return lambda element: short_state(kind, words, element.findtext(path))


def yes_no(path: str) -> Getter:
    """A 0/1 flag (RESCHED, PERSISTENT) as OpenNebula's `boolean_to_str` shows it."""
    return lambda element: "Yes" if element.findtext(path) == "1" else "No"
