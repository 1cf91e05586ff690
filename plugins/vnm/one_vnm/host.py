"""A host's network as the drivers see and change it, through the shared executor.

Each driver action reads the state it needs first (`ip -j -d link show`,
`ebtables -L FORWARD`), plans only the changes that state lacks, then runs
them in order: an action run twice changes nothing the second time, and an
oned restarted in the middle of a VM's life repeats no rule. A change that
fails undoes, newest first, the ones this action already made.
"""
from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from one.errors import OneError
from one.drivers.shells import RemoteError
from one_vnm.nics import NetworkError, int_to_mac, mac_to_int

# The ifalias of every device a driver creates: what it may delete, even after a restart.
MARK = "one-vnm"
Command = tuple[str, ...]


class Executor(Protocol):
    """What runs a command on a host: `one.drivers.remote.Remote`, or a test's stand-in."""

    def run(self, host: str | None, command: str) -> str: ...


@dataclass(frozen=True)
class Link:
    """A network device of the host, reduced to what the drivers decide on."""

    name: str
    kind: str = ""          # bridge, vlan, vxlan, veth, tun; "" for a plain device
    master: str = ""        # the bridge it is a port of
    alias: str = ""
    up: bool = False
    vid: int | None = None  # VLAN or VXLAN id

    @property
    def ours(self) -> bool:
        return self.alias == MARK


class Links:
    """The host's devices by name, as one `ip -j -d link show` printed them."""

    def __init__(self, links: Iterable[Link]) -> None:
        self._by_name = {link.name: link for link in links}

    @classmethod
    def parse(cls, text: str) -> Links:
        try:
            return cls(_link(entry) for entry in json.loads(text or "[]"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NetworkError(f"cannot read `ip -j -d link show`: {exc}") from exc

    def get(self, name: str) -> Link | None:
        return self._by_name.get(name)

    def ports(self, bridge: str) -> list[Link]:
        return [link for link in self._by_name.values() if link.master == bridge]


def _link(entry: dict[str, Any]) -> Link:
    info = entry.get("linkinfo") or {}
    vid = (info.get("info_data") or {}).get("id")
    return Link(name=str(entry["ifname"]), kind=str(info.get("info_kind", "")),
                master=str(entry.get("master", "")), alias=str(entry.get("ifalias", "")),
                up="UP" in entry.get("flags", []), vid=vid if isinstance(vid, int) else None)


def canonical_rule(words: Sequence[str]) -> Command:
    """A rule's words with MACs spelled one way: ebtables may print `2:0:a:...`."""
    return tuple("/".join(int_to_mac(mac_to_int(part)) for part in word.split("/"))
                 if word.count(":") == 5 or word.count(":") == 10 else word for word in words)


def parse_rules(text: str) -> list[Command]:
    """The rules of an `ebtables -L <chain>` listing, in order, canonical."""
    return [canonical_rule(line.split()) for line in text.splitlines()
            if line.startswith("-")]


@dataclass(frozen=True)
class Change:
    """A command that changes the host, and the one that takes it back, if any."""

    command: Command
    undo: Command | None = None

    def __str__(self) -> str:
        return shlex.join(self.command)


class HostNet:
    """One host reached through the executor, for one driver action.

    `what` names that action (`vxlan pre of VM 7`) in every error, which also
    names the host and the command, with what the host answered.
    """

    def __init__(self, executor: Executor, host: str, what: str, log: logging.Logger) -> None:
        self.executor = executor
        self.host = host
        self.what = what
        self.log = log

    def error(self, problem: str) -> NetworkError:
        return NetworkError(f"{self.what} on host {self.host}: {problem}")

    def _run(self, command: Command) -> str:
        return self.executor.run(self.host, shlex.join(command))

    def query(self, command: Command) -> str:
        try:
            return self._run(command)
        except (OneError, OSError) as exc:
            raise self.error(_detail(exc, Change(command))) from exc

    def links(self) -> Links:
        return Links.parse(self.query(("ip", "-j", "-d", "link", "show")))

    def rules(self, chain: str) -> list[Command]:
        return parse_rules(self.query(("ebtables", "-L", chain)))

    def apply(self, changes: Sequence[Change]) -> None:
        """Every change in order; at the first failure undo the done ones and raise."""
        done: list[Change] = []
        for change in changes:
            try:
                self._run(change.command)
            except (OneError, OSError) as exc:
                raise self.error(_detail(exc, change) + self._undo(done)) from exc
            self.log.info("%s: %s", self.host, change)
            done.append(change)

    def _undo(self, done: list[Change]) -> str:
        """Best effort, newest first; returns what the error message should add."""
        undone, failed = 0, []
        for change in reversed(done):
            if change.undo is None:
                continue
            try:
                self._run(change.undo)
                undone += 1
            except (OneError, OSError) as exc:
                failed.append(_detail(exc, Change(change.undo)))
        said = f"; undid {undone} change(s) made before" if undone else ""
        return said + "".join(f"; could not undo: {failure}" for failure in failed)


def _detail(exc: Exception, change: Change) -> str:
    """The command and what the host said; the executor's whole message when it never ran."""
    if isinstance(exc, RemoteError) and exc.action == str(change):
        return f"`{change}` failed: {exc.detail.strip() or 'no message'}"
    return f"`{change}` failed: {exc}"
