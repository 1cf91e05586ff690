"""Where each kind of object is listed, and operator words turned into ids.

Operators write `onevm terminate web 3 5..7`: ids, ranges, comma lists and
names. Names are resolved against the pool listing, fetched once per run
and only when a name is actually used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from one.cli.errors import USAGE, CliError
from one.cli.xmldoc import Element, parse

Call = Callable[..., Any]
ALL, MINE_AND_GROUPS, MINE = -2, -1, -3
_RANGE = re.compile(r"(\d+)\.\.(\d+)")
_FILTER_WORDS = {"a": ALL, "all": ALL, "m": MINE, "mine": MINE,
                 "g": MINE_AND_GROUPS, "group": MINE_AND_GROUPS}


@dataclass(frozen=True)
class PoolSpec:
    kind: str               # how messages name the object: "VM", "HOST"...
    prefix: str             # object methods: prefix + ".info", ".delete"...
    method: str             # the pool listing method
    item: str               # the element each object is in the listing
    filtered: bool = False  # the listing takes OpenNebula's ownership filter first
    tail: tuple[int, ...] = ()

    def args(self, flag: int = ALL) -> tuple[int, ...]:
        return ((flag,) if self.filtered else ()) + self.tail

    def fetch(self, call: Call, flag: int = ALL) -> Element:
        return parse(call(self.method, *self.args(flag)))


VM = PoolSpec("VM", "one.vm", "one.vmpool.infoextended", "VM", True, (-1, -1, -1))
HOST = PoolSpec("HOST", "one.host", "one.hostpool.info", "HOST")
VNET = PoolSpec("VNET", "one.vn", "one.vnpool.info", "VNET", True, (-1, -1))
USER = PoolSpec("USER", "one.user", "one.userpool.info", "USER")
GROUP = PoolSpec("GROUP", "one.group", "one.grouppool.info", "GROUP")
CLUSTER = PoolSpec("CLUSTER", "one.cluster", "one.clusterpool.info", "CLUSTER")
IMAGE = PoolSpec("IMAGE", "one.image", "one.imagepool.info", "IMAGE", True, (-1, -1))
DATASTORE = PoolSpec("DATASTORE", "one.datastore", "one.datastorepool.info", "DATASTORE")
TEMPLATE = PoolSpec("TEMPLATE", "one.template", "one.templatepool.info", "VMTEMPLATE", True,
                    (-1, -1))


class Resolver:
    """Turns id lists, ranges and names of one pool into ids."""

    def __init__(self, call: Call, spec: PoolSpec) -> None:
        self.call = call
        self.spec = spec
        self._names: dict[str, list[int]] | None = None

    def ids(self, tokens: Iterable[str]) -> list[int]:
        found: list[int] = []
        for token in tokens:
            for part in filter(None, token.split(",")):
                found.extend(self._numbers(part) or [self._named(part)])
        return found

    def one(self, token: str) -> int:
        ids = self.ids([token])
        if len(ids) != 1:
            raise CliError(f"Expected one {self.spec.kind} id, got '{token}'", USAGE)
        return ids[0]

    @staticmethod
    def _numbers(part: str) -> list[int]:
        if part.isdigit():
            return [int(part)]
        bounds = _RANGE.fullmatch(part)
        if not bounds:
            return []
        first, last = int(bounds[1]), int(bounds[2])
        if last < first:
            raise CliError(f"Wrong range '{part}': {first} > {last}", USAGE)
        return list(range(first, last + 1))

    def _named(self, name: str) -> int:
        if self._names is None:
            self._names = {}
            for element in self.spec.fetch(self.call).iterfind(self.spec.item):
                key = element.findtext("NAME", default="")
                self._names.setdefault(key, []).append(int(element.findtext("ID", "-1")))
        matches = self._names.get(name, [])
        if not matches:
            raise CliError(f"{self.spec.kind} named {name} not found.")
        if len(matches) > 1:
            raise CliError(f"There are multiple {self.spec.kind}s with name {name}.")
        return matches[0]


def filter_flag(call: Call, word: str | None) -> int:
    """`a`/`all`, `m`/`mine`, `g`/`group`, a user id or a user name."""
    if word is None:
        return ALL
    if word.lower() in _FILTER_WORDS:
        return _FILTER_WORDS[word.lower()]
    return Resolver(call, USER).one(word)
