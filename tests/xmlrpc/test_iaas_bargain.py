"""Issue 12 end to end through pyone: a template instantiated by a user under a
quota, the quota raised, then the period's accounting and its showback cost.

The life cycle's clock is the test's, so hours and costs are exact.
"""
from __future__ import annotations

import time

import pyone
import pytest

from conftest import ADMIN, Engine
from one.core.lifecycle import records

HOUR = 3600
# Costs are restricted attributes: oneadmin writes them into the template users instantiate.
TEMPLATE = {"TEMPLATE": {"NAME": "small", "CPU": "1", "MEMORY": "512",
                         "CPU_COST": "0.5", "MEMORY_COST": "0.001"}}
COST_PER_VM = 10 * (1 * 0.5 + 512 * 0.001)           # 10 hours: 5 + 5.12


def test_template_quota_accounting_showback(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [int(time.mktime((2026, 3, 5, 8, 0, 0, 0, 0, -1)))]
    monkeypatch.setattr(records, "now", lambda: clock[0])
    host = engine.host("h0", "CPU = 800 MEMORY = 16777216")  # room for every VM
    engine.monitor()
    admin = pyone.OneServer(engine.rpc.endpoint, session=ADMIN)
    uid = admin.user.allocate("ann", "pw", "core", [])
    admin.user.quota(uid, "VM = [ VMS = 3 ]")
    tid = admin.template.allocate(TEMPLATE)
    admin.template.chown(tid, -1, 1)                      # into the users group,
    admin.template.chmod(tid, 1, 1, 0, 1, 0, 0, 0, 0, 0)   # whose members may USE it
    ann = pyone.OneServer(engine.rpc.endpoint, session="ann:pw")

    def instantiate(name: str) -> int:
        vid = ann.template.instantiate(tid, name, False, {"TEMPLATE": {}}, False)
        admin.vm.deploy(vid, host, False, -1, "")
        engine.settle()
        return vid

    vids = [instantiate(f"node{i}") for i in range(3)]
    with pytest.raises(pyone.OneAuthorizationException,
                       match=r"limit of 3 reached for VMS quota in VM\. Requested: 1, Limit: 3, "
                             r"Used: 3"):
        ann.template.instantiate(tid, "node3", False, "", False)
    assert len(admin.vmpool.info(-2, -1, -1, -1).VM) == 3  # the refusal left nothing behind
    admin.user.quota(uid, "VM = [ VMS = 4 ]")
    vids.append(instantiate("node3"))
    assert {ann.vm.info(v).STATE for v in vids} == {3}       # all ACTIVE
    assert ann.user.info(-1).VM_QUOTA.VM[0].VMS_USED == "4"

    clock[0] += 10 * HOUR
    for vid in vids:
        ann.vm.action("terminate-hard", vid)
    engine.settle()
    history = ann.vmpool.accounting(-3, -1, -1).HISTORY
    assert sorted((h.OID, h.ETIME - h.STIME) for h in history) == [(v, 10 * HOUR) for v in vids]

    # pyone indexes the empty string calculateshowback answers (as oned's): plain XML-RPC.
    assert engine.rpc.ok("one.vmpool.calculateshowback", 3, 2026, 3, 2026) == ""
    rows = ann.vmpool.showback(-3, 3, 2026, 3, 2026).SHOWBACK
    assert sorted((s.VMID, s.UNAME, s.HOURS, s.TOTAL_COST) for s in rows) == [
        (v, "ann", 10.0, pytest.approx(COST_PER_VM)) for v in vids]
    assert sum(s.TOTAL_COST for s in rows) == pytest.approx(4 * COST_PER_VM)
