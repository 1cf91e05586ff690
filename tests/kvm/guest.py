"""Real-guest helpers: a boot sector that prints on COM1, libvirtd started by
hand, and reading a domain's serial console through libvirt."""
from __future__ import annotations

import grp
import os
import subprocess
import threading
import time
from pathlib import Path

import libvirt

LINE = b"ONE GUEST ALIVE"
# 16-bit real mode: print LINE on COM1 (0x3F8), wait 0.5 s (int 15h/86h), repeat.
_CODE = bytes([0x31, 0xC0, 0x8E, 0xD8, 0xFC, 0xBA, 0xF8, 0x03, 0xBE, 0x1F, 0x7C, 0xAC, 0x84, 0xC0,
               0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xB4, 0x86, 0xB9, 0x07, 0x00, 0xBA, 0x20, 0xA1, 0xCD,
               0x15, 0xEB, 0xE6])


def boot_disk(path: Path) -> None:
    """A 1 MiB raw disk whose boot sector prints LINE twice a second forever."""
    sector = _CODE + LINE + b"\r\n\x00"
    sector += b"\x00" * (510 - len(sector)) + b"\x55\xaa"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sector + b"\x00" * (1024 * 1024 - 512))


def _answers(uri: str) -> bool:
    return subprocess.run(["virsh", "-c", uri, "version"], capture_output=True).returncode == 0


def _pid(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    """Running, not a zombie (PID 1 of a container may not reap daemons)."""
    if pid is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Libvirtd:
    """The host's libvirtd; started (and later stopped, by PID) if it is not running."""

    uri = "qemu:///system"

    def __init__(self) -> None:
        self.started: list[int] = []

    def ensure(self) -> None:
        if os.path.exists("/dev/kvm"):
            # libvirt re-probes QEMU on every call unless /dev/kvm is root:kvm 0660
            os.chown("/dev/kvm", 0, grp.getgrnam("kvm").gr_gid)
            os.chmod("/dev/kvm", 0o660)
        if not _answers(self.uri):
            self.start()

    def start(self) -> None:
        for daemon, pidfile in (("virtlogd", "/run/virtlogd.pid"), ("libvirtd", "/run/libvirtd.pid")):
            if not _alive(_pid(pidfile)):
                subprocess.run([daemon, "-d"], check=True)
                time.sleep(0.2)
                pid = _pid(pidfile)
                if pid:
                    self.started.append(pid)
        deadline = time.monotonic() + 30
        while not _answers(self.uri):
            assert time.monotonic() < deadline, "libvirtd did not answer"
            time.sleep(0.2)

    def restart(self) -> None:
        """Kill libvirtd (guests keep running) and start it again."""
        pid = _pid("/run/libvirtd.pid")
        assert pid, "libvirtd has no pid file"
        os.kill(pid, 15)
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid in self.started:
            self.started.remove(pid)
        self.start()

    def stop_started(self) -> None:
        for pid in reversed(self.started):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass


_loop_started = threading.Event()


def _event_loop() -> None:
    """libvirt streams need its event loop running in some thread."""
    if not _loop_started.is_set():
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=_run_forever, daemon=True).start()
        _loop_started.set()


def _run_forever() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def read_console(uri: str, name: str, wanted: bytes = LINE, times: int = 1,
                 seconds: float = 30.0) -> bytes:
    """Serial output of a domain until `wanted` was seen `times` times."""
    _event_loop()
    conn = libvirt.open(uri)
    stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    conn.lookupByName(name).openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    seen, deadline = b"", time.monotonic() + seconds
    try:
        while seen.count(wanted) < times and time.monotonic() < deadline:
            data = stream.recv(4096)
            if data == -2:
                time.sleep(0.05)
                continue
            seen += data
    finally:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        conn.close()
    return seen
