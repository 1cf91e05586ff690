"""A plain user (outside the oneadmin group) against restricted attributes and
sources: what reaches the front-end's files, the hosts' devices or other users'
things is refused with AUTHORIZATION naming the attribute; oneadmin keeps them."""
from __future__ import annotations

import http.server
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from conftest import Caller, Engine, start_oned
from one.acl_syntax import parse
from one.core.image_sources import SourcePolicy, copy_file, download
from one.errors import AuthorizationError
from one.pool.template import Template
from one.states import ImageState

AUTHZ, ALLOCATE = 0x200, 0x4000


@pytest.fixture
def eve(engine: Engine) -> Caller:
    """A user of the users group who may also create networks (OpenNebula's rules for it)."""
    uid = engine.rpc.ok("one.user.allocate", "eve", "pw", "core", [])
    for rule in (f"#{uid} NET/* CREATE", f"#{uid} CLUSTER/#0 ADMIN"):
        engine.rpc.ok("one.acl.addrule", *(f"{n:x}" for n in parse(rule)))
    return engine.rpc.as_user("eve:pw")


@pytest.fixture
def safe_file() -> Iterator[Path]:
    """A file in /var/tmp, the default SAFE_DIRS."""
    fd, name = tempfile.mkstemp(dir="/var/tmp", suffix=".img")
    os.write(fd, b"\x05" * 4096)
    os.close(fd)
    yield Path(name)
    os.unlink(name)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files; /hop redirects to the same server by its loopback address."""

    def do_GET(self) -> None:
        if self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/remote.img")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web(tmp_path: Path) -> Iterator[int]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "remote.img").write_bytes(b"\x02" * 3000)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Handler(*a, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def _state(engine: Engine, iid: int) -> int:
    return int(engine.doc("one.image.info", iid).findtext("STATE"))


# -- image PATH -----------------------------------------------------------------
def test_image_path_to_oneds_own_files_is_refused(engine: Engine, eve: Caller, tmp_path: Path,
                                                  safe_file: Path) -> None:
    link = Path(tempfile.mktemp(dir="/var/tmp"))
    link.symlink_to(tmp_path / "one_auth")
    try:
        for path in (tmp_path / "one_auth", tmp_path / "one.db", link,
                     f"/var/tmp/../..{tmp_path}/one.db", "/etc/shadow"):
            message = eve.fails("one.image.allocate", f'NAME = x PATH = "{path}"', 1, code=AUTHZ)
            assert str(path) in message
    finally:
        link.unlink()
    assert "<ID>" not in engine.rpc.ok("one.imagepool.info", -2, -1, -1)
    iid = eve.ok("one.image.allocate", f'NAME = ok PATH = "{safe_file}"', 1)  # inside SAFE_DIRS
    assert _state(engine, iid) == ImageState.READY
    engine.rpc.ok("one.image.allocate", f'NAME = mine PATH = "{tmp_path / "one_auth"}"', 1)  # admin


def test_safe_dirs_of_the_datastore(engine: Engine, eve: Caller, safe_file: Path) -> None:
    engine.rpc.ok("one.datastore.update", 1, 'RESTRICTED_DIRS = "/var/tmp"\nSAFE_DIRS = "/srv"', 1)
    assert "SAFE_DIRS (/srv)" in eve.fails("one.image.allocate", f'NAME = x PATH = "{safe_file}"', 1,
                                            code=AUTHZ)
    engine.rpc.ok("one.datastore.update", 1, 'RESTRICTED_DIRS = "/etc"', 1)
    assert eve.ok("one.image.allocate", f'NAME = x PATH = "{safe_file}"', 1) >= 0  # not restricted


def test_image_source_is_restricted(engine: Engine, eve: Caller, safe_file: Path) -> None:
    message = eve.fails("one.image.allocate", 'NAME = x SOURCE = "/etc/shadow"', 1, code=AUTHZ)
    assert message.endswith("Image Template includes a restricted attribute SOURCE")
    iid = eve.ok("one.image.allocate", f'NAME = x PATH = "{safe_file}" LABEL = a', 1)
    eve.fails("one.image.update", iid, 'SOURCE = "/etc/shadow"', 1, code=AUTHZ)
    eve.fails("one.image.update", iid, "SOURCE", "/etc/shadow", code=AUTHZ)  # classic form
    eve.ok("one.image.update", iid, "LABEL = b", 1)
    engine.rpc.ok("one.image.update", iid, 'SOURCE = "/etc/shadow"', 1)  # oneadmin may
    eve.ok("one.image.update", iid, 'SOURCE = "/etc/shadow"\nLABEL = c', 0)  # unchanged: allowed
    assert engine.rpc.ok("one.image.allocate", "NAME = y SOURCE = /dev/null", 1) >= 0


def test_the_copy_checks_the_file_it_opened(tmp_path: Path) -> None:
    """A PATH swapped for a symlink (or a FIFO) after the request was checked is refused."""
    secret = tmp_path / "one_auth"
    secret.write_text("oneadmin:x\n")
    link = Path(tempfile.mktemp(dir="/var/tmp"))
    link.symlink_to(secret)
    fifo = Path(tempfile.mktemp(dir="/var/tmp"))
    os.mkfifo(fifo)
    policy = SourcePolicy.of(Template(), (str(secret),))
    try:
        with pytest.raises(AuthorizationError, match="oned's own files"):
            copy_file(str(link), str(tmp_path / "out"), policy)
        with pytest.raises(OSError, match="not a regular file"):
            copy_file(str(fifo), str(tmp_path / "out"), policy)
    finally:
        link.unlink()
        fifo.unlink()
    assert not (tmp_path / "out").exists()


# -- image URLs -------------------------------------------------------------------
@pytest.mark.parametrize("url", ["file:///etc/shadow", "ftp://127.0.0.1/x", "http://127.0.0.1:{port}/remote.img",
                                 "http://localhost:{port}/remote.img", "http://[::1]/x",
                                 "http://0.0.0.0:{port}/remote.img", "http://169.254.169.254/latest",
                                 "http://[::ffff:127.0.0.1]:{port}/remote.img"])
def test_urls_to_local_addresses_or_other_schemes_are_refused(engine: Engine, eve: Caller, web: int,
                                                              url: str) -> None:
    url = url.format(port=web)
    assert "is refused" in eve.fails("one.image.allocate", f'NAME = x PATH = "{url}"', 1, code=AUTHZ)
    assert "<ID>" not in engine.rpc.ok("one.imagepool.info", -2, -1, -1)


def test_a_safe_url_host_cannot_redirect_to_loopback(engine: Engine, eve: Caller, web: int,
                                                     tmp_path: Path) -> None:
    engine.rpc.ok("one.datastore.update", 1, 'SAFE_URL_HOSTS = "localhost"', 1)
    direct = eve.ok("one.image.allocate", f'NAME = direct PATH = "http://localhost:{web}/remote.img"', 1)
    assert _state(engine, direct) == ImageState.READY
    hop = eve.ok("one.image.allocate", f'NAME = hop PATH = "http://localhost:{web}/hop"', 1)
    doc = engine.doc("one.image.info", hop)
    assert int(doc.findtext("STATE")) == ImageState.ERROR
    assert "Image URL host '127.0.0.1' is refused" in doc.findtext("TEMPLATE/ERROR")
    assert not Path(doc.findtext("SOURCE")).exists()
    assert not Path(doc.findtext("SOURCE") + ".part").exists()
    # oneadmin downloads from wherever it likes, redirects included
    admin = engine.rpc.ok("one.image.allocate", f'NAME = a PATH = "http://localhost:{web}/hop"', 1)
    assert _state(engine, admin) == ImageState.READY


def test_downloads_connect_only_to_checked_addresses(tmp_path: Path, web: int) -> None:
    """The check is made on the address connected to, whatever the caller checked before."""
    target = tmp_path / "out"
    with pytest.raises(AuthorizationError, match="127.0.0.1"):
        download(f"http://127.0.0.1:{web}/remote.img", str(target), SourcePolicy.of(Template(), ()))
    assert not target.exists()


# -- VMs --------------------------------------------------------------------------
def test_context_files_are_restricted(engine: Engine, eve: Caller, safe_file: Path) -> None:
    message = eve.fails("one.vm.allocate", 'CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES = "/etc/shadow" ]', False,
                        code=AUTHZ)
    assert message.endswith("VM Template includes a restricted attribute CONTEXT/FILES")
    assert "CONTEXT/FILES_DS" in eve.fails(
        "one.vm.allocate", "CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES_DS = \"/etc/shadow:'s'\" ]", False, code=AUTHZ)
    theirs = engine.rpc.ok("one.image.allocate", f'NAME = theirs TYPE = CONTEXT PATH = "{safe_file}"', 2)
    mine = eve.ok("one.image.allocate", f'NAME = mine TYPE = CONTEXT PATH = "{safe_file}"', 2)
    disk = eve.ok("one.image.allocate", f'NAME = disk PATH = "{safe_file}"', 1)
    eve.fails("one.vm.allocate", f'CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES_DS = "$FILE[IMAGE_ID={theirs}]" ]',
              False, code=AUTHZ)
    assert "files datastore" in eve.fails(
        "one.vm.allocate", f'CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES_DS = "$FILE[IMAGE_ID={disk}]" ]', False,
        code=ALLOCATE)
    vid = eve.ok("one.vm.allocate", 'CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES_DS = "$FILE[IMAGE=\\"mine\\"]" ]', False)
    source = engine.doc("one.image.info", mine).findtext("SOURCE")
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/CONTEXT/FILES_DS") == f"{source}:'mine'"
    assert engine.rpc.ok("one.vm.allocate", 'CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES = "/etc/hostname" ]', False) >= 0


def test_disks_without_an_image_cannot_name_front_end_files(engine: Engine, eve: Caller) -> None:
    for disk, attribute in (('SOURCE = "/etc/shadow", SAVE = YES, PERSISTENT = YES', "DISK/SOURCE"),
                            ('TYPE = fs, SIZE = 1, SAVE_AS_SOURCE = "/etc/shadow"', "DISK/SAVE_AS_SOURCE"),
                            ("TYPE = fs, SIZE = 1, SAVE_AS = 0", "DISK/SAVE_AS"),
                            ("TYPE = fs, SIZE = 1, TOTAL_IOPS_SEC = 99999", "DISK/TOTAL_IOPS_SEC")):
        message = eve.fails("one.vm.allocate", f"CPU = 0.1 MEMORY = 8 DISK = [ {disk} ]", False, code=AUTHZ)
        assert message.endswith(f"restricted attribute {attribute}")
    assert eve.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 8 DISK = [ TYPE = fs, SIZE = 1 ]", False) >= 0
    assert engine.rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 8 DISK = [ SOURCE = /dev/null ]", False) >= 0


def test_nics_need_a_network_and_take_its_attributes(engine: Engine, eve: Caller) -> None:
    nid = engine.rpc.ok("one.vn.allocate", "NAME = lan VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, "
                        "SIZE = 10 ]", -1)
    engine.rpc.ok("one.vn.chmod", nid, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    for nic in ("BRIDGE = br0, MAC = 02:00:0a:00:00:09", "IP = 10.0.0.5", "VLAN_ID = 7, PHYDEV = eth0"):
        eve.fails("one.vm.allocate", f"CPU = 0.1 MEMORY = 8 NIC = [ {nic} ]", False, code=AUTHZ)
    assert "names no NETWORK" in eve.fails("one.vm.allocate", "CPU = 0.1 MEMORY = 8 NIC = [ IP = 10.0.0.5 ]", False,
                                           code=AUTHZ)
    for nic, attribute in (("MAC = 02:00:0a:00:00:05", "NIC/MAC"), ("BRIDGE = br9", "NIC/BRIDGE"),
                           ("VLAN_ID = 7", "NIC/VLAN_ID"), ("PHYDEV = eth9", "NIC/PHYDEV"),
                           ("VN_MAD = 802.1Q", "NIC/VN_MAD")):
        message = eve.fails("one.vm.allocate", f"CPU = 0.1 MEMORY = 8 NIC = [ NETWORK_ID = {nid}, {nic} ]", False,
                            code=AUTHZ)
        assert message.endswith(f"restricted attribute {attribute}")
    vid = eve.ok("one.vm.allocate", f"CPU = 0.1 MEMORY = 8 NIC = [ NETWORK_ID = {nid}, IP = 10.0.0.3 ]", False)
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/NIC/IP") == "10.0.0.3"
    assert engine.rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 8 NIC = [ BRIDGE = br0 ]", False) >= 0


def test_vm_update_of_restricted_attributes(engine: Engine, eve: Caller) -> None:
    vid = eve.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 8 LABEL = a", False)
    assert eve.fails("one.vm.update", vid, "CPU_COST = 0", 1, code=AUTHZ).endswith("CPU_COST")
    engine.rpc.ok("one.vm.update", vid, "CPU_COST = 5", 1)
    eve.ok("one.vm.update", vid, "CPU_COST = 5\nLABEL = b", 0)   # unchanged: allowed
    eve.fails("one.vm.update", vid, "CPU_COST = 0", 0, code=AUTHZ)


# -- networks ------------------------------------------------------------------------
def test_users_cannot_place_networks_on_host_devices(engine: Engine, eve: Caller) -> None:
    for text, attribute in (("VN_MAD = 802.1Q PHYDEV = eth0 VLAN_ID = 7", "VN_MAD"),
                            ("TYPE = RANGED NETWORK_ADDRESS = 10.1.0.0 PHYDEV = eth0", "PHYDEV"),
                            ("TYPE = RANGED NETWORK_ADDRESS = 10.1.0.0 BRIDGE = br0", "BRIDGE")):
        message = eve.fails("one.vn.allocate", f"NAME = n {text}", -1, code=AUTHZ)
        assert message.endswith(f"Virtual Network Template includes a restricted attribute {attribute}")
    nid = eve.ok("one.vn.allocate", "NAME = n TYPE = RANGED NETWORK_ADDRESS = 10.1.0.0", -1)
    for method, text, attribute in (("one.vn.update", "VLAN_ID = 5", "VLAN_ID"),
                                    ("one.vn.add_ar", "AR = [ TYPE = IP4, IP = 10.2.0.1, SIZE = 2, "
                                     "PHYDEV = eth0 ]", "AR/PHYDEV"),
                                    ("one.vn.update_ar", "AR = [ AR_ID = 0, VLAN_ID = 9 ]", "AR/VLAN_ID")):
        args = (nid, text, 1) if method == "one.vn.update" else (nid, text)
        assert eve.fails(method, *args, code=AUTHZ).endswith(attribute)
    doc = engine.doc("one.vn.info", nid)
    assert doc.findtext("VLAN_ID") is None and doc.findtext("PHYDEV") in (None, "")
    eve.ok("one.vn.update", nid, "LABEL = x", 1)
    admin = engine.rpc.ok("one.vn.allocate", "NAME = n VN_MAD = 802.1Q PHYDEV = eth0 VLAN_ID = 7 "
                          "AR = [ TYPE = IP4, IP = 10.3.0.1, SIZE = 4 ]", -1)
    engine.rpc.ok("one.vn.chmod", admin, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    mine = eve.ok("one.vn.reserve", admin, "NAME = mine SIZE = 1")  # OpenNebula's way for users
    assert engine.doc("one.vn.info", mine).findtext("PHYDEV") == "eth0"


def test_unknown_vn_mad_is_refused_at_once(engine: Engine) -> None:
    message = engine.rpc.fails("one.vn.allocate", "NAME = n VN_MAD = nope", -1, code=ALLOCATE)
    assert "Unknown VNM driver 'nope' (known: 802.1Q, bridge, dummy, ebtables, vxlan)" in message
    assert "<ID>" not in engine.rpc.ok("one.vnpool.info", -2, -1, -1)
    nid = engine.rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy", -1)
    engine.rpc.fails("one.vn.update", nid, "VN_MAD = nope", 1, code=ALLOCATE)
    assert engine.doc("one.vn.info", nid).findtext("VN_MAD") == "dummy"


# -- configuration ----------------------------------------------------------------------
def test_restricted_lists_come_from_oned_conf(tmp_path: Path) -> None:
    oned = start_oned(tmp_path, config_text='VM_RESTRICTED_ATTR = "MEMORY_COST"\n'
                                            'VM_RESTRICTED_ATTR = "context/files"\nIMAGE_RESTRICTED_ATTR = ""\n')
    try:
        rpc = Caller(oned.endpoint)
        rpc.ok("one.user.allocate", "eve", "pw", "core", [])
        eve = rpc.as_user("eve:pw")
        assert eve.fails("one.vm.allocate", "CPU = 0.1 MEMORY = 8 MEMORY_COST = 1", False, code=AUTHZ).endswith(
            "MEMORY_COST")
        eve.fails("one.vm.allocate", 'CPU = 0.1 MEMORY = 8 CONTEXT = [ FILES = "/etc/shadow" ]', False, code=AUTHZ)
        assert eve.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 8 CPU_COST = 1", False) >= 0
        assert eve.ok("one.image.allocate", "NAME = x SOURCE = /dev/null", 1) >= 0
    finally:
        oned.stop()
