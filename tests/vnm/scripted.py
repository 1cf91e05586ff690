"""A host the network drivers talk to without a kernel: canned state, recorded changes.

For what this machine's kernel cannot do (802.1Q), and to pin the exact
commands every driver sends: the drivers' queries (`ip -j -d link show`,
`ebtables -L FORWARD`) get the state a test describes, every other command
is recorded, and some may be made to fail as the host would refuse it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from one.drivers.shells import RemoteError

LINKS = "ip -j -d link show"
RULES = "ebtables -L FORWARD"


def link(name: str, kind: str = "", master: str = "", alias: str = "", up: bool = True,
         vid: int | None = None) -> dict[str, object]:
    """One device as `ip -j -d link show` prints it (the fields the drivers read)."""
    entry: dict[str, object] = {"ifname": name, "flags": ["BROADCAST", "MULTICAST"]
                                + (["UP", "LOWER_UP"] if up else [])}
    if kind:
        entry["linkinfo"] = {"info_kind": kind, **({"info_data": {"id": vid}} if vid else {})}
    if master:
        entry["master"] = master
    if alias:
        entry["ifalias"] = alias
    return entry


@dataclass
class ScriptedHost:
    """An executor for one pretend host; `commands` are the changes sent, in order."""

    links: list[dict[str, object]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    refuse: tuple[str, ...] = ()    # commands starting so fail, as the kernel would say
    commands: list[str] = field(default_factory=list)
    hosts: set[str | None] = field(default_factory=set)

    def run(self, host: str | None, command: str) -> str:
        self.hosts.add(host)
        if command == LINKS:
            return json.dumps(self.links)
        if command == RULES:
            return ("Bridge table: filter\n\nBridge chain: FORWARD, entries: "
                    f"{len(self.rules)}, policy: ACCEPT\n" + "".join(f"{r}\n" for r in self.rules))
        self.commands.append(command)
        if command.startswith(self.refuse):
            raise RemoteError(str(host), command, "Error: Unknown device type.\n")
        return ""
