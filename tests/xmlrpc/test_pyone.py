"""OpenNebula's own Python client (pyone) drives the server end to end."""
from __future__ import annotations

import pyone
import pytest

from conftest import ADMIN
from one.daemon import Oned


@pytest.fixture
def one(oned: Oned) -> pyone.OneServer:
    return pyone.OneServer(oned.endpoint, session=ADMIN)


def test_version_and_hosts(one: pyone.OneServer) -> None:
    assert one.system.version() == "7.4.0"
    hid = one.host.allocate("node1", "dummy", "dummy", -1)
    host = one.host.info(hid)
    assert host.NAME == "node1" and host.IM_MAD == "dummy" and host.STATE == 0
    assert [h.ID for h in one.hostpool.info().HOST] == [hid]
    one.host.status(hid, 1)
    assert one.host.info(hid).STATE == 4


def test_vm_life_without_drivers(one: pyone.OneServer) -> None:
    nid = one.vn.allocate({"TEMPLATE": {"NAME": "lan", "VN_MAD": "dummy",
                           "AR": {"TYPE": "IP4", "IP": "10.1.0.10", "SIZE": "3"}}}, -1)
    vid = one.vm.allocate({"TEMPLATE": {"NAME": "web", "MEMORY": "256", "CPU": "1",
                           "NIC": {"NETWORK_ID": str(nid)},
                           "CONTEXT": {"ETH0_IP": "$NIC[IP]", "VMID": "$VMID"}}}, True)
    vm = one.vm.info(vid)
    assert vm.NAME == "web" and vm.STATE == 2  # HOLD
    assert vm.TEMPLATE["NIC"]["IP"] == "10.1.0.10"
    assert vm.TEMPLATE["NIC"]["MAC"] == "02:00:0a:01:00:0a"
    assert vm.TEMPLATE["CONTEXT"] == {"ETH0_IP": "10.1.0.10", "VMID": str(vid)}
    one.vm.action("release", vid)
    assert one.vm.info(vid).STATE == 1  # PENDING
    listed = one.vmpool.info(-2, -1, -1, -1)
    assert [v.ID for v in listed.VM] == [vid]
    assert one.vn.info(nid).USED_LEASES == 1
    one.vm.action("terminate", vid)
    done = one.vm.info(vid)
    assert done.STATE == 6 and done.ETIME >= done.STIME
    assert one.vmpool.info(-2, -1, -1, -1).VM == []
    assert [v.ID for v in one.vmpool.infoextended(-2, -1, -1, -2).VM] == [vid]
    assert one.vn.info(nid).USED_LEASES == 0


def test_errors_become_pyone_exceptions(one: pyone.OneServer, oned: Oned) -> None:
    with pytest.raises(pyone.OneNoExistsException):
        one.vm.info(42)
    with pytest.raises(pyone.OneInternalException, match="line 1, column"):
        one.vm.allocate("MEMORY = [", False)
    with pytest.raises(pyone.OneActionException):
        one.vm.action("poweroff", one.vm.allocate("CPU = 1 MEMORY=1", False))
    with pytest.raises(pyone.OneAuthenticationException):
        pyone.OneServer(oned.endpoint, session="oneadmin:wrong").vm.info(0)
    with pytest.raises(pyone.OneApiException):
        one.vm.allocate(7, False)


def test_users_groups_and_permissions(one: pyone.OneServer, oned: Oned) -> None:
    uid = one.user.allocate("bob", "pw", "core", [])
    assert one.user.info(uid).GNAME == "users"
    bob = pyone.OneServer(oned.endpoint, session="bob:pw")
    mine = bob.vm.allocate("CPU = 1 MEMORY = 64", False)
    theirs = one.vm.allocate("CPU = 1 MEMORY = 64", False)
    assert bob.vm.info(mine).UNAME == "bob"
    with pytest.raises(pyone.OneAuthorizationException):
        bob.vm.info(theirs)
    assert [v.ID for v in bob.vmpool.info(-2, -1, -1, -1).VM] == [mine]
    with pytest.raises(pyone.OneAuthorizationException):
        bob.host.allocate("evil", "dummy", "dummy", -1)
    token = bob.user.login("bob", "", 60, -1)
    assert pyone.OneServer(oned.endpoint, session=f"bob:{token}").vm.info(mine).ID == mine
