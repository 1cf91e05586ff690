"""Host capacity is always what the placed VMs say (issue 10, item 3).

Failed cold migrations, recoveries of VMs caught mid-migration and a slow
probe racing deploys must leave every host booked for exactly the VMs on it,
and no VM that left its hosts (DONE above all) with an open history record.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import one_dummy
import pytest
from one_dummy import DummyIM

from conftest import Engine, database, start_oned
from one.pool.models import Host, Vm
from one.states import LcmState as L, VmState as S

ACTIVE = S.ACTIVE


def booked(engine: Engine, hid: int) -> tuple[int, int, int, list[int]]:
    """(CPU_USAGE, MEM_USAGE, RUNNING_VMS, VMS) of a host, as one.host.info shows them."""
    doc = engine.doc("one.host.info", hid)
    share = doc.find("HOST_SHARE")
    return (int(share.findtext("CPU_USAGE")), int(share.findtext("MEM_USAGE")),
            int(share.findtext("RUNNING_VMS")), [int(e.text) for e in doc.iterfind("VMS/ID")])


def open_records(engine: Engine, vid: int) -> list[str]:
    """Hostnames of the VM's history records still open (ETIME = 0)."""
    doc = engine.doc("one.vm.info", vid)
    return [h.findtext("HOSTNAME") for h in doc.iter("HISTORY") if h.findtext("ETIME") == "0"]


EMPTY = (0, 0, 0, [])


def _one(vid: int) -> tuple[int, int, int, list[int]]:
    """What a VM of CPU = 1 MEMORY = 64 books."""
    return (100, 65536, 1, [vid])


def _cold_migrate_failing(engine: Engine, hosts: tuple[int, int], fail: str,
                          source: str = "running") -> int:
    """A VM on h0 cold-migrated to h1 whose driver action `fail` fails on the way."""
    vid = engine.vm("CPU = 1 MEMORY = 64", hosts[0])
    if source == "poweroff":
        engine.rpc.ok("one.vm.action", "poweroff", vid)
        engine.settle()
    engine.rpc.ok("one.vm.update", vid, f"DUMMY_FAIL = {fail}", 1)
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], False)
    engine.settle()
    return vid


@pytest.mark.parametrize("fail, source, failed", [
    ("execute", "running", L.PROLOG_MIGRATE_FAILURE),
    ("restore", "running", L.BOOT_MIGRATE_FAILURE),
    ("execute", "poweroff", L.PROLOG_MIGRATE_POWEROFF_FAILURE),
])
def test_failed_cold_migration_frees_the_source(engine: Engine, hosts, fail, source,
                                                failed) -> None:
    vid = _cold_migrate_failing(engine, hosts, fail, source)
    assert engine.phase(vid) == (ACTIVE, failed)
    # The VM left h0 once its state was saved (as oned: save_success frees the source).
    assert booked(engine, hosts[0]) == EMPTY
    assert booked(engine, hosts[1]) == _one(vid)
    assert open_records(engine, vid) == ["h1"]


@pytest.mark.parametrize("recover, phase", [(3, (S.DONE, 0)), (4, (S.PENDING, 0)),
                                            (5, (S.DONE, 0))])
def test_recovering_a_failed_cold_migration_frees_both_hosts(engine: Engine, hosts, recover,
                                                             phase) -> None:
    vid = _cold_migrate_failing(engine, hosts, "restore")
    engine.rpc.ok("one.vm.recover", vid, recover)
    engine.settle()
    assert engine.phase(vid) == phase
    assert booked(engine, hosts[0]) == EMPTY and booked(engine, hosts[1]) == EMPTY
    assert open_records(engine, vid) == []
    engine.rpc.ok("one.host.delete", hosts[0])


def test_recover_success_of_a_failed_boot_migrate_leaves_only_the_target(engine: Engine,
                                                                         hosts) -> None:
    vid = _cold_migrate_failing(engine, hosts, "restore")
    engine.rpc.ok("one.vm.recover", vid, 1)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    assert booked(engine, hosts[0]) == EMPTY and booked(engine, hosts[1]) == _one(vid)
    assert open_records(engine, vid) == ["h1"]


class _Silent:
    """A runner whose driver never answers: oned died mid-operation."""

    def submit(self, vm, token, pool, op) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("recover", [3, 4, 5])
def test_recovering_a_vm_caught_mid_migration_frees_both_hosts(engine: Engine, hosts, live,
                                                               recover) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64", hosts[0])
    inline, engine.lifecycle.runner = engine.lifecycle.runner, _Silent()
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], live)
    assert engine.phase(vid) == (ACTIVE, L.MIGRATE if live else L.SAVE_MIGRATE)
    assert open_records(engine, vid) == ["h0", "h1"]  # both hosts hold it while it moves
    assert booked(engine, hosts[0]) == _one(vid) == booked(engine, hosts[1])
    engine.lifecycle.runner = inline  # the administrator recovers once oned is back
    engine.rpc.ok("one.vm.recover", vid, recover)
    engine.settle()
    assert open_records(engine, vid) == []
    assert booked(engine, hosts[0]) == EMPTY and booked(engine, hosts[1]) == EMPTY


class _GatedIM(DummyIM):
    """A dummy IM whose probe answers only when the test opens the gate: a slow host.

    It reads the host's domains as it is asked, or just before it answers (`late`):
    a real probe reads them at some moment in between."""

    name = "gated"
    late = False
    asked = threading.Event()
    gate = threading.Event()

    def monitor(self, host):
        probe = None if self.late else super().monitor(host)
        type(self).asked.set()
        assert type(self).gate.wait(30), "the test never opened the gate"
        return probe or super().monitor(host)


@pytest.mark.parametrize("late", [False, True])
def test_a_slow_probe_keeps_what_was_booked_and_freed_meanwhile(engine: Engine, late) -> None:
    engine.oned.managers.plugins.registries["im"].add(_GatedIM)
    _GatedIM.late = late
    _GatedIM.asked.clear()
    _GatedIM.gate.set()
    hid = engine.rpc.ok("one.host.allocate", "slow", "gated", "dummy", -1)
    other = engine.host("other")
    engine.monitor()
    before = [engine.vm("CPU = 1 MEMORY = 64", hid) for _ in range(6)]
    _GatedIM.gate.clear()
    cycle = threading.Thread(target=engine.oned.managers.monitor.cycle)
    cycle.start()
    try:
        assert _GatedIM.asked.wait(30)
        deployed = [engine.vm("CPU = 1 MEMORY = 64", hid) for _ in range(10)]
        for vid in before[:3]:
            engine.rpc.ok("one.vm.action", "terminate-hard", vid)
        moved = before[3]
        engine.rpc.ok("one.vm.migrate", moved, other, True)
        engine.settle()
    finally:
        _GatedIM.gate.set()
        cycle.join(30)
    engine.settle()
    placed = before[4:] + deployed
    assert booked(engine, hid) == (100 * 12, 65536 * 12, 12, sorted(placed))
    assert booked(engine, other) == _one(moved)
    # VMs that came or went during the probe are not taken for gone by its answer.
    assert {engine.phase(vid) for vid in placed + [moved]} == {(ACTIVE, L.RUNNING)}
    for vid in placed + [moved]:
        engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    engine.monitor()
    assert booked(engine, hid) == EMPTY
    engine.rpc.ok("one.host.delete", hid)


def _corrupt(var: Path, done: int) -> None:
    """What a crash or an older oned leaves: h0 counts a phantom VM and a wrong usage,
    h1 lost its VM, and DONE VM `done` has an open history record."""
    with database(var) as con:
        share = json.loads(con.execute("SELECT share FROM host WHERE oid = 0").fetchone()[0])
        share.update(CPU_USAGE=700, MEM_USAGE=1, RUNNING_VMS=5)
        con.execute("UPDATE host SET share = ?, vms = '[0,99]', body = '', pool_body = ''"
                    " WHERE oid = 0", (json.dumps(share),))
        con.execute("UPDATE host SET vms = '[]', body = '', pool_body = '' WHERE oid = 1")
        history = json.loads(con.execute("SELECT history FROM vm WHERE oid = ?", (done,))
                             .fetchone()[0])
        history[-1]["ETIME"] = 0
        con.execute("UPDATE vm SET history = ?, body = '', pool_body = '' WHERE oid = ?",
                    (json.dumps(history, separators=(",", ":")), done))  # as oned stores it


def test_oned_start_repairs_drifted_shares_and_logs_it(tmp_path: Path, caplog) -> None:
    one_dummy.reset()
    first = Engine(start_oned(tmp_path))
    try:
        h0, h1 = first.host("h0"), first.host("h1")
        first.monitor()
        on_h0, on_h1 = first.vm("CPU = 1 MEMORY = 64", h0), first.vm("CPU = 0.5 MEMORY = 32", h1)
        done = first.vm("CPU = 1 MEMORY = 64", h0)
        first.rpc.ok("one.vm.action", "terminate-hard", done)
        first.settle()
    finally:
        first.oned.stop()
    _corrupt(tmp_path, done)

    with caplog.at_level(logging.INFO, logger="one.core.capacity"):
        again = Engine(start_oned(tmp_path))
    try:
        assert booked(again, h0) == _one(on_h0)
        assert booked(again, h1) == (50, 32768, 1, [on_h1])
        assert open_records(again, done) == []
        repairs = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert repairs == [
            f"capacity: VM {done} (DONE): closed its history record 0 left open on host {h0}",
            f"capacity: host {h0} (h0): CPU_USAGE 700 -> 100, MEM_USAGE 1 -> 65536, "
            f"RUNNING_VMS 5 -> 1, VMS [{on_h0}], removed [99]",
            f"capacity: host {h1} (h1): VMS [{on_h1}], added [{on_h1}]",
        ]
        for vid in (on_h0, on_h1):
            again.rpc.ok("one.vm.action", "terminate-hard", vid)
        again.settle()
        again.rpc.ok("one.host.delete", h0)  # no phantom VM blocks it
    finally:
        again.oned.stop()
        one_dummy.reset()


def test_hostpool_sync_repairs_on_demand_for_admins_only(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64", hosts[0])
    assert engine.rpc.ok("one.hostpool.sync") == ""  # exact books: nothing to say
    Host.update(vms=[vid, 42]).where(Host.oid == hosts[0]).execute()  # behind oned's back
    assert engine.rpc.ok("one.hostpool.sync") == f"host {hosts[0]} (h0): VMS [{vid}], removed [42]"
    assert booked(engine, hosts[0]) == _one(vid)
    engine.rpc.ok("one.user.allocate", "eve", "pw", "core", [])
    refused = engine.rpc.as_user("eve:pw").fails("one.hostpool.sync", code=0x200)
    assert "Not authorized" in refused


def test_sync_frees_the_source_an_older_oned_left_booked(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64", hosts[0])
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], True)
    engine.settle()
    history = Vm.get_by_id(vid).history
    history[0]["ETIME"] = 0  # what a failed cold migration left before this fix
    Vm.update(history=history).where(Vm.oid == vid).execute()
    Host.update(vms=[vid]).where(Host.oid == hosts[0]).execute()
    assert engine.rpc.ok("one.hostpool.sync").splitlines() == [
        f"VM {vid} (ACTIVE): closed its history record 0 left open on host {hosts[0]}",
        f"host {hosts[0]} (h0): VMS [], removed [{vid}]"]
    assert open_records(engine, vid) == ["h1"]
    assert booked(engine, hosts[0]) == EMPTY and booked(engine, hosts[1]) == _one(vid)


@pytest.mark.parametrize("live, steps", [(True, 0), (False, 0), (False, 1), (False, 2)])
def test_a_crash_mid_migration_leaves_no_booking_once_the_vm_is_done(tmp_path: Path, live,
                                                                      steps) -> None:
    """oned dies during MIGRATE, SAVE_MIGRATE, PROLOG_MIGRATE or BOOT_MIGRATE, after
    the driver did the work; whatever the replay then does (a restore of a checkpoint
    already used fails), the VM deleted afterwards holds no host and no open record."""
    one_dummy.reset()
    first = Engine(start_oned(tmp_path))
    try:
        h0, h1 = first.host("h0"), first.host("h1")
        first.monitor()
        vid = first.vm("CPU = 1 MEMORY = 64", h0)
        first.rpc.ok("one.vm.migrate", vid, h1, live)
        for _ in range(steps):
            first.lifecycle.step()  # the reply queued last is lost when oned dies
    finally:
        first.oned.stop()
    again = Engine(start_oned(tmp_path))
    try:
        again.lifecycle.resume_in_flight()
        again.settle()
        again.rpc.ok("one.vm.recover", vid, 3)
        again.settle()
        assert again.phase(vid) == (S.DONE, 0)
        assert open_records(again, vid) == []
        assert booked(again, h0) == EMPTY and booked(again, h1) == EMPTY
    finally:
        again.oned.stop()
        one_dummy.reset()
