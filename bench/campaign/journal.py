"""The dummy hypervisor's action journal (`<STATE_DIR>/actions.jsonl`), checked as a
state machine per VM: a driver action applied twice shows as a step that does not
fit (a deploy of a guest already running, a shutdown of one that is not, a restore
with no checkpoint).

Each line: {"time", "action", "host", "deploy_id", "vm", "applied"}; lines with
`applied: false` found their work already done and change nothing.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.campaign.findings import Findings

OFF, RUNNING, SAVED = "off", "running", "saved"
# action -> (states it may be applied in, state after)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "deploy": (frozenset({OFF, SAVED}), RUNNING),
    "shutdown": (frozenset({RUNNING}), OFF),
    "cancel": (frozenset({RUNNING}), OFF),
    "save": (frozenset({RUNNING}), SAVED),
    "restore": (frozenset({SAVED}), RUNNING),
    "reboot": (frozenset({RUNNING}), RUNNING),
    "reset": (frozenset({RUNNING}), RUNNING),
    "migrate": (frozenset({RUNNING}), RUNNING),
}
CHECKS = ("journal missing", "journal line unreadable", "action applied in wrong state",
          "guest left running for a DONE VM")


@dataclass
class Guest:
    state: str = OFF
    line: int = 0  # the line that put it there


def read(path: Path, findings: Findings) -> list[dict]:
    """The journal's entries; a missing or torn file is a finding, not a crash.

    A last line cut by kill -9 is expected and skipped; a bad line before it is not.
    """
    if not path.exists():
        findings.add("journal missing", f"{path} does not exist")
        return []
    lines = path.read_text(errors="replace").splitlines()
    entries = []
    for number, text in enumerate(lines, 1):
        try:
            entry = json.loads(text)
            entries.append({**entry, "line": number})
        except ValueError:
            if number != len(lines):
                findings.add("journal line unreadable", f"line {number}: {text[:120]!r}")
    return entries


def replay(entries: Iterable[Mapping], findings: Findings) -> dict[int, Guest]:
    """Run every applied action through MOVES; each misfit is one finding."""
    guests: dict[int, Guest] = {}
    for entry in entries:
        move = MOVES.get(str(entry.get("action")))
        if move is None or not entry.get("applied", True):
            continue
        guest = guests.setdefault(int(entry["vm"]), Guest())
        allowed, after = move
        if guest.state not in allowed:
            findings.add("action applied in wrong state",
                         f"VM {entry['vm']}: {entry['action']} on {entry.get('host')} at line "
                         f"{entry['line']} while the guest was {guest.state} (since line "
                         f"{guest.line})")
        guests[int(entry["vm"])] = Guest(after, int(entry["line"]))
    return guests


def check(path: Path, done_vms: Iterable[int], findings: Findings) -> None:
    """Validate the journal, then require every DONE VM's guest to be gone."""
    findings.declare(*CHECKS)
    guests = replay(read(path, findings), findings)
    for vid in sorted(done_vms):
        guest = guests.get(vid)
        if guest is not None and guest.state == RUNNING:
            findings.add("guest left running for a DONE VM",
                         f"VM {vid}: running since journal line {guest.line}")
