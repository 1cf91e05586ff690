"""The monitor writes a cycle's host updates in batched transactions: every host once
per cycle, hosts changed by others meanwhile read again (never written back stale),
and updates a failed commit took back written again, none twice."""
from __future__ import annotations

from collections import Counter

import pytest
from lxml import etree

from conftest import Engine
from one.pool.batch import LIMIT
from one.pool.models import MonitoringRow
from one.states import HostState


def _samples(engine: Engine) -> Counter[int]:
    """How many monitoring samples each host has."""
    doc = etree.fromstring(engine.rpc.ok("one.hostpool.monitoring", -1).encode())
    return Counter(int(sample.findtext("ID")) for sample in doc.iter("MONITORING"))


def _hosts(engine: Engine, count: int) -> list[int]:
    return [engine.host(f"h{n}") for n in range(count)]


def test_every_host_is_written_once_per_cycle_across_several_commits(engine: Engine) -> None:
    hids = _hosts(engine, LIMIT + 20)  # more than one transaction's worth
    for _ in range(2):
        engine.monitor()
    assert _samples(engine) == {hid: 2 for hid in hids}
    doc = etree.fromstring(engine.rpc.ok("one.hostpool.info").encode())
    assert {host.findtext("STATE") for host in doc.iter("HOST")} == {str(HostState.MONITORED)}


def test_a_host_changed_between_cycles_is_read_again_not_written_back_stale(
        engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    engine.rpc.ok("one.host.update", hid, 'LABEL = "mine"', 1)
    engine.rpc.ok("one.host.rename", hid, "renamed")
    engine.monitor()
    doc = engine.doc("one.host.info", hid)
    assert doc.findtext("TEMPLATE/LABEL") == "mine"
    assert doc.findtext("NAME") == "renamed"
    assert _samples(engine) == {hid: 2}


@pytest.mark.sqlite_only  # a trigger and a function on the SQLite connection of the test
def test_updates_a_failed_commit_took_back_are_written_again(engine: Engine) -> None:
    """The first host update of the cycle makes its transaction fail at COMMIT (a
    deferred foreign key broken by a trigger on its monitoring sample); the cycle
    writes those updates again."""
    hids = _hosts(engine, 5)
    engine.monitor()
    calls = Counter[str]()

    def fail_first() -> int:
        calls["updates"] += 1
        return int(calls["updates"] == 1)

    db = engine.oned.managers.pools.store.db
    connection = db.connection()  # this thread's: `engine.monitor()` writes from it
    connection.create_function("fail_first", 0, fail_first)
    table = MonitoringRow._meta.table_name
    for statement in (
            "CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)",
            "CREATE TEMP TABLE child (pid INTEGER REFERENCES parent (id) "
            "DEFERRABLE INITIALLY DEFERRED)",
            f"CREATE TEMP TRIGGER fail_once AFTER INSERT ON main.{table} WHEN fail_first() "
            "BEGIN INSERT INTO child VALUES (1); END"):
        db.execute_sql(statement)
    engine.monitor()
    assert calls["updates"] == 2 * len(hids)   # each sample written twice: taken back, kept
    assert _samples(engine) == {hid: 2 for hid in hids}  # none lost, none doubled
