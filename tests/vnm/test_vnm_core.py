"""Through the core: oned calls the `bridge` driver around a VM's life on a namespace host.

The host runs the dummy IM and VMM (so no tap ever appears), but its network
is real: oned's `pre` makes the network's bridge on the host before boot and
its `clean` removes it once the VM is gone.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import netns
import one_dummy
import pytest
from lxml import etree
from netns import Lab

from conftest import Caller, start_oned, until
from one.states import HostState, LcmState, VmState

NETWORK = ('NAME = "lan" VN_MAD = "bridge" BRIDGE = "onebr-core" '
           'AR = [ TYPE = "IP4", IP = "10.8.0.10", SIZE = "4" ]')
VM = 'NAME = "web" CPU = "0.1" MEMORY = "64" NIC = [ NETWORK = "lan" ]'


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with netns.lab(tmp_path_factory.mktemp("vnm-core")) as built:
        yield built


def _state(rpc: Caller, vid: int) -> tuple[int, int]:
    document = etree.fromstring(rpc.ok("one.vm.info", vid).encode())
    return int(document.findtext("STATE", "-1")), int(document.findtext("LCM_STATE", "-1"))


def _host_state(rpc: Caller, hid: int) -> int:
    return int(etree.fromstring(rpc.ok("one.host.info", hid).encode()).findtext("STATE", "-1"))


def test_oned_makes_and_removes_the_bridge_on_the_host(lab: Lab, tmp_path: Path) -> None:
    host = lab.hosts[0]
    settings = ", ".join(f'{key} = "{value}"' for key, value in lab.settings.items())
    config = ("MONITORING_INTERVAL = 1\nSCHED_INTERVAL = 1\n"
              f'VN_MAD = [ NAME = "bridge", {settings} ]\n')
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text=config)
    oned.start_engine()
    try:
        rpc = Caller(oned.endpoint)
        hid = rpc.ok("one.host.allocate", host.name, "dummy", "dummy", -1)
        rpc.ok("one.vn.allocate", NETWORK, -1)
        vid = rpc.ok("one.vm.allocate", VM, True)
        until(lambda: _host_state(rpc, hid) == HostState.MONITORED, "host monitored", 20)
        rpc.ok("one.vm.deploy", vid, hid)
        until(lambda: _state(rpc, vid) == (VmState.ACTIVE, LcmState.RUNNING), "VM running", 20)
        assert "onebr-core" in host.devices()

        rpc.ok("one.vm.action", "terminate-hard", vid)
        until(lambda: _state(rpc, vid)[0] == VmState.DONE, "VM done", 20)
        assert "onebr-core" not in host.devices()
    finally:
        oned.stop()
