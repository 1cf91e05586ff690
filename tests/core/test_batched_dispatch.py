"""A scheduler cycle dispatches its VMs in batched transactions and the life cycle
applies the drivers' replies in batches: every VM is placed once, with its history
record and its host's booking; a change that fails in a batch fails alone; a batch
whose commit fails applies none of its changes and starts no driver operation."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import one_dummy
import pytest

from conftest import Engine, start_oned
from one.states import LcmState as L, VmState as S

CONF = "MAX_DISPATCH = 100\nMAX_HOST = 100\n"
HOSTS, VMS = ("h0", "h1", "h2"), 24
SMALL = "CPU = 0.1 MEMORY = 64"  # all of them fit on the dummy hosts, with room to spare


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Engine]:
    one_dummy.reset()
    engine = Engine(start_oned(tmp_path, config_text=CONF))
    for name in HOSTS:
        engine.host(name)
    engine.monitor()
    yield engine
    engine.oned.stop()
    one_dummy.reset()


def _cycle(engine: Engine) -> dict[int, int]:
    """One scheduler cycle, run to rest: the VMs it dispatched and their hosts."""
    report = engine.oned.managers.scheduler.cycle()
    engine.settle()
    return dict(report.dispatched)


def _history(engine: Engine, vid: int) -> list[int]:
    """The host of each of the VM's HISTORY records."""
    doc = engine.doc("one.vm.info", vid)
    return [int(hid) for hid in doc.xpath("HISTORY_RECORDS/HISTORY/HID/text()")]


def _domains(engine: Engine) -> list[str]:
    return [deploy_id for name in HOSTS for deploy_id in engine.hypervisor(name).domains()]


def _trap(engine: Engine, body: str, vid: int | None = None) -> None:
    """A temporary trigger on this thread's connection (the one the test's cycle
    writes with) that runs `body` when a VM (or the VM `vid`) changes state: a real
    failure of the database, in the change itself or at the commit."""
    which = f" AND NEW.oid = {vid}" if vid is not None else ""
    engine.oned.managers.pools.store.db.execute_sql(
        f"CREATE TEMP TRIGGER trap AFTER UPDATE OF state ON vm "
        f"WHEN NEW.state != OLD.state{which} BEGIN {body}; END")


def _untrap(engine: Engine) -> None:
    engine.oned.managers.pools.store.db.execute_sql("DROP TRIGGER temp.trap")


def _assert_running_once(engine: Engine, placed: dict[int, int]) -> None:
    for vid, hid in placed.items():
        assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
        assert _history(engine, vid) == [hid]
    assert sorted(_domains(engine)) == sorted(f"one-{vid}" for vid in placed)
    booked = {hid: int(engine.doc("one.host.info", hid).findtext("HOST_SHARE/RUNNING_VMS"))
              for hid in set(placed.values())}
    assert booked == {hid: list(placed.values()).count(hid) for hid in booked}


def test_a_cycle_places_many_vms_each_running_once_with_its_history(cloud: Engine) -> None:
    vids = [cloud.vm(SMALL) for _ in range(VMS)]
    placed = _cycle(cloud)
    assert sorted(placed) == vids
    _assert_running_once(cloud, placed)
    assert _cycle(cloud) == {}


@pytest.mark.sqlite_only  # the failure is a SQLite trigger and deferred foreign key
def test_a_batch_whose_commit_fails_applies_nothing_and_the_next_cycle_places_each_once(
        cloud: Engine) -> None:
    vids = [cloud.vm(SMALL) for _ in range(VMS)]
    db = cloud.oned.managers.pools.store.db
    db.execute_sql("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute_sql("CREATE TEMP TABLE child (pid INTEGER REFERENCES parent (id) "
                   "DEFERRABLE INITIALLY DEFERRED)")
    _trap(cloud, "INSERT INTO child VALUES (1)")  # fails each batch's COMMIT, not its changes
    assert sorted(_cycle(cloud)) == vids   # the scheduler dispatched them all ...
    for vid in vids:                       # ... and the failed commit took every change back
        assert cloud.phase(vid) == (S.PENDING, L.LCM_INIT)
        assert _history(cloud, vid) == []
    assert _domains(cloud) == []
    for hid in range(len(HOSTS)):
        host = cloud.doc("one.host.info", hid)
        assert host.findtext("HOST_SHARE/RUNNING_VMS") == "0" and host.findall("VMS/ID") == []

    _untrap(cloud)
    placed = _cycle(cloud)
    assert sorted(placed) == vids
    _assert_running_once(cloud, placed)


@pytest.mark.sqlite_only  # the failure is a SQLite trigger
def test_a_vm_whose_change_fails_in_a_batch_is_left_pending_alone(cloud: Engine) -> None:
    vids = [cloud.vm(SMALL) for _ in range(VMS)]
    stuck = vids[VMS // 2]
    _trap(cloud, "SELECT RAISE(ABORT, 'disk on fire')", stuck)
    placed = _cycle(cloud)
    _untrap(cloud)
    assert sorted(placed) == [vid for vid in vids if vid != stuck]
    _assert_running_once(cloud, placed)
    assert cloud.phase(stuck) == (S.PENDING, L.LCM_INIT)
    assert _history(cloud, stuck) == []
    message = cloud.doc("one.vm.info", stuck).findtext("USER_TEMPLATE/SCHED_MESSAGE")
    assert message.startswith("Cannot dispatch VM to host") and "disk on fire" in message


def test_a_failing_driver_submission_in_a_batch_fails_only_that_vm(cloud: Engine) -> None:
    vids = [cloud.vm(SMALL) for _ in range(VMS)]
    failing = cloud.vm(f'{SMALL} DUMMY_FAIL = "deploy"')
    placed = _cycle(cloud)
    assert sorted(placed) == [*vids, failing]
    assert cloud.phase(failing) == (S.ACTIVE, L.BOOT_FAILURE)
    del placed[failing]
    for vid, hid in placed.items():
        assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)
        assert _history(cloud, vid) == [hid]
