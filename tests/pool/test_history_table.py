"""The history table follows the VMs' records in the same transaction, and is
filled for a database made before it existed (schema 2 -> 3)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Caller, Engine, restart_at, start_oned
from one.pool.history import _text
from one.pool.models import HistoryRow
from one.pool.render.vm import accounting_xml, vm_xml, without_records


def _rows(engine: Engine, vid: int) -> list[tuple[int, int]]:
    query = HistoryRow.select(HistoryRow.seq, HistoryRow.etime).where(HistoryRow.vid == vid)
    return [(seq, etime) for seq, etime in query.order_by(HistoryRow.seq).tuples()]


def test_rows_follow_records_and_a_rollback(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64", hosts[0])
    pool = engine.oned.managers.pools.vms
    assert [seq for seq, _ in _rows(engine, vid)] == [0]
    with pytest.raises(RuntimeError):
        with pool.modify(vid) as vm:
            vm.history = vm.history + [{**vm.history[0], "SEQ": 1}]
            raise RuntimeError("abandoned")
    assert [seq for seq, _ in _rows(engine, vid)] == [0]
    with pool.modify(vid) as vm:
        vm.history = vm.history + [{**vm.history[0], "SEQ": 1}]
    assert [seq for seq, _ in _rows(engine, vid)] == [0, 1]
    with pool.modify(vid) as vm:
        vm.history = vm.history[:1]
    assert [seq for seq, _ in _rows(engine, vid)] == [0]
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    assert _rows(engine, vid)[0][1] > 0   # the record closed, and so did its row


def test_a_schema_2_database_gets_its_rows(tmp_path: Path) -> None:
    import one_dummy
    one_dummy.reset()
    first = start_oned(tmp_path)
    engine = Engine(first)
    host = engine.host("h0")
    engine.monitor()
    vid = engine.vm("CPU = 1 MEMORY = 64", host)
    before = engine.rpc.ok("one.vmpool.accounting", -2, -1, -1)
    second = restart_at(first, tmp_path, 2, "DROP TABLE history")
    try:
        after = Caller(second.endpoint).ok("one.vmpool.accounting", -2, -1, -1)
        assert after == before and f"<OID>{vid}</OID>" in after
    finally:
        second.stop()
        one_dummy.reset()


def test_a_row_shows_the_vm_as_rendered_without_its_records(engine: Engine, hosts) -> None:
    """The row's VM is cut out of the document just rendered, not rendered again: it must
    be that document without records, even when a template value spells out the cut."""
    tricky = "<HISTORY_RECORDS></HISTORY_RECORDS>"
    vid = engine.vm(f'CPU = 1 MEMORY = 64 NOTE = "{tricky}"', hosts[0])
    vm = engine.oned.managers.pools.vms.get(vid)
    assert vm.history and tricky in vm.user_template.get("NOTE")
    (body,) = HistoryRow.select(HistoryRow.body).where(HistoryRow.vid == vid).tuples()[0]
    expected = accounting_xml(vm.history[0], vm, vm_xml(vm, records=False))
    assert bytes(body) == _text(expected)
    assert without_records(vm, vm_xml(vm)) == vm_xml(vm, records=False)
    assert without_records(vm, "<VM>stale</VM>") == vm_xml(vm, records=False)
