"""The dummy hypervisor's action journal (`<STATE_DIR>/actions.jsonl`) as campaign findings.

The state machine (where each VM's guest is, which applied actions fit) is the dummy
plugin's own, `one_dummy.state.replay`: the journal's writer knows its rules. This module
adds what only a campaign needs: a file torn by kill -9, lines it cannot use, and
guests still running for VMs oned says are DONE.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from one_dummy.state import SAVED, replay

from bench.campaign.findings import Findings

CHECKS = ("journal missing", "journal line unreadable", "action applied in wrong state",
          "guest left running for a DONE VM")


def read(path: Path, findings: Findings) -> list[dict]:
    """The journal's entries; a missing or torn file is a finding, not a crash.

    A last line cut by kill -9 is expected and skipped; a bad line before it is not,
    nor an applied line without an integer VM id (the replay could not place it).
    """
    if not path.exists():
        findings.add("journal missing", f"{path} does not exist")
        return []
    lines = path.read_text(errors="replace").splitlines()
    entries = []
    for number, text in enumerate(lines, 1):
        try:
            entry = json.loads(text)
        except ValueError:
            if number != len(lines):
                findings.add("journal line unreadable", f"line {number}: {text[:120]!r}")
            continue
        if entry.get("applied") and not isinstance(entry.get("vm"), int):
            findings.add("journal line unreadable", f"line {number}: no VM id")
            continue
        entries.append(entry)
    return entries


def check(path: Path, done_vms: Iterable[int], findings: Findings) -> None:
    """Replay the journal, then require every DONE VM's guest to be gone."""
    findings.declare(*CHECKS)
    entries = read(path, findings)
    findings.note("journal lines", len(entries))
    replayed = replay(entries)
    for violation in replayed.violations:
        findings.add("action applied in wrong state", violation)
    for vid in sorted(done_vms):
        place = replayed.places.get(vid)
        if place is not None and place != SAVED:
            findings.add("guest left running for a DONE VM", f"VM {vid}: running on {place}")
