"""pyone reads accounting and showback documents into its own bindings."""
from __future__ import annotations

import time

import pyone
import pytest

from conftest import ADMIN, Engine
from one.core.lifecycle import records


def test_pyone_reads_history_and_showback(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [int(time.mktime((2026, 3, 5, 8, 0, 0, 0, 0, -1)))]
    monkeypatch.setattr(records, "now", lambda: clock[0])
    host = engine.host("h0")
    engine.monitor()
    template = "CPU = 2 MEMORY = 512 CPU_COST = 1 MEMORY_COST = 0.5"
    vids = [engine.vm(template, host) for _ in range(2)]
    clock[0] += 3 * 3600
    one = pyone.OneServer(engine.rpc.endpoint, session=ADMIN)
    history = one.vmpool.accounting(-2, -1, -1).HISTORY
    assert [(h.OID, h.SEQ, h.HOSTNAME, h.ETIME) for h in history] == [(v, 0, "h0", 0) for v in vids]
    assert history[0].VM.TEMPLATE["CPU_COST"] == "1"
    # pyone 7.3 indexes the empty string calculateshowback answers (as oned does): plain XML-RPC.
    assert engine.rpc.ok("one.vmpool.calculateshowback", 3, 2026, 3, 2026) == ""
    rows = one.vmpool.showback(-2, 3, 2026, 3, 2026).SHOWBACK
    assert [(s.VMID, s.MONTH, s.YEAR, s.HOURS, s.CPU_COST, s.MEMORY_COST, s.TOTAL_COST)
            for s in rows] == [(v, 3, 2026, 3.0, 6.0, 768.0, 774.0) for v in vids]
    with pytest.raises(pyone.OneException):
        one.vmpool.accounting(-9, -1, -1)
