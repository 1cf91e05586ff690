"""Accounting and showback over a history driven by a clock the test holds.

The life cycle stamps history records with `records.now`; the tests replace it
with a clock they move by hand, so hours and costs are known exactly.
"""
from __future__ import annotations

import time
from typing import Iterator

import pytest
from lxml import etree

from conftest import Caller, Engine, validate
from one.core.lifecycle import records

API, AUTHZ = 0x1000, 0x200
COSTED = ("CPU = 2 MEMORY = 1024 CPU_COST = 1.5 MEMORY_COST = 0.01 DISK_COST = 0.001 "
          "DISK = [ SOURCE = /img/a, TYPE = fs, SIZE = 100 ]")
HOUR = 3600


def local(year: int, month: int, day: int = 1, hour: int = 0) -> int:
    return int(time.mktime((year, month, day, hour, 0, 0, 0, 0, -1)))


class Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += int(hours * HOUR)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    clock = Clock(local(2026, 3, 5, 8))
    monkeypatch.setattr(records, "now", clock)
    yield clock


def run_for(engine: Engine, clock: Clock, host: int, hours: float, template: str = COSTED) -> int:
    """A VM deployed now and terminated `hours` later."""
    vid = engine.vm(template, host)
    clock.advance(hours)
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    return vid


def records_of(rpc: Caller, flag: int = -2, start: int = -1, end: int = -1) -> list[etree._Element]:
    return list(validate(rpc.ok("one.vmpool.accounting", flag, start, end), "acct.xsd"))


def showback(rpc: Caller, flag: int = -2,
             window: tuple[int, ...] = (-1, -1, -1, -1)) -> list[dict[str, str]]:
    doc = validate(rpc.ok("one.vmpool.showback", flag, *window), "showback.xsd")
    return [{e.tag: e.text or "" for e in s} for s in doc]


def test_accounting_returns_each_record_with_its_vm(engine: Engine, hosts, clock: Clock) -> None:
    vid = run_for(engine, clock, hosts[0], 10)
    (record,) = records_of(engine.rpc)
    assert record.findtext("OID") == str(vid) and record.findtext("SEQ") == "0"
    assert int(record.findtext("ETIME")) - int(record.findtext("STIME")) == 10 * HOUR
    assert record.findtext("VM/TEMPLATE/CPU") == "2" and record.findtext("VM/ID") == str(vid)
    own = record.find("VM/HISTORY_RECORDS")
    assert own is not None and len(own) == 0


def test_the_period_selects_records_that_overlap_it(engine: Engine, hosts, clock: Clock) -> None:
    first = run_for(engine, clock, hosts[0], 2)              # 08:00 - 10:00
    clock.advance(1)
    second = run_for(engine, clock, hosts[0], 2)             # 11:00 - 13:00
    clock.advance(1)
    third = engine.vm(COSTED, hosts[0])                      # 14:00 - still running
    ids = lambda *span: [int(r.findtext("OID")) for r in records_of(engine.rpc, -2, *span)]
    assert ids(-1, -1) == [first, second, third]
    assert ids(local(2026, 3, 5, 10), -1) == [second, third]          # ETIME > start, or open
    assert ids(-1, local(2026, 3, 5, 11)) == [first]                  # STIME < end
    assert ids(local(2026, 3, 5, 9), local(2026, 3, 5, 12)) == [first, second]
    assert ids(local(2026, 3, 6), -1) == [third]


def test_a_migration_adds_a_record_and_a_row(engine: Engine, hosts, clock: Clock) -> None:
    vid = engine.vm(COSTED, hosts[0])
    clock.advance(1)
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], False)
    engine.settle()
    found = records_of(engine.rpc)
    assert [(r.findtext("SEQ"), r.findtext("HOSTNAME")) for r in found] == [("0", "h0"),
                                                                           ("1", "h1")]
    assert found[0].findtext("ETIME") != "0" and found[1].findtext("ETIME") == "0"


def test_users_see_only_the_records_of_their_vms(engine: Engine, hosts, clock: Clock) -> None:
    engine.rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    ann = engine.rpc.as_user("ann:pw")
    run_for(engine, clock, hosts[0], 1)
    mine = ann.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    engine.rpc.ok("one.vm.deploy", mine, hosts[0])
    engine.settle()
    for flag in (-2, -3, -1, -4):
        assert [int(r.findtext("OID")) for r in records_of(ann, flag)] == [mine]
    assert records_of(ann, 0) == []
    assert len(records_of(engine.rpc)) == 2


def test_a_wrong_filter_flag_is_refused(rpc: Caller) -> None:
    for call in (("one.vmpool.accounting", -5, -1, -1), ("one.vmpool.showback", -5, -1, -1, -1, -1)):
        assert rpc.fails(*call, code=API).endswith("Incorrect filter_flag")


def test_showback_costs_ten_hours_in_march_exactly(engine: Engine, hosts, clock: Clock) -> None:
    vid = run_for(engine, clock, hosts[0], 10)
    assert engine.rpc.ok("one.vmpool.calculateshowback", 3, 2026, 3, 2026) == ""
    (row,) = showback(engine.rpc)
    assert row == {"VMID": str(vid), "VMNAME": f"one-{vid}", "UID": "0", "GID": "0",
                   "UNAME": "oneadmin", "GNAME": "oneadmin", "YEAR": "2026", "MONTH": "3",
                   "CPU_COST": "30", "MEMORY_COST": "102.4", "DISK_COST": "1",
                   "TOTAL_COST": "133.4", "HOURS": "10", "RHOURS": "10"}


def test_a_record_across_months_is_split(engine: Engine, hosts, clock: Clock) -> None:
    clock.now = local(2026, 3, 31, 22)
    run_for(engine, clock, hosts[0], 5)                      # 2 h in March, 3 h in April
    clock.now = local(2026, 5, 10)
    engine.rpc.ok("one.vmpool.calculateshowback", -1, -1, -1, -1)
    rows = showback(engine.rpc)
    assert [(r["MONTH"], r["HOURS"], r["CPU_COST"]) for r in rows] == [("3", "2", "6"),
                                                                       ("4", "3", "9")]
    assert [r["MONTH"] for r in showback(engine.rpc, -2, (4, 2026, 4, 2026))] == ["4"]
    assert [r["MONTH"] for r in showback(engine.rpc, -2, (-1, -1, 3, 2026))] == ["3"]


def test_an_open_record_counts_up_to_now_and_a_rerun_replaces(engine: Engine, hosts,
                                                               clock: Clock) -> None:
    engine.vm(COSTED, hosts[0])
    clock.advance(4)
    engine.rpc.ok("one.vmpool.calculateshowback", -1, -1, -1, -1)
    assert [r["HOURS"] for r in showback(engine.rpc)] == ["4"]
    clock.advance(2)
    engine.rpc.ok("one.vmpool.calculateshowback", -1, -1, -1, -1)
    assert [r["HOURS"] for r in showback(engine.rpc)] == ["6"]


def test_users_see_their_showback_only(engine: Engine, hosts, clock: Clock) -> None:
    engine.rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    ann = engine.rpc.as_user("ann:pw")
    run_for(engine, clock, hosts[0], 1)
    mine = ann.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    engine.rpc.ok("one.vm.deploy", mine, hosts[0])
    engine.settle()
    clock.advance(1)
    engine.rpc.ok("one.vmpool.calculateshowback", -1, -1, -1, -1)
    assert [r["VMID"] for r in showback(ann)] == [str(mine)]
    assert len(showback(engine.rpc)) == 2


def test_calculateshowback_is_for_the_oneadmin_group(rpc: Caller) -> None:
    rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    rpc.as_user("ann:pw").fails("one.vmpool.calculateshowback", -1, -1, -1, -1, code=AUTHZ)


@pytest.mark.parametrize("window", [(13, 2026, -1, -1), (0, 2026, -1, -1), (3, 1969, -1, -1),
                                    (-1, -1, 3, -1), (5, 2026, 4, 2026), (1, 2027, 12, 2026)])
def test_bad_months_and_years_are_refused(rpc: Caller, window: tuple[int, ...]) -> None:
    rpc.fails("one.vmpool.calculateshowback", *window, code=API)
    rpc.fails("one.vmpool.showback", -2, *window, code=API)


def test_default_costs_and_only_running_come_from_oned_conf(tmp_path, monkeypatch) -> None:
    import one_dummy
    from conftest import start_oned
    clock = Clock(local(2026, 3, 5, 8))
    monkeypatch.setattr(records, "now", clock)
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text='DEFAULT_COST = [ CPU_COST = 2, MEMORY_COST = 0.5, '
                                            'DISK_COST = 0 ]\nSHOWBACK_ONLY_RUNNING = "yes"\n')
    try:
        engine = Engine(oned)
        host = engine.host("h0")
        engine.monitor()
        vid = engine.vm("CPU = 1 MEMORY = 2 MEMORY_COST = 1", host)
        clock.advance(3)
        engine.rpc.ok("one.vm.action", "poweroff-hard", vid)
        engine.settle()
        clock.advance(1)
        engine.rpc.ok("one.vmpool.calculateshowback", -1, -1, -1, -1)
        (row,) = showback(engine.rpc)
        # CPU at the default 2 and memory at the VM's own 1, for the 3 running hours only.
        shown = (row["HOURS"], row["RHOURS"], row["CPU_COST"], row["MEMORY_COST"])
        assert shown == ("4", "3", "6", "6")
    finally:
        oned.stop()
        one_dummy.reset()


def test_a_default_cost_that_is_not_a_number_stops_oned(tmp_path) -> None:
    from conftest import start_oned
    from one.errors import OneError
    with pytest.raises(OneError, match="DEFAULT_COST"):
        start_oned(tmp_path, config_text="DEFAULT_COST = [ CPU_COST = cheap ]\n")
