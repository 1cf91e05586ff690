"""The campaign's validator of the dummy driver's action journal: it must see an
action applied twice, or it proves nothing when it finds none."""
from __future__ import annotations

import json
from pathlib import Path

from bench.campaign import journal
from bench.campaign.findings import Findings


def checked(tmp_path: Path, *entries: tuple, done: tuple[int, ...] = (),
            tail: str = "") -> Findings:
    """Entries are (action, vm, applied[, host]); the host is node1 unless given."""
    path = tmp_path / "actions.jsonl"
    lines = [json.dumps({"time": float(n), "action": entry[0], "host": (*entry, "node1")[3],
                         "deploy_id": f"one-{entry[1]}", "vm": entry[1], "applied": entry[2]})
             for n, entry in enumerate(entries)]
    path.write_text("".join(f"{line}\n" for line in lines) + tail)
    findings = Findings("journal", 0)
    journal.check(path, done, findings)
    return findings


def test_a_whole_life_cycle_fits(tmp_path: Path) -> None:
    findings = checked(tmp_path, ("deploy", 1, True), ("reboot", 1, True), ("save", 1, True),
                       ("restore", 1, True), ("migrate", 1, True, "node2"),
                       ("shutdown", 1, True, "node2"), ("deploy", 1, True), ("cancel", 1, True),
                       done=(1,))
    assert findings.clean, findings.report()


def test_a_replayed_action_found_done_is_no_violation(tmp_path: Path) -> None:
    findings = checked(tmp_path, ("deploy", 1, True), ("deploy", 1, False),
                       ("shutdown", 1, True), ("shutdown", 1, False))
    assert findings.clean, findings.report()


def test_actions_applied_twice_are_each_found(tmp_path: Path) -> None:
    findings = checked(tmp_path, ("deploy", 1, True), ("deploy", 1, True),
                       ("shutdown", 2, True), ("restore", 3, True), ("deploy", 4, True),
                       ("save", 4, True), ("restore", 4, True), ("restore", 4, True))
    assert findings.counts["action applied in wrong state"] == 4, findings.report()
    assert "VM 1: deploy on node1 applied at 1.0 while the guest was running on node1" in \
        findings.examples["action applied in wrong state"][0]


def test_actions_on_a_host_the_guest_is_not_on(tmp_path: Path) -> None:
    """A live migration replayed after a crash: shutdown on the source, migrate in place."""
    findings = checked(tmp_path, ("deploy", 1, True), ("migrate", 1, True, "node2"),
                       ("shutdown", 1, True), ("deploy", 2, True), ("migrate", 2, True))
    assert findings.counts["action applied in wrong state"] == 2, findings.report()
    assert "VM 1: shutdown on node1 applied at 2.0 while the guest was running on node2" in \
        findings.examples["action applied in wrong state"][0]


def test_a_guest_running_after_its_vm_is_done(tmp_path: Path) -> None:
    findings = checked(tmp_path, ("deploy", 1, True), ("migrate", 1, True, "node2"), done=(1,))
    assert findings.counts["guest left running for a DONE VM"] == 1, findings.report()


def test_a_line_torn_by_kill_is_skipped_only_at_the_end(tmp_path: Path) -> None:
    assert checked(tmp_path, ("deploy", 1, True), tail='{"time": 1.0, "act').clean
    path = tmp_path / "actions.jsonl"
    path.write_text('{"ti\n' + path.read_text())
    findings = Findings("journal", 0)
    journal.check(path, (), findings)
    assert findings.counts["journal line unreadable"] == 1, findings.report()


def test_an_action_without_a_vm_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "actions.jsonl"
    path.write_text('{"action": "deploy", "applied": true}\n{"action": "poll"}\n')
    findings = Findings("journal", 0)
    journal.check(path, (), findings)
    assert findings.counts["journal line unreadable"] == 1, findings.report()


def test_no_journal_is_a_finding(tmp_path: Path) -> None:
    findings = Findings("journal", 0)
    journal.check(tmp_path / "actions.jsonl", (), findings)
    assert findings.counts["journal missing"] == 1
