"""Where the pretend hypervisors keep their guests: the dummy drivers' STATE_DIR.

Two files, the shape other tools may read (the project's shared interface):

- `guests.json`: `{"applied": n, "hosts": {host: {deploy_id: guest}}, "checkpoints":
  {path: guest}}`, replaced whole and atomically (temporary file + `os.replace`) after every change,
  so a reader, or an oned killed with SIGKILL, sees the state before or after a
  change and never half of one;
- `actions.jsonl`: one line per VMM action that succeeded, `{"time", "action",
  "host", "deploy_id", "vm", "applied"}`, `applied` false when the action found
  its work already done. `replay` reads it back: no action applied twice.

guests.json counts the applied lines it includes (`applied`); a line written
by a process killed before the state that counts it is dropped on the next
load (`trim`), so the two files always agree. Callers hold the datacenter's
lock around both; there is one oned per state.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GUESTS = "guests.json"
ACTIONS = "actions.jsonl"


class StateDir:
    """The files of one STATE_DIR; the directory is made by the first write."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any]:
        """The stored guests; an empty world when nothing was stored yet."""
        try:
            loaded = json.loads((self.path / GUESTS).read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValueError(f"dummy: {self.path / GUESTS} is not valid JSON: {exc}") from None
        return loaded if isinstance(loaded, dict) else {}

    def save(self, guests: str) -> None:
        """Replace guests.json with this JSON text, atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.path / f"{GUESTS}.{os.getpid()}.tmp"
        temporary.write_text(guests)
        os.replace(temporary, self.path / GUESTS)

    def append(self, action: str, host: str, deploy_id: str, vm: int, applied: bool) -> None:
        line = {"time": time.time(), "action": action, "host": host, "deploy_id": deploy_id,
                "vm": vm, "applied": applied}
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ACTIONS, "a") as journal:
            journal.write(json.dumps(line) + "\n")

    def journal(self) -> list[dict[str, Any]]:
        """Every line of actions.jsonl (one cut short by a crash is left out)."""
        try:
            text = (self.path / ACTIONS).read_text()
        except FileNotFoundError:
            return []
        lines = []
        for raw in text.splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
        return lines

    def trim(self, applied: int) -> int:
        """Keep the journal up to its `applied`-th applied line; the applied lines kept.

        Lines past it (and torn ones) belong to changes the state never got.
        """
        kept, count = [], 0
        for line in self.journal():
            if line.get("applied"):
                if count == applied:
                    break
                count += 1
            kept.append(line)
        path = self.path / ACTIONS
        if path.exists() and len(kept) != len(path.read_text().splitlines()):
            temporary = self.path / f"{ACTIONS}.{os.getpid()}.tmp"
            temporary.write_text("".join(json.dumps(line) + "\n" for line in kept))
            os.replace(temporary, path)
        return count


SAVED = "saved"   # the place of a guest a checkpoint holds


@dataclass(frozen=True)
class Replay:
    """The journal read back: every VM's final place and the applied actions that misfit.

    A place is the host the guest runs on, SAVED, or None (gone or never there); both
    callers need the two, a test the misfits and the campaign also the guests left over.
    """
    places: dict[int, str | None]
    violations: list[str]


# Device changes of a running guest: they need it on that host and leave it there.
HOTPLUG_ACTIONS = frozenset({"attach_disk", "detach_disk", "attach_nic", "detach_nic"})


def _describe(place: str | None) -> str:
    if place is None:
        return "nowhere"
    return "saved in a checkpoint" if place == SAVED else f"running on {place}"


def _next_place(action: str, place: str | None, host: str) -> tuple[bool, str | None]:
    """(whether `action` on `host` fitted the guest at `place`, the place after it).

    A deploy may follow a save: recover --recreate boots a suspended VM afresh. The
    migrate line names the target, so it must differ from where the guest runs.
    """
    running = place is not None and place != SAVED
    if action == "deploy":
        return not running, host
    if action == "restore":
        return place == SAVED, host
    if action == "migrate":
        return running and place != host, host
    on_host = running and place == host
    if action in ("shutdown", "cancel"):
        return on_host, None
    if action == "save":
        return on_host, SAVED
    if action in ("reboot", "reset") or action in HOTPLUG_ACTIONS:
        return on_host, place
    return False, place             # no VMM action the driver journals


def replay(lines: Iterable[Mapping[str, Any]]) -> Replay:
    """Run the applied lines through each VM's places; a misfit is work done twice."""
    places: dict[int, str | None] = {}
    found = []
    for line in lines:
        if not line.get("applied"):
            continue
        vm, action, host = int(line["vm"]), str(line["action"]), str(line["host"])
        before = places.get(vm)
        valid, places[vm] = _next_place(action, before, host)
        if not valid:
            found.append(f"VM {vm}: {action} on {host} applied at {line['time']} "
                         f"while the guest was {_describe(before)}")
    return Replay(places, found)


def violations(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """Applied actions that did not fit the guest's state: each is work done twice."""
    return replay(lines).violations
