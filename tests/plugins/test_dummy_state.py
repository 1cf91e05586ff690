"""The dummy drivers' STATE_DIR: guests that outlive the process, and the action journal."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import one_dummy
import pytest
from one_dummy import Datacenter, DummyIM, DummyVMM, StateDir

from one.plugins import HostView, PluginManager, PollState
from one.plugins.testing import make_vm_view

HOST = HostView(id=0, name="node1", state=2, im_mad="dummy", vm_mad="dummy")
TARGET = HostView(id=1, name="node2", state=2, im_mad="dummy", vm_mad="dummy")
VM = make_vm_view(5, host=HOST.name, deploy_id="one-5", memory_mb=256)


@pytest.fixture(autouse=True)
def forget() -> Any:
    one_dummy.reset()
    yield
    one_dummy.reset()


def vmm_on(state: Path) -> DummyVMM:
    return DummyVMM(datacenter=Datacenter(StateDir(state)))


def test_guests_and_checkpoints_outlive_the_process(tmp_path: Path) -> None:
    first = vmm_on(tmp_path)
    first.deploy(VM, HOST)
    saved = replace(VM, id=6, deploy_id="one-6")
    first.deploy(saved, HOST)
    first.save(saved, HOST, saved.checkpoint)

    again = vmm_on(tmp_path)            # a new process reads the same directory
    assert set(again.hypervisor(HOST.name).domains()) == {"one-5"}
    assert again.hypervisor(HOST.name).domains()["one-5"].memory_kib == 256 * 1024
    assert again.restore(saved, TARGET, saved.checkpoint) == "one-6"
    assert again.poll(saved, TARGET).state is PollState.RUNNING
    assert sorted(p.name for p in tmp_path.iterdir()) == ["actions.jsonl", "guests.json"]
    stored = json.loads((tmp_path / "guests.json").read_text())
    assert set(stored["hosts"][TARGET.name]) == {"one-6"} and stored["checkpoints"] == {}


def test_journal_says_which_actions_applied(tmp_path: Path) -> None:
    vmm = vmm_on(tmp_path)
    vmm.deploy(VM, HOST)
    vmm.deploy(VM, HOST)
    vmm.migrate(VM, HOST, TARGET)
    vmm.migrate(VM, HOST, TARGET)
    vmm.save(VM, TARGET, VM.checkpoint)
    vmm.save(VM, TARGET, VM.checkpoint)
    vmm.restore(VM, TARGET, VM.checkpoint)
    vmm.restore(VM, TARGET, VM.checkpoint)
    vmm.shutdown(VM, TARGET)
    vmm.cancel(VM, TARGET)
    lines = StateDir(tmp_path).journal()
    assert [(x["action"], x["host"], x["applied"]) for x in lines] == [
        ("deploy", "node1", True), ("deploy", "node1", False),
        ("migrate", "node2", True), ("migrate", "node2", False),
        ("save", "node2", True), ("save", "node2", False),
        ("restore", "node2", True), ("restore", "node2", False),
        ("shutdown", "node2", True), ("cancel", "node2", False)]
    assert {(x["vm"], x["deploy_id"]) for x in lines} == {(5, "one-5")}
    assert one_dummy.violations(tmp_path) == []


def test_a_save_of_a_guest_gone_without_checkpoint_fails(tmp_path: Path) -> None:
    with pytest.raises(one_dummy.DomainError):
        vmm_on(tmp_path).save(VM, HOST, VM.checkpoint)
    assert StateDir(tmp_path).journal() == []


def test_violations_name_actions_applied_twice(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    for action, host in (("deploy", "a"), ("deploy", "a"), ("save", "a"), ("restore", "b"),
                         ("restore", "b"), ("migrate", "b"), ("shutdown", "b"),
                         ("shutdown", "b")):
        state.append(action, host, "one-1", 1, True)
    state.append("shutdown", "b", "one-1", 1, False)        # not applied: no violation
    found = one_dummy.violations(tmp_path)
    assert [line.split(" applied")[0] for line in found] == [
        "VM 1: deploy on a", "VM 1: restore on b", "VM 1: migrate on b", "VM 1: shutdown on b"]


def test_a_line_whose_change_never_reached_the_state_is_dropped(tmp_path: Path) -> None:
    """A process killed between the journal line and the state write: the line goes."""
    vmm_on(tmp_path).deploy(VM, HOST)
    StateDir(tmp_path).append("shutdown", HOST.name, "one-5", 5, True)   # then SIGKILL
    StateDir(tmp_path).append("cancel", HOST.name, "one-5", 5, False)
    again = vmm_on(tmp_path)
    assert [x["action"] for x in StateDir(tmp_path).journal()] == ["deploy"]
    again.shutdown(VM, HOST)                   # the shutdown the state never saw, now applied
    assert [(x["action"], x["applied"]) for x in StateDir(tmp_path).journal()] == [
        ("deploy", True), ("shutdown", True)]
    assert one_dummy.violations(tmp_path) == []


def test_a_journal_line_cut_by_a_crash_is_skipped(tmp_path: Path) -> None:
    StateDir(tmp_path).append("deploy", "a", "one-1", 1, True)
    with open(tmp_path / "actions.jsonl", "a") as journal:
        journal.write('{"time": 1.0, "act')
    assert [x["action"] for x in StateDir(tmp_path).journal()] == ["deploy"]


def test_broken_guests_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "guests.json").write_text("{not json")
    with pytest.raises(ValueError, match="guests.json is not valid JSON"):
        vmm_on(tmp_path)


def test_drivers_find_their_state_dir_in_the_settings(tmp_path: Path) -> None:
    explicit = {"STATE_DIR": str(tmp_path / "mine"), "VAR_LOCATION": str(tmp_path)}
    assert DummyVMM(explicit).datacenter is DummyIM(explicit).datacenter
    assert DummyVMM(explicit).datacenter.state.path == (tmp_path / "mine").resolve()
    beside_oned = DummyVMM({"VAR_LOCATION": str(tmp_path)}).datacenter
    assert beside_oned.state.path == (tmp_path / "dummy").resolve()
    assert DummyVMM().datacenter is one_dummy.DATACENTER and one_dummy.DATACENTER.state is None


def test_oned_hands_var_location_to_every_driver(tmp_path: Path) -> None:
    manager = PluginManager(settings={"vmm": {"dummy": {"DELAY": "0"}}},
                            shared={"VAR_LOCATION": str(tmp_path)})
    manager.register(one_dummy)
    manager.collect_drivers()
    vmm, im = manager.driver("vmm", "dummy"), manager.driver("im", "dummy")
    assert vmm.config == {"VAR_LOCATION": str(tmp_path), "DELAY": "0"}
    assert im.config == {"VAR_LOCATION": str(tmp_path)}
    vmm.deploy(VM, HOST)
    assert one_dummy.hypervisor(HOST.name).get("one-5") is not None   # oned's drivers' world
    assert (tmp_path / "dummy" / "guests.json").exists()


def test_replay_places_guests_and_checks_the_host_they_run_on(tmp_path: Path) -> None:
    """A deploy after a save is recover --recreate; actions elsewhere than the guest misfit."""
    state = StateDir(tmp_path)
    for action, host, vm in (("deploy", "a", 1), ("save", "a", 1), ("deploy", "b", 1),
                             ("reboot", "a", 1), ("migrate", "b", 1), ("deploy", "a", 2),
                             ("save", "a", 2), ("deploy", "a", 3), ("cancel", "a", 3)):
        state.append(action, host, f"one-{vm}", vm, True)
    replayed = one_dummy.state.replay(state.journal())
    assert replayed.places == {1: "b", 2: "saved", 3: None}
    assert [line.split(" applied")[0] for line in replayed.violations] == [
        "VM 1: reboot on a", "VM 1: migrate on b"]


def test_persist_no_keeps_guests_in_memory(tmp_path: Path) -> None:
    """PERSIST = no: nothing written under VAR_LOCATION, guests in the process only."""
    from one_dummy.worlds import state_dir
    assert state_dir({"VAR_LOCATION": str(tmp_path), "PERSIST": "no"}) is None
    assert state_dir({"VAR_LOCATION": str(tmp_path)}) == (tmp_path / "dummy").resolve()
