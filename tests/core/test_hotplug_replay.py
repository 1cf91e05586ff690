"""A hotplug caught by an oned crash after its driver acted: resumed, applied once."""
from __future__ import annotations

import pytest

from test_replay import RUNNING, Cloud, cloud  # noqa: F401 - the fixture
from one.states import LcmState as L, VmState as S


@pytest.mark.parametrize("method, arg, phase, step", [
    ("one.vm.attach", "DISK = [ TYPE = fs, SIZE = 1 ]", L.HOTPLUG, "attach_disk"),
    ("one.vm.attachnic", 'NIC = [ BRIDGE = "br0", MAC = "02:00:00:00:00:01" ]', L.HOTPLUG_NIC,
     "attach_nic"),
])
def test_a_hotplug_done_before_the_crash_is_kept_and_not_done_twice(
        cloud: Cloud, method: str, arg: str, phase: int, step: str) -> None:  # noqa: F811
    vid = cloud.engine.vm("CPU = 1 MEMORY = 64", cloud.h0)
    cloud.engine.rpc.ok(method, vid, arg)   # the driver acted; its reply waits, lost below
    assert cloud.engine.phase(vid) == (S.ACTIVE, phase)
    cloud.restart()
    assert cloud.engine.phase(vid) == RUNNING
    kind = "DISK" if step == "attach_disk" else "NIC"
    vectors = cloud.engine.doc("one.vm.info", vid).findall(f"TEMPLATE/{kind}")
    assert len(vectors) == 1 and vectors[0].find("ATTACH") is None
    assert [x["applied"] for x in cloud.journal(vid, step)] == [True, False]
    cloud.terminate_and_check(vid)
