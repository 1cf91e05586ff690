"""Accounting and showback on PostgreSQL: blobs, composite keys and row-value deletes."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Engine, start_oned, validate
from one.core.lifecycle import records


def test_accounting_and_showback_on_postgresql(tmp_path: Path, postgres: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import one_dummy
    clock = [1_772_697_600]  # 2026-03-05
    monkeypatch.setattr(records, "now", lambda: clock[0])
    one_dummy.reset()
    oned = start_oned(tmp_path, db=postgres)
    try:
        engine = Engine(oned)
        host = engine.host("h0")
        engine.monitor()
        vid = engine.vm("CPU = 1 MEMORY = 64 CPU_COST = 2", host)
        history = validate(engine.rpc.ok("one.vmpool.accounting", -2, -1, -1), "acct.xsd")
        assert [r.findtext("OID") for r in history] == [str(vid)]
        clock[0] += 3600
        for _ in range(2):  # the second run replaces the rows of the first
            engine.rpc.ok("one.vmpool.calculateshowback", -1, -1, -1, -1)
        rows = validate(engine.rpc.ok("one.vmpool.showback", -2, -1, -1, -1, -1), "showback.xsd")
        assert [(r.findtext("VMID"), r.findtext("CPU_COST")) for r in rows] == [(str(vid), "2")]
    finally:
        oned.stop()
        one_dummy.reset()
