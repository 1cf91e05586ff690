"""Disk and NIC hotplug on a real running QEMU guest, through oned, with libvirt's
live domain XML checked after each step.

The guest is a boot sector with no operating system: it cannot let go of a PCI
device, so the devices are USB ones (a usb disk, a usb-net NIC), which QEMU
unplugs by itself. The system datastore's transfer driver here is `dummy`, so the
test places the new disk's file where the transfer driver would (disk.<DISK_ID>).
The NIC's network uses the `bridge` driver: its pre makes the bridge the tap
lands on, its clean removes it after the detach.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import libvirt
from lxml import etree

from conftest import Engine, start_oned, validate
from guest import LINE, Libvirtd, boot_disk, read_console
from test_e2e_qemu import GUEST, _destroy_ours, datastores, libvirtd  # noqa: F401 - fixtures
from test_kvm_bridge import _exists, _ports, bridge  # noqa: F401 - fixture
from one.states import LcmState as L, VmState as S


def _live(vid: int) -> etree._Element:
    connection = libvirt.open(Libvirtd.uri)
    try:
        return etree.fromstring(connection.lookupByName(f"one-{vid}").XMLDesc(0).encode())
    finally:
        connection.close()


def _settled_running(engine: Engine, vid: int) -> etree._Element:
    engine.settle()
    doc = validate(engine.rpc.ok("one.vm.info", vid), "vm.xsd")
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING), doc.findtext("USER_TEMPLATE/ERROR")
    assert doc.findtext("USER_TEMPLATE/ERROR") is None
    return doc


def test_a_running_guest_gets_a_disk_and_a_nic_and_loses_them(
        tmp_path: Path, datastores: Path, libvirtd: Libvirtd, bridge: str) -> None:  # noqa: F811
    _destroy_ours()
    oned = start_oned(tmp_path, config_text=f'DATASTORE_LOCATION = "{datastores}"\n')
    engine = Engine(oned)
    rpc = engine.rpc
    try:
        rpc.ok("one.host.allocate", "localhost", "kvm", "kvm", -1)
        engine.monitor()
        rpc.ok("one.vn.allocate", f'NAME = lan VN_MAD = bridge BRIDGE = "{bridge}" '
                                  'AR = [ TYPE = ETHER, SIZE = 4 ]', -1)
        vid = rpc.ok("one.vm.allocate", GUEST, True)
        directory = datastores / "0" / str(vid)
        boot_disk(directory / "disk.0")
        for path in (directory.parent, directory):
            path.chmod(0o755)
        rpc.ok("one.vm.deploy", vid, 0)
        _settled_running(engine, vid)

        new_disk = directory / "disk.1"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(new_disk), "1M"], check=True)
        new_disk.chmod(0o666)
        rpc.ok("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1, FORMAT = qcow2, "
                                     "DEV_PREFIX = sd, BUS = usb ]")
        doc = _settled_running(engine, vid)
        assert doc.findtext("TEMPLATE/DISK[DISK_ID='1']/TARGET") == "sda"
        disk = _live(vid).find("devices/disk/target[@dev='sda']/..")
        assert disk is not None, "no sda in the live domain"
        assert (disk.find("source").get("file"), disk.find("driver").get("type"),
                disk.find("target").get("bus")) == (str(new_disk), "qcow2", "usb")

        rpc.ok("one.vm.attachnic", vid, 'NIC = [ NETWORK = lan, MODEL = "usb-net" ]')
        doc = _settled_running(engine, vid)
        mac = doc.findtext("TEMPLATE/NIC[NIC_ID='0']/MAC")
        nic = _live(vid).find(f"devices/interface/mac[@address='{mac}']/..")
        assert nic is not None, f"no interface {mac} in the live domain"
        assert (nic.find("source").get("bridge"), nic.find("model").get("type"),
                nic.find("target").get("dev")) == (bridge, "usb-net", f"one-{vid}-0")
        assert _ports(bridge) == [f"one-{vid}-0"]

        rpc.ok("one.vm.detachnic", vid, 0)
        _settled_running(engine, vid)
        assert _live(vid).find("devices/interface") is None
        assert not _exists(bridge), "the bridge driver's clean ran after the detach"

        rpc.ok("one.vm.detach", vid, 1)
        doc = _settled_running(engine, vid)
        assert [d.get("dev") for d in _live(vid).iterfind("devices/disk/target")] == ["hda"]
        assert doc.find("TEMPLATE/DISK[DISK_ID='1']") is None
        assert LINE in read_console(Libvirtd.uri, f"one-{vid}")   # the guest ran on throughout
        rpc.ok("one.vm.action", "terminate-hard", vid)
        engine.settle()
    finally:
        _destroy_ours()
        oned.stop()
