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
SAME, OTHER, ANY = "same", "other", "any"  # the line's host against the one the guest runs on
# action -> (states it may be applied in, where its host must be, state after). A deploy
# may follow a save: recover --recreate boots a suspended VM afresh.
MOVES: dict[str, tuple[frozenset[str], str, str]] = {
    "deploy": (frozenset({OFF, SAVED}), ANY, RUNNING),
    "shutdown": (frozenset({RUNNING}), SAME, OFF),
    "cancel": (frozenset({RUNNING}), SAME, OFF),
    "save": (frozenset({RUNNING}), SAME, SAVED),
    "restore": (frozenset({SAVED}), ANY, RUNNING),
    "reboot": (frozenset({RUNNING}), SAME, RUNNING),
    "reset": (frozenset({RUNNING}), SAME, RUNNING),
    "migrate": (frozenset({RUNNING}), OTHER, RUNNING),  # the line names the target
}
CHECKS = ("journal missing", "journal line unreadable", "action applied in wrong state",
          "guest left running for a DONE VM")


@dataclass
class Guest:
    state: str = OFF
    host: str = ""  # where it runs
    line: int = 0   # the line that put it there

    def fits(self, allowed: frozenset[str], where: str, host: str) -> bool:
        if self.state not in allowed:
            return False
        return where == ANY or (host == self.host) == (where == SAME)

    def describe(self) -> str:
        return f"{self.state}{f' on {self.host}' if self.state == RUNNING else ''}"


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
        vid = entry.get("vm")
        if not isinstance(vid, int):
            findings.add("journal line unreadable", f"line {entry['line']}: no VM id")
            continue
        guest = guests.get(vid, Guest())
        allowed, where, after = move
        host = str(entry.get("host"))
        if not guest.fits(allowed, where, host):
            findings.add("action applied in wrong state",
                         f"VM {vid}: {entry['action']} on {host} at line {entry['line']} "
                         f"while the guest was {guest.describe()} (since line {guest.line})")
        guests[vid] = Guest(after, host if after == RUNNING else "", int(entry["line"]))
    return guests


def check(path: Path, done_vms: Iterable[int], findings: Findings) -> None:
    """Validate the journal, then require every DONE VM's guest to be gone."""
    findings.declare(*CHECKS)
    entries = read(path, findings)
    findings.note("journal lines", len(entries))
    guests = replay(entries, findings)
    for vid in sorted(done_vms):
        guest = guests.get(vid)
        if guest is not None and guest.state == RUNNING:
            findings.add("guest left running for a DONE VM",
                         f"VM {vid}: running since journal line {guest.line}")
