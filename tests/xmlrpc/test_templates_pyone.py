"""VM templates through OpenNebula's own Python client (pyone), as automation uses them."""
from __future__ import annotations

import pyone
import pytest

from conftest import ADMIN
from one.daemon import Oned


@pytest.fixture
def one(oned: Oned) -> pyone.OneServer:
    return pyone.OneServer(oned.endpoint, session=ADMIN)


def test_template_life_through_pyone(one: pyone.OneServer) -> None:
    nid = one.vn.allocate({"TEMPLATE": {"NAME": "lan", "VN_MAD": "dummy",
                           "AR": {"TYPE": "IP4", "IP": "10.2.0.10", "SIZE": "8"}}}, -1)
    tid = one.template.allocate({"TEMPLATE": {"NAME": "small", "CPU": "1", "MEMORY": "128",
                                 "NIC": {"NETWORK_ID": str(nid)}}})
    template = one.template.info(tid, False, False)
    assert template.NAME == "small" and template.TEMPLATE["MEMORY"] == "128"
    vids = [one.template.instantiate(tid, f"vm{i}", False, {"TEMPLATE": {"MEMORY": "256"}}, False)
            for i in range(3)]
    vms = [one.vm.info(vid) for vid in vids]
    assert [vm.NAME for vm in vms] == ["vm0", "vm1", "vm2"]
    assert {vm.TEMPLATE["MEMORY"] for vm in vms} == {"256"}
    assert [vm.TEMPLATE["NIC"]["IP"] for vm in vms] == ["10.2.0.10", "10.2.0.11", "10.2.0.12"]
    assert vms[0].TEMPLATE["TEMPLATE_ID"] == str(tid)
    one.template.update(tid, 'DESCRIPTION = "small VMs"', 1)
    copy = one.template.clone(tid, "copy", False)
    assert [t.NAME for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE] == ["small", "copy"]
    one.template.lock(copy, 1, False)
    assert one.template.info(copy).LOCK.LOCKED == 1
    with pytest.raises(pyone.OneException, match="locked"):
        one.template.instantiate(copy, "", False, "", False)
    one.template.unlock(copy)
    one.template.delete(copy, False)
    with pytest.raises(pyone.OneNoExistsException):
        one.template.info(copy)
    persistent = one.vm.info(one.template.instantiate(tid, "p", False, "", True))
    assert persistent.TEMPLATE["CLONING_TEMPLATE_ID"] == str(tid)
    assert one.template.info(int(persistent.TEMPLATE["TEMPLATE_ID"])).NAME == "p"
