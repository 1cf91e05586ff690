"""Images on a real KVM host: a registered image boots through the ssh
transfer driver, with its context CD-ROM, and leaves nothing behind; a
persistent image keeps what was written to the VM's disk."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from conftest import Engine, start_oned
from guest import LINE, Libvirtd, boot_disk, read_console
from test_e2e_qemu import _destroy_ours, datastores, libvirtd  # noqa: F401 - fixtures
from one.states import ImageState, LcmState as L, VmState as S

CONFIG = 'DATASTORE_LOCATION = "{}"\nTM_MAD_SYSTEM = "ssh"\nDEFAULT_TM_MAD = "ssh"\n'


@pytest.fixture
def host(tmp_path: Path, datastores: Path, libvirtd: Libvirtd) -> Iterator[Engine]:  # noqa: F811
    _destroy_ours()
    oned = start_oned(tmp_path, config_text=CONFIG.format(datastores))
    engine = Engine(oned)
    engine.rpc.ok("one.host.allocate", "localhost", "kvm", "kvm", -1)
    engine.monitor()
    yield engine
    _destroy_ours()
    oned.stop()


def _register(engine: Engine, image: Path, persistent: bool = False) -> int:
    iid = engine.rpc.ok("one.image.allocate", f'NAME = "{image.name}" PATH = "{image}" '
                        f'PERSISTENT = {"YES" if persistent else "NO"}', 1)
    assert engine.doc("one.image.info", iid).findtext("STATE") == str(ImageState.READY)
    return iid


def _boot(engine: Engine, iid: int, context: str = "") -> int:
    vid = engine.rpc.ok("one.vm.allocate", f"CPU = 0.1 MEMORY = 64 DISK = [ IMAGE_ID = {iid}, "
                        f"TARGET = hda ] GRAPHICS = [ TYPE = vnc, PORT = -1 ] {context}", False)
    engine.rpc.ok("one.vm.deploy", vid, 0)
    engine.settle()
    error = engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING), error
    return vid


def test_registered_image_boots_with_context(host: Engine, tmp_path: Path, datastores: Path) -> None:  # noqa: F811
    image = tmp_path / "boot.img"
    boot_disk(image)
    vid = _boot(host, _register(host, image), 'CONTEXT = [ HOSTNAME = "guest", NETWORK = "YES" ]')
    vm_dir = datastores / "0" / str(vid)
    assert (vm_dir / "disk.0").read_bytes() == image.read_bytes()   # cloned, not linked
    assert (vm_dir / "disk.1").read_bytes()[0x8001:0x8006] == b"CD001"  # the context ISO
    xml = subprocess.run(["virsh", "-c", Libvirtd.uri, "dumpxml", f"one-{vid}"], capture_output=True,
                         text=True, check=True).stdout
    assert f"{vm_dir}/disk.1" in xml and "device='cdrom'" in xml
    assert LINE in read_console(Libvirtd.uri, f"one-{vid}")
    host.rpc.ok("one.vm.action", "terminate-hard", vid)
    host.settle()
    assert host.phase(vid) == (S.DONE, 0)
    assert not vm_dir.exists()


def test_persistent_image_keeps_changes(host: Engine, tmp_path: Path, datastores: Path) -> None:  # noqa: F811
    image = tmp_path / "data.img"
    boot_disk(image)
    iid = _register(host, image, persistent=True)
    vid = _boot(host, iid)
    assert host.doc("one.image.info", iid).findtext("STATE") == str(ImageState.USED_PERS)
    disk = datastores / "0" / str(vid) / "disk.0"
    with open(disk, "r+b") as out:   # what the guest would have written
        out.seek(2**19)
        out.write(b"written inside the VM")
    host.rpc.ok("one.vm.action", "terminate-hard", vid)
    host.settle()
    assert host.phase(vid) == (S.DONE, 0)
    source = Path(host.doc("one.image.info", iid).findtext("SOURCE"))
    assert source.read_bytes()[2**19:2**19 + 21] == b"written inside the VM"
    assert host.doc("one.image.info", iid).findtext("STATE") == str(ImageState.READY)


def test_disk_saveas_writes_a_new_image(host: Engine, tmp_path: Path, datastores: Path) -> None:  # noqa: F811
    image = tmp_path / "os.img"
    boot_disk(image)
    vid = _boot(host, _register(host, image))
    disk = datastores / "0" / str(vid) / "disk.0"
    with open(disk, "r+b") as out:
        out.seek(2**19)
        out.write(b"kept in the new image")
    saved = host.rpc.ok("one.vm.disksaveas", vid, 0, "saved", "", -1)
    host.rpc.ok("one.vm.action", "terminate-hard", vid)
    host.settle()
    doc = host.doc("one.image.info", saved)
    assert doc.findtext("STATE") == str(ImageState.READY), doc.findtext("TEMPLATE/ERROR")
    assert Path(doc.findtext("SOURCE")).read_bytes()[2**19:2**19 + 21] == b"kept in the new image"
