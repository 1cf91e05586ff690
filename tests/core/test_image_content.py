"""What an image's file is: qcow2 FORMAT and virtual size, and copies a crash cut."""
from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from conftest import ADMIN_PASSWORD, Caller, Engine, backend_url, start_oned
from one.states import ImageState

MB = 2**20


@pytest.fixture
def qcow2(tmp_path: Path) -> Path:
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "100M"], check=True)
    assert path.stat().st_size < MB  # a sparse header, not 100 MB of bytes
    return path


def test_qcow2_records_its_format_and_virtual_size(engine: Engine, qcow2: Path, tmp_path: Path) -> None:
    iid = engine.rpc.ok("one.image.allocate", f'NAME = q PATH = "{qcow2}"', 1)
    doc = engine.doc("one.image.info", iid)
    assert (doc.findtext("STATE"), doc.findtext("FORMAT"), doc.findtext("SIZE")) == (
        str(ImageState.READY), "qcow2", "100")
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * (MB + 1))
    doc = engine.doc("one.image.info", engine.rpc.ok("one.image.allocate", f'NAME = r PATH = "{raw}"', 1))
    assert (doc.findtext("FORMAT"), doc.findtext("SIZE")) == ("raw", "2")


def test_qcow2_downloaded_from_a_url(engine: Engine, qcow2: Path) -> None:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(qcow2.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{qcow2.name}"
        doc = engine.doc("one.image.info", engine.rpc.ok("one.image.allocate", f'NAME = q PATH = "{url}"', 1))
    finally:
        server.shutdown()
        server.server_close()
    assert (doc.findtext("STATE"), doc.findtext("FORMAT"), doc.findtext("SIZE")) == (
        str(ImageState.READY), "qcow2", "100")


class _Stalling(http.server.BaseHTTPRequestHandler):
    """Announces 8 MB, sends 1 MB, then waits (bounded) until the test ends."""

    release = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(8 * MB))
        self.end_headers()
        self.wfile.write(b"\x07" * MB)
        self.wfile.flush()
        self.release.wait(60)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stalling() -> Iterator[str]:
    _Stalling.release = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/big.img"
    _Stalling.release.set()
    server.shutdown()
    server.server_close()


def _oned_process(var: Path) -> tuple[subprocess.Popen[str], Caller]:
    (var / "one_auth").write_text(f"oneadmin:{ADMIN_PASSWORD}\n")
    env = {**os.environ, "ONE_AUTH": str(var / "one_auth")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "oned"), "-f", "--var", str(var), "--port", "0",
                             "--no-sched", "--db", backend_url(var)], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:   # bounded: oned prints its endpoint once it listens, or exits
        if line.startswith("oned listening on "):
            return proc, Caller(line.split()[-1])
    raise AssertionError(f"oned exited with {proc.wait()}")


def test_copy_cut_by_a_crash_is_an_error_after_restart(tmp_path: Path, stalling: str) -> None:
    proc, rpc = _oned_process(tmp_path)
    try:
        iid = rpc.ok("one.image.allocate", f'NAME = big PATH = "{stalling}"', 1)
        source = Path(etree.fromstring(rpc.ok("one.image.info", iid).encode()).findtext("SOURCE"))
        partial = source.with_name(source.name + ".part")
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size >= MB):
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    oned = start_oned(tmp_path)
    try:
        doc = Engine(oned).doc("one.image.info", iid)
        assert doc.findtext("STATE") == str(ImageState.ERROR)
        assert "oned stopped during the copy" in doc.findtext("TEMPLATE/ERROR")
        assert sorted(p.name for p in source.parent.iterdir()) == []
        Caller(oned.endpoint).ok("one.image.delete", iid, False)
    finally:
        oned.stop()


def test_images_awaiting_a_saved_disk_stay_locked_across_restarts(tmp_path: Path) -> None:
    import one_dummy
    one_dummy.reset()
    engine = Engine(start_oned(tmp_path))
    try:
        hid = engine.host("h0")
        engine.monitor()
        base = engine.rpc.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 1", 1)
        vid = engine.vm(f"CPU = 0.1 MEMORY = 8 DISK = [ IMAGE_ID = {base} ]", hid)
        saved = engine.rpc.ok("one.vm.disksaveas", vid, 0, "snapshot", "", -1)
    finally:
        engine.oned.stop()
    oned = start_oned(tmp_path)
    try:
        assert Engine(oned).doc("one.image.info", saved).findtext("STATE") == str(ImageState.LOCKED)
    finally:
        oned.stop()
        one_dummy.reset()
