"""Where the pretend hypervisors keep their guests: the dummy drivers' STATE_DIR.

Two files, the shape other tools may read (the project's shared interface):

- `guests.json`: `{"applied": n, "hosts": {host: {deploy_id: guest}}, "checkpoints":
  {path: guest}}`, replaced whole and atomically (temporary file + `os.replace`) after every change,
  so a reader, or an oned killed with SIGKILL, sees the state before or after a
  change and never half of one;
- `actions.jsonl`: one line per VMM action that succeeded, `{"time", "action",
  "host", "deploy_id", "vm", "applied"}`, `applied` false when the action found
  its work already done. `violations` reads it back: no action applied twice.

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


# What each applied action needs the guest to be, and what it leaves it: where it runs
# (a host name), "saved" (a checkpoint holds it) or None (gone or never there).
def _next_place(action: str, place: str | None, host: str) -> tuple[bool, str | None]:
    """(whether `action` was valid from `place`, the place after it)."""
    if action == "deploy":
        return place is None, host
    if action in ("shutdown", "cancel"):
        return place is not None and place != "saved", None
    if action == "save":
        return place is not None and place != "saved", "saved"
    if action == "restore":
        return place == "saved", host
    if action == "migrate":
        return place is not None and place not in ("saved", host), host
    return place not in (None, "saved"), place      # reboot, reset


def violations(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """Applied actions that did not fit the guest's state: each is work done twice."""
    places: dict[int, str | None] = {}
    found = []
    for line in lines:
        if not line.get("applied"):
            continue
        vm, action = int(line["vm"]), str(line["action"])
        valid, places[vm] = _next_place(action, places.get(vm), str(line["host"]))
        if not valid:
            found.append(f"VM {vm}: {action} on {line['host']} applied at {line['time']} "
                         "did not fit the guest's state")
    return found
