"""Images and datastores: registering (file, URL, empty datablock), errors that
leave nothing behind, use by VMs, and the CONTEXT CD-ROM."""
from __future__ import annotations

import hashlib
import http.server
import io
import threading
from pathlib import Path
from typing import Iterator

import pycdlib
import pytest
from lxml import etree

from conftest import Engine, validate
from one.core import transfer
from one.core.views import vm_view
from one.states import ImageState, LcmState as L, VmState as S

VM = "CPU = 1 MEMORY = 64"  # what every VM must ask for
ALLOCATE, ACTION, NO_EXISTS = 0x4000, 0x800, 0x400


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _image(engine: Engine, iid: int) -> etree._Element:
    return engine.doc("one.image.info", iid)


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_register_from_a_file(engine: Engine, tmp_path: Path) -> None:
    disk = tmp_path / "base.img"
    disk.write_bytes(b"\x01" * 3_000_000)
    iid = engine.rpc.ok("one.image.allocate", f'NAME = base PATH = "{disk}" DESCRIPTION = "a disk"', 1)
    doc = validate(engine.rpc.ok("one.image.info", iid), "image.xsd")
    assert doc.findtext("STATE") == str(ImageState.READY) and doc.findtext("SIZE") == "3"
    source = Path(doc.findtext("SOURCE"))
    assert source.parent == tmp_path / "datastores" / "1"
    assert hashlib.sha256(source.read_bytes()).digest() == hashlib.sha256(disk.read_bytes()).digest()
    assert doc.findtext("TEMPLATE/DESCRIPTION") == "a disk"
    validate(engine.rpc.ok("one.imagepool.info", -2, -1, -1), "image_pool.xsd")


def test_register_from_a_url_and_an_unreachable_one(engine: Engine, tmp_path: Path, web: str) -> None:
    (tmp_path / "www" / "remote.img").write_bytes(b"\x02" * 2_500_000)
    iid = engine.rpc.ok("one.image.allocate", f'NAME = r PATH = "{web}/remote.img"', 1)
    doc = _image(engine, iid)
    assert doc.findtext("STATE") == str(ImageState.READY)
    assert Path(doc.findtext("SOURCE")).read_bytes() == b"\x02" * 2_500_000
    bad = engine.rpc.ok("one.image.allocate", 'NAME = gone PATH = "http://127.0.0.1:1/none.img"', 1)
    doc = _image(engine, bad)
    assert doc.findtext("STATE") == str(ImageState.ERROR)
    assert "Error copying image" in doc.findtext("TEMPLATE/ERROR")
    assert _files(tmp_path / "datastores" / "1") == [Path(_image(engine, iid).findtext("SOURCE")).name]


def test_empty_datablocks(engine: Engine) -> None:
    ext4 = engine.rpc.ok("one.image.allocate", "NAME = data TYPE = DATABLOCK SIZE = 16 FS = ext4", 1)
    source = Path(_image(engine, ext4).findtext("SOURCE"))
    assert source.stat().st_size == 16 * 2**20
    assert source.read_bytes()[1080:1082] == b"\x53\xef"  # ext4 magic
    raw = engine.rpc.ok("one.image.allocate", "NAME = raw TYPE = DATABLOCK SIZE = 4", 1)
    assert Path(_image(engine, raw).findtext("SOURCE")).read_bytes() == b"\0" * 4 * 2**20


def test_bad_registrations_leave_nothing(engine: Engine, tmp_path: Path) -> None:
    cases = {
        'NAME = a PATH = "/no/such/file"': "Cannot read PATH",
        "NAME = b": "needs PATH, SOURCE",
        "NAME = c TYPE = DATABLOCK SIZE = 1000000000": "Not enough space",
        "NAME = d TYPE = FLOPPY SIZE = 1": "Unknown image TYPE",
        "NAME = e TYPE = KERNEL SIZE = 1": "files datastore",
        'NAME = f PATH = "/etc/hostname" SOURCE = "/x"': "not both",
    }
    for text, message in cases.items():
        assert message in engine.rpc.fails("one.image.allocate", text, 1, code=ALLOCATE), text
    assert "system datastore" in engine.rpc.fails("one.image.allocate", "NAME = g SIZE = 1", 0,
                                                  code=ALLOCATE)
    engine.rpc.fails("one.image.allocate", "NAME = h SIZE = 1", 9, code=NO_EXISTS)
    assert engine.rpc.ok("one.imagepool.info", -2, -1, -1) == "<IMAGE_POOL></IMAGE_POOL>"
    assert _files(tmp_path / "datastores" / "1") == []


def test_failed_datablock_leaves_no_file(engine: Engine, tmp_path: Path) -> None:
    iid = engine.rpc.ok("one.image.allocate", "NAME = x TYPE = DATABLOCK SIZE = 1 FS = nofs", 1)
    assert _image(engine, iid).findtext("STATE") == str(ImageState.ERROR)
    assert "mkfs.nofs" in _image(engine, iid).findtext("TEMPLATE/ERROR")
    assert _files(tmp_path / "datastores" / "1") == []


def test_vms_use_images(engine: Engine, tmp_path: Path) -> None:
    hid = engine.host("h0")
    engine.monitor()
    os_img = engine.rpc.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 2", 1)
    pers = engine.rpc.ok("one.image.allocate", "NAME = p TYPE = DATABLOCK SIZE = 2 PERSISTENT = YES", 1)
    vid = engine.vm(f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {os_img} ] DISK = [ IMAGE = p ]", hid)
    disks = engine.doc("one.vm.info", vid).findall("TEMPLATE/DISK")
    assert [d.findtext("TARGET") for d in disks] == ["hde", "hdf"]
    assert [(d.findtext("CLONE"), d.findtext("SAVE")) for d in disks] == [("YES", "NO"), ("NO", "YES")]
    assert disks[0].findtext("SOURCE") == _image(engine, os_img).findtext("SOURCE")
    assert _image(engine, os_img).findtext("STATE") == str(ImageState.USED)
    assert _image(engine, pers).findtext("STATE") == str(ImageState.USED_PERS)
    assert _image(engine, os_img).findtext("RUNNING_VMS") == "1"
    assert "cannot be used now" in engine.rpc.fails("one.vm.allocate", f"{VM} DISK = [ IMAGE = p ]", False,
                                                    code=ALLOCATE)
    assert "VMs use it" in engine.rpc.fails("one.image.delete", os_img, code=ACTION)
    other = engine.vm(f"{VM} DISK = [ IMAGE_ID = {os_img} ]")  # non-persistent: shared
    engine.rpc.ok("one.vm.action", "terminate", other)
    engine.rpc.ok("one.vm.action", "terminate", vid)
    engine.settle()
    assert engine.phase(vid) == (S.DONE, 0)
    assert _image(engine, pers).findtext("STATE") == str(ImageState.READY)
    assert _image(engine, os_img).findtext("RUNNING_VMS") == "0"
    source = Path(_image(engine, os_img).findtext("SOURCE"))
    engine.rpc.ok("one.image.delete", os_img)
    assert not source.exists()


def test_persistent_disks_go_back_to_their_image(engine: Engine) -> None:
    pers = engine.rpc.ok("one.image.allocate", "NAME = p TYPE = DATABLOCK SIZE = 1 PERSISTENT = YES", 1)
    vid = engine.vm("CPU = 1 MEMORY = 8 DISK = [ IMAGE = p ] DISK = [ TYPE = swap, SIZE = 4 ]")
    view = vm_view(engine.oned.managers.pools.vms.get(vid), engine.oned.config)
    steps = [str(s) for s in transfer.epilog(view)]
    assert steps[0].startswith("MV") and steps[0].endswith(_image(engine, pers).findtext("SOURCE"))
    assert steps[-1].startswith("DELETE")


def test_image_management(engine: Engine, tmp_path: Path) -> None:
    iid = engine.rpc.ok("one.image.allocate", "NAME = m TYPE = DATABLOCK SIZE = 1", 1)
    engine.rpc.ok("one.image.enable", iid, False)
    assert _image(engine, iid).findtext("STATE") == str(ImageState.DISABLED)
    assert "cannot be used now" in engine.rpc.fails("one.vm.allocate", f"{VM} DISK = [ IMAGE_ID = {iid} ]",
                                                    False, code=ALLOCATE)
    engine.rpc.ok("one.image.enable", iid, True)
    engine.rpc.ok("one.image.persistent", iid, True)
    engine.rpc.ok("one.image.chtype", iid, "OS")
    engine.rpc.ok("one.image.rename", iid, "renamed")
    engine.rpc.ok("one.image.update", iid, "LABEL = x", 1)
    engine.rpc.ok("one.image.update", iid, "COLOR", "blue")     # classic form
    engine.rpc.ok("one.image.rmattr", iid, "LABEL")
    engine.rpc.ok("one.image.publish", iid, True)
    doc = _image(engine, iid)
    assert (doc.findtext("NAME"), doc.findtext("TYPE"), doc.findtext("PERSISTENT")) == ("renamed", "0", "1")
    assert doc.findtext("TEMPLATE/COLOR") == "blue" and doc.find("TEMPLATE/LABEL") is None
    assert doc.findtext("PERMISSIONS/OTHER_U") == "1"
    copy = engine.rpc.ok("one.image.clone", iid, "copy")
    assert _image(engine, copy).findtext("STATE") == str(ImageState.READY)
    assert _image(engine, iid).findtext("CLONES/ID") == str(copy)
    engine.rpc.fails("one.image.chtype", iid, "KERNEL", code=0x1000)
    engine.rpc.fails("one.image.chtype", iid, "FLOPPY", code=0x1000)


def test_delete_keeps_a_registered_source_in_any_state(engine: Engine, tmp_path: Path) -> None:
    outside = tmp_path / "operator.img"
    outside.write_bytes(b"\x03" * 1024)
    iid = engine.rpc.ok("one.image.allocate", f'NAME = kept SOURCE = "{outside}" SIZE = 1', 1)
    engine.rpc.ok("one.image.enable", iid, False)
    engine.rpc.ok("one.image.delete", iid)
    engine.rpc.fails("one.image.info", iid, code=NO_EXISTS)
    assert outside.read_bytes() == b"\x03" * 1024


def test_datastores(engine: Engine) -> None:
    pool = etree.fromstring(engine.rpc.ok("one.datastorepool.info").encode())
    assert [d.findtext("NAME") for d in pool] == ["system", "default", "files"]
    assert int(pool[1].findtext("TOTAL_MB")) > 0 and int(pool[1].findtext("FREE_MB")) > 0
    engine.rpc.ok("one.datastore.update", 1, 'TM_MAD = "dummy"\nLABEL = "x"', 0)
    assert "Unknown TM driver" in engine.rpc.fails("one.datastore.update", 1, 'TM_MAD = "nope"', 0,
                                                   code=0x1000)
    assert engine.doc("one.datastore.info", 1).findtext("TM_MAD") == "dummy"  # nothing saved


def test_context_cdrom(engine: Engine, tmp_path: Path) -> None:
    hid = engine.host("h0")
    engine.monitor()
    extra = tmp_path / "init.sh"
    extra.write_text("echo hello\n")
    engine.rpc.ok("one.vn.allocate", 'NAME = lan VN_MAD = dummy GATEWAY = 10.9.0.1 DNS = 10.9.0.2 '
                  'NETWORK_MASK = 255.255.255.0 AR = [ TYPE = IP4, IP = 10.9.0.10, SIZE = 5 ]', -1)
    vid = engine.vm(f'CPU = 1 MEMORY = 64 NIC = [ NETWORK = lan ] CONTEXT = [ NETWORK = YES, '
                    f'HOSTNAME = "$NAME", SSH_PUBLIC_KEY = "ssh-ed25519 AAAA it\'s me", FILES = "{extra}" ]',
                    hid)
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    iso_path = tmp_path / "vms" / str(vid) / "context.iso"
    iso = pycdlib.PyCdlib()
    iso.open(str(iso_path))
    try:
        assert iso.pvd.volume_identifier.strip() == b"CONTEXT"
        script = io.BytesIO()
        iso.get_file_from_iso_fp(script, joliet_path="/context.sh")
        files = io.BytesIO()
        iso.get_file_from_iso_fp(files, rr_path="/init.sh")
    finally:
        iso.close()
    lines = script.getvalue().decode().splitlines()
    assert lines[0] == "# Context variables generated by OpenNebula"
    for line in ("ETH0_IP='10.9.0.10'", "ETH0_MAC='02:00:0a:09:00:0a'", "ETH0_GATEWAY='10.9.0.1'",
                 "ETH0_DNS='10.9.0.2'", "ETH0_MASK='255.255.255.0'", f"HOSTNAME='one-{vid}'",
                 "SSH_PUBLIC_KEY='ssh-ed25519 AAAA it'\\''s me'", "NETWORK='YES'"):
        assert line in lines, line
    assert files.getvalue() == b"echo hello\n"
    log = Path(engine.oned.managers.logs.path(vid)).read_text()
    assert f"CONTEXT frontend:{iso_path}" in log


def test_missing_context_file_fails_the_prolog(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    vid = engine.vm('CPU = 1 MEMORY = 8 CONTEXT = [ FILES = "/no/such/file" ]', hid)
    assert engine.phase(vid) == (S.ACTIVE, L.PROLOG_FAILURE)
    assert "/no/such/file" in engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")


def test_disk_saveas_needs_the_epilog_to_write(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    base = engine.rpc.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 1", 1)
    vid = engine.vm(f"CPU = 1 MEMORY = 8 DISK = [ IMAGE_ID = {base} ]", hid)
    saved = engine.rpc.ok("one.vm.disksaveas", vid, 0, "snapshot", "", -1)
    assert _image(engine, saved).findtext("STATE") == str(ImageState.LOCKED)
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/DISK/SAVE_AS") == str(saved)
    assert "already saved" in engine.rpc.fails("one.vm.disksaveas", vid, 0, "again", "", -1, code=ACTION)
    engine.rpc.fails("one.vm.disksaveas", vid, 7, "x", "", -1, code=0x1000)
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    doc = _image(engine, saved)   # the dummy TM writes nothing: the image says so
    assert doc.findtext("STATE") == str(ImageState.ERROR) and "was not saved" in doc.findtext("TEMPLATE/ERROR")
    pending = engine.vm("CPU = 1 MEMORY = 8")
    assert "Wrong state" in engine.rpc.fails("one.vm.disksaveas", pending, 0, "y", "", -1, code=ACTION)
