"""Scheduled actions: one.vm.schedadd|schedupdate|scheddelete, SCHED_ACTION at allocate,
run by the core at their time on a clock the test holds, with repeat rules."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from conftest import Engine, start_oned, validate
from one.core import sched_actions
from one.core.lifecycle import records
from one.states import LcmState as L, VmState as S

API, ACTION, LOCKED, NO_EXISTS = 0x1000, 0x800, 0x8000, 0x400
# A Monday 10:00 local time, as the repeat rules read days.
MONDAY = int(time.mktime((2027, 1, 4, 10, 0, 0, 0, 0, -1)))


@pytest.fixture
def clocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, list[int]]]:
    import one_dummy
    one_dummy.reset()
    clock = [MONDAY]
    monkeypatch.setattr(records, "now", lambda: clock[0])
    oned = start_oned(tmp_path)
    yield Engine(oned), clock
    oned.stop()
    one_dummy.reset()


def _actions(engine: Engine, vid: int) -> list[dict[str, str]]:
    document = engine.rpc.ok("one.vm.info", vid)
    validate(document, "vm.xsd")
    root = etree.fromstring(document.encode())
    assert [i.text for i in root.findall("SCHED_ACTIONS/ID")] == [
        a.findtext("ID") for a in root.findall("TEMPLATE/SCHED_ACTION")]
    return [{c.tag: c.text or "" for c in a} for a in root.findall("TEMPLATE/SCHED_ACTION")]


def _tick(engine: Engine) -> int:
    ran = engine.oned.managers.sched_actions.tick()
    engine.settle()
    return ran


def test_an_action_runs_once_at_its_time(clocked) -> None:
    engine, clock = clocked
    vid = engine.vm(host=engine.host("h0"))
    engine.monitor()
    sid = engine.rpc.ok("one.vm.schedadd", vid,
                        f"SCHED_ACTION = [ ACTION = poweroff, TIME = {MONDAY + 60} ]")
    assert sid == 0
    (action,) = _actions(engine, vid)
    assert (action["ACTION"], action["TIME"], action["REPEAT"], action["DONE"]) == (
        "poweroff", str(MONDAY + 60), "-1", "-1")
    assert _tick(engine) == 0 and engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    clock[0] += 60
    assert _tick(engine) == 1
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT)
    (action,) = _actions(engine, vid)
    assert (action["DONE"], action["MESSAGE"]) == (str(MONDAY + 60), "")
    clock[0] += 3600
    assert _tick(engine) == 0  # done: never again


def test_a_failed_action_keeps_its_message(clocked) -> None:
    engine, clock = clocked
    vid = engine.rpc.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 SCHED_ACTION = [ ACTION = "
                                           f"resume, TIME = \"+30\" ]", True)
    (action,) = _actions(engine, vid)
    stime = int(etree.fromstring(engine.rpc.ok("one.vm.info", vid).encode()).findtext("STIME"))
    assert action["TIME"] == str(stime + 30)  # relative to the VM's start
    clock[0] = stime + 30
    assert _tick(engine) == 1
    (action,) = _actions(engine, vid)
    assert "Wrong state to perform action resume" in action["MESSAGE"]
    assert action["DONE"] == str(stime + 30) and engine.phase(vid)[0] == S.HOLD


def test_weekly_hourly_and_counted_repeats(clocked) -> None:
    engine, clock = clocked
    rpc = engine.rpc
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    # Mondays and Wednesdays at 10:00, for ever; every 2 hours, three times
    weekly = rpc.ok("one.vm.schedadd", vid, f"SCHED_ACTION = [ ACTION = hold, TIME = {MONDAY}, "
                                            "REPEAT = 0, DAYS = \"1,3\", END_TYPE = 0 ]")
    hourly = rpc.ok("one.vm.schedadd", vid, f"ACTION = release TIME = {MONDAY} REPEAT = 3 "
                                            "DAYS = 2 END_TYPE = 1 END_VALUE = 3")
    assert (weekly, hourly) == (0, 1)
    assert _tick(engine) == 2
    first, second = _actions(engine, vid)
    assert first["TIME"] == str(MONDAY + 2 * 86400)  # Wednesday
    assert (second["TIME"], second["END_VALUE"]) == (str(MONDAY + 7200), "2")
    for _ in range(2):
        clock[0] += 7200
        assert _tick(engine) == 1
    (first, second) = _actions(engine, vid)
    assert second["END_VALUE"] == "0" and second["REPEAT"] == "-1"
    clock[0] = MONDAY + 2 * 86400
    assert _tick(engine) == 1
    assert _actions(engine, vid)[0]["TIME"] == str(MONDAY + 7 * 86400)  # next Monday


def test_monthly_and_yearly_next_times() -> None:
    base = {"ID": "0", "ACTION": "hold", "TIME": str(MONDAY), "END_TYPE": "0", "END_VALUE": "-1",
            "DONE": "-1"}
    monthly = dict(base, REPEAT="1", DAYS="1,15")
    assert time.localtime(sched_actions.next_time(monthly, MONDAY)).tm_mday == 15
    yearly = dict(base, REPEAT="2", DAYS="0")
    assert time.localtime(sched_actions.next_time(yearly, MONDAY)).tm_year == 2028
    ending = dict(base, REPEAT="1", DAYS="15", END_TYPE="2", END_VALUE=str(MONDAY + 86400))
    assert sched_actions.next_time(ending, MONDAY) is None


def test_update_and_delete(clocked) -> None:
    engine, _ = clocked
    rpc = engine.rpc
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    sid = rpc.ok("one.vm.schedadd", vid, f"SCHED_ACTION = [ ACTION = hold, TIME = {MONDAY} ]")
    assert rpc.ok("one.vm.schedupdate", vid, sid, "SCHED_ACTION = [ ACTION = terminate ]") == vid
    (action,) = _actions(engine, vid)
    assert (action["ACTION"], action["TIME"]) == ("terminate", str(MONDAY))
    assert rpc.ok("one.vm.scheddelete", vid, sid) == vid
    assert _actions(engine, vid) == []
    assert rpc.ok("one.vm.schedadd", vid, f"ACTION = hold TIME = {MONDAY}") == 0


@pytest.mark.parametrize("template, words", [
    ("SCHED_ACTION = [ ACTION = explode, TIME = 1 ]", "is not a VM action"),
    ("SCHED_ACTION = [ ACTION = hold ]", "needs a TIME"),
    ("SCHED_ACTION = [ ACTION = hold, TIME = soon ]", "TIME must be"),
    ("SCHED_ACTION = [ ACTION = hold, TIME = 1, REPEAT = 7 ]", "REPEAT 7"),
    ("SCHED_ACTION = [ ACTION = hold, TIME = 1, REPEAT = 0, DAYS = 9 ]", "DAYS '9'"),
    ("SCHED_ACTION = [ ACTION = hold, TIME = 1, REPEAT = 3 ]", "DAYS ''"),
    ("SCHED_ACTION = [ ACTION = hold, TIME = 1, REPEAT = 1, DAYS = 1, END_TYPE = 1 ]", "END_TYPE"),
    ("SCHED_ACTION = [ ACTION = hold, TIME = 1, END_TYPE = x ]", "integer"),
])
def test_bad_actions(clocked, template: str, words: str) -> None:
    engine, _ = clocked
    vid = engine.rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    assert words in engine.rpc.fails("one.vm.schedadd", vid, template, code=API)
    assert _actions(engine, vid) == []
    engine.rpc.fails("one.vm.allocate", f"CPU = 1 MEMORY = 64 {template}", False, code=API)


def test_wrong_ids_and_locks(clocked) -> None:
    engine, _ = clocked
    rpc = engine.rpc
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    rpc.fails("one.vm.schedadd", 99, "ACTION = hold TIME = 1", code=NO_EXISTS)
    assert "no scheduled action 5" in rpc.fails("one.vm.scheddelete", vid, 5, code=ACTION)
    rpc.fails("one.vm.schedupdate", vid, 5, "ACTION = hold", code=ACTION)
    rpc.ok("one.vm.lock", vid, 2, False)
    rpc.fails("one.vm.schedadd", vid, "ACTION = hold TIME = 1", code=LOCKED)
