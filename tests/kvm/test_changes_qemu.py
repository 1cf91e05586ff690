"""Changes to a real running guest under oned (libvirtd + QEMU): a system snapshot taken
and reverted, vCPUs and memory resized live, a disk grown, a disk snapshot taken, with
libvirt's view of the domain checked after each step.

The guest is the boot sector of guest.py on a qcow2 disk (QEMU keeps snapshots inside
qcow2), booted with room to grow: VCPU 1 of VCPU_MAX 2, MEMORY 64 of MEMORY_MAX 128 with
free DIMM slots (MEMORY_RESIZE_MODE HOTPLUG: libvirt's live XML shows a plugged DIMM at
once, where a balloon waits for a guest driver the boot sector does not have).
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import libvirt
import pytest
from lxml import etree

from conftest import Engine, start_oned, validate
from guest import LINE, Libvirtd, boot_disk, destroy_domains, read_console
from one.states import LcmState as L, VmState as S
from test_e2e_qemu import libvirtd  # noqa: F401 - a fixture

GUEST = ("CPU = 0.1 VCPU = 1 VCPU_MAX = 2 MEMORY = 64 MEMORY_MAX = 128 "
         "MEMORY_RESIZE_MODE = HOTPLUG DISK = [ TARGET = hda, DRIVER = qcow2, SIZE = 1 ]")
RUNNING = (S.ACTIVE, L.RUNNING)


@pytest.fixture
def guest(tmp_path: Path, libvirtd: Libvirtd) -> Iterator[tuple[Engine, int, libvirt.virDomain]]:
    """oned with `localhost` and one VM running on it from a qcow2 boot disk."""
    datastores = Path(tempfile.mkdtemp(prefix="one-ds-", dir="/var/tmp"))
    datastores.chmod(0o755)
    oned = start_oned(tmp_path, config_text=f'DATASTORE_LOCATION = "{datastores}"\n')
    engine = Engine(oned)
    conn: libvirt.virConnect | None = None
    try:
        conn = libvirt.open(Libvirtd.uri)
        engine.rpc.ok("one.host.allocate", "localhost", "kvm", "kvm", -1)
        engine.monitor()
        vid = engine.rpc.ok("one.vm.allocate", GUEST, True)
        directory = datastores / "0" / str(vid)
        boot_disk(directory / "boot.raw")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2",
                        str(directory / "boot.raw"), str(directory / "disk.0")], check=True)
        for path in (datastores / "0", directory):
            path.chmod(0o755)
        engine.rpc.ok("one.vm.deploy", vid, 0)
        engine.settle()
        assert engine.phase(vid) == RUNNING, engine.doc("one.vm.info", vid).findtext(
            "USER_TEMPLATE/ERROR")
        yield engine, vid, conn.lookupByName(f"one-{vid}")
    finally:
        oned.stop()
        destroy_domains(Libvirtd.uri, str(datastores))
        if conn is not None:
            conn.close()
        shutil.rmtree(datastores, ignore_errors=True)


def _live(domain: libvirt.virDomain) -> etree._Element:
    return etree.fromstring(domain.XMLDesc(0))


def _settled(engine: Engine, vid: int) -> None:
    engine.settle()
    doc = engine.doc("one.vm.info", vid)
    assert engine.phase(vid) == RUNNING, doc.findtext("USER_TEMPLATE/ERROR")
    assert doc.find("USER_TEMPLATE/ERROR") is None, doc.findtext("USER_TEMPLATE/ERROR")


def test_snapshot_resize_and_disk_changes_on_a_real_guest(guest) -> None:
    engine, vid, domain = guest
    rpc = engine.rpc
    booted = _live(domain)
    assert (booted.findtext("vcpu"), booted.find("vcpu").get("current")) == ("2", "1")
    assert (booted.findtext("maxMemory"), booted.findtext("memory")) == (
        str(128 * 1024), str(64 * 1024))

    snap = rpc.ok("one.vm.snapshotcreate", vid, "booted")
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_SNAPSHOT)
    _settled(engine, vid)
    assert domain.snapshotListNames(0) == ["snap-0"]
    snapshot = etree.fromstring(domain.snapshotLookupByName("snap-0", 0).getXMLDesc(0))
    assert snapshot.findtext("state") == "running" and snapshot.findtext("name") == "snap-0"
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")

    rpc.ok("one.vm.resize", vid, "VCPU = 2 MEMORY = 128", False)
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_RESIZE)
    _settled(engine, vid)
    resized = _live(domain)
    assert resized.find("vcpu").get("current") in (None, "2"), etree.tostring(resized.find("vcpu"))
    assert domain.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2
    assert resized.findtext("memory") == str(128 * 1024)
    dimm = resized.find("devices/memory[@model='dimm']/target/size")
    assert dimm is not None and dimm.text == str(64 * 1024)

    disk = str(Path(resized.find("devices/disk/source").get("file")))
    rpc.ok("one.vm.diskresize", vid, 0, "8")
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_RESIZE)
    _settled(engine, vid)
    assert domain.blockInfo(disk, 0)[0] == 8 * 1024 * 1024
    assert _live(domain).find("devices/disk/driver").get("type") == "qcow2"

    rpc.ok("one.vm.snapshotrevert", vid, snap)
    _settled(engine, vid)
    reverted = _live(domain)
    assert domain.isActive() and reverted.find("vcpu").get("current") == "1", \
        "the guest came back as it was when snapshotted"
    assert domain.snapshotCurrent(0).getName() == "snap-0"
    assert LINE in read_console(Libvirtd.uri, f"one-{vid}")

    rpc.ok("one.vm.snapshotdelete", vid, snap)
    _settled(engine, vid)
    assert domain.snapshotListNames(0) == []
    assert engine.doc("one.vm.info", vid).find("TEMPLATE/SNAPSHOT") is None
