"""End to end through a real client: pyone drives a threaded oned whose
scheduler and monitor run, with the dummy drivers."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

import pyone
import pytest

from conftest import ADMIN, start_oned
from one.daemon import Oned
from one.states import LcmState as L, VmState as S

CONFIG = "SCHED_INTERVAL = 1\nMONITORING_INTERVAL = 1\nMAX_HOST = 10\n"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Oned, pyone.OneServer]]:
    import one_dummy
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text=CONFIG)
    oned.start_engine()
    yield oned, pyone.OneServer(oned.endpoint, session=ADMIN)
    oned.stop()


def _wait(what: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _phase(one: pyone.OneServer, vid: int) -> tuple[int, int]:
    vm = one.vm.info(vid)
    return vm.STATE, vm.LCM_STATE


def _reach(one: pyone.OneServer, vid: int, phase: tuple[int, int]) -> None:
    _wait(lambda: _phase(one, vid) == phase)


def test_a_vm_lives_its_whole_life(live) -> None:
    oned, one = live
    h0 = one.host.allocate("node0", "dummy", "dummy", -1)
    h1 = one.host.allocate("node1", "dummy", "dummy", -1)
    _wait(lambda: all(one.host.info(h).STATE == 2 for h in (h0, h1)))
    nid = one.vn.allocate({"TEMPLATE": {"NAME": "lan", "VN_MAD": "dummy", "GATEWAY": "10.5.0.1",
                                        "AR": {"TYPE": "IP4", "IP": "10.5.0.10", "SIZE": "8"}}}, -1)
    vid = one.vm.allocate({"TEMPLATE": {
        "NAME": "web", "CPU": "1", "MEMORY": "256",
        "DISK": {"SOURCE": "/images/base.qcow2", "TARGET": "vda"},
        "NIC": {"NETWORK": "lan"},
        "CONTEXT": {"ETH0_IP": "$NIC[IP]", "GW": '$NETWORK[GATEWAY, NAME="lan"]'},
        "SCHED_REQUIREMENTS": 'NAME = "node0"'}}, False)
    _reach(one, vid, (S.ACTIVE, L.RUNNING))
    vm = one.vm.info(vid)
    assert vm.HISTORY_RECORDS.HISTORY[-1].HOSTNAME == "node0"
    assert vm.TEMPLATE["CONTEXT"] == {"ETH0_IP": "10.5.0.10", "GW": "10.5.0.1"}
    assert one.host.info(h0).HOST_SHARE.RUNNING_VMS == 1

    for action, rest, back in (("suspend", (S.SUSPENDED, 0), "resume"),
                               ("poweroff", (S.POWEROFF, 0), "resume")):
        one.vm.action(action, vid)
        _reach(one, vid, rest)
        one.vm.action(back, vid)
        _reach(one, vid, (S.ACTIVE, L.RUNNING))

    one.vm.action("stop", vid)
    _reach(one, vid, (S.STOPPED, 0))
    one.vm.action("resume", vid)             # back to PENDING: the scheduler places it again
    _reach(one, vid, (S.ACTIVE, L.RUNNING))

    one.vm.migrate(vid, h1, True)
    _wait(lambda: one.vm.info(vid).HISTORY_RECORDS.HISTORY[-1].HOSTNAME == "node1"
          and _phase(one, vid) == (S.ACTIVE, L.RUNNING))
    _wait(lambda: one.host.info(h0).HOST_SHARE.RUNNING_VMS == 0)

    one.vm.action("terminate", vid)
    _reach(one, vid, (S.DONE, 0))
    assert one.vn.info(nid).USED_LEASES == 0
    assert one.host.info(h1).HOST_SHARE.RUNNING_VMS == 0
    log = Path(oned.managers.logs.path(vid)).read_text()
    assert "New state is RUNNING" in log and "[VMM]" in log


def test_a_burst_is_placed_across_hosts(live) -> None:
    _, one = live
    hosts = [one.host.allocate(f"n{i}", "dummy", "dummy", -1) for i in range(3)]
    _wait(lambda: all(one.host.info(h).STATE == 2 for h in hosts))
    vids = [one.vm.allocate("CPU = 0.1\nMEMORY = 32", False) for _ in range(20)]
    _wait(lambda: all(_phase(one, v) == (S.ACTIVE, L.RUNNING) for v in vids))
    used = {one.vm.info(v).HISTORY_RECORDS.HISTORY[-1].HID for v in vids}
    assert used == set(hosts)  # striping spreads them
