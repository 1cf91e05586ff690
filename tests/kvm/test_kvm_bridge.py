"""A real QEMU guest's tap lands on the bridge the `bridge` network driver made.

The bridge has no address and no uplink (nothing leaves it); its name is
unique to the test and the driver removes it when the VM goes.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from conftest import Engine, start_oned
from guest import Libvirtd, boot_disk
from test_e2e_qemu import _destroy_ours, datastores, libvirtd  # noqa: F401 - fixtures
from one.states import LcmState as L, VmState as S


def _ports(bridge: str) -> list[str]:
    out = subprocess.run(["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True)
    return [link["ifname"] for link in json.loads(out.stdout or "[]")] if out.returncode == 0 else []


def _exists(link: str) -> bool:
    return subprocess.run(["ip", "link", "show", link], capture_output=True).returncode == 0


@pytest.fixture
def bridge() -> Iterator[str]:
    name = f"onet{os.getpid() % 100000}"
    yield name
    if _exists(name):
        subprocess.run(["ip", "link", "delete", name], capture_output=True)


def test_guest_tap_lands_on_the_networks_bridge(tmp_path: Path, datastores: Path,  # noqa: F811
                                                 libvirtd: Libvirtd, bridge: str) -> None:  # noqa: F811
    _destroy_ours()
    oned = start_oned(tmp_path, config_text=f'DATASTORE_LOCATION = "{datastores}"\n')
    engine = Engine(oned)
    try:
        engine.rpc.ok("one.host.allocate", "localhost", "kvm", "kvm", -1)
        engine.monitor()
        engine.rpc.ok("one.vn.allocate", f'NAME = lan VN_MAD = bridge BRIDGE = "{bridge}" '
                      'AR = [ TYPE = ETHER, SIZE = 4 ]', -1)
        vid = engine.rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 64 DISK = [ TARGET = hda ] "
                            "NIC = [ NETWORK = lan, MODEL = virtio ] GRAPHICS = [ TYPE = vnc, PORT = -1 ]",
                            True)
        boot_disk(datastores / "0" / str(vid) / "disk.0")
        for directory in (datastores / "0", datastores / "0" / str(vid)):
            directory.chmod(0o755)
        engine.rpc.ok("one.vm.deploy", vid, 0)
        engine.settle()
        assert engine.phase(vid) == (S.ACTIVE, L.RUNNING), \
            engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
        assert f"one-{vid}-0" in _ports(bridge)   # libvirt put the tap on the driver's bridge
        engine.rpc.ok("one.vm.action", "terminate-hard", vid)
        engine.settle()
        assert engine.phase(vid) == (S.DONE, 0)
        assert not _exists(bridge)                # clean removed the bridge it made
    finally:
        _destroy_ours()
        oned.stop()
