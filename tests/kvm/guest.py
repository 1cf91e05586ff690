"""Real-guest helpers: a boot sector that prints on COM1, libvirtd started by
hand, a second libvirtd in a mount namespace of its own reached over ssh (a
migration target), and reading a domain's serial console through libvirt."""
from __future__ import annotations

import grp
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import libvirt

from sshd import SshHost, terminate

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


def vm_boot_disk(datastores: Path, vid: int, system_ds: int = 0) -> None:
    """The boot disk as the VM's disk.0 in its system directory, which QEMU
    (running as another user) must be able to reach."""
    directory = datastores / str(system_ds) / str(vid)
    boot_disk(directory / "disk.0")
    for path in (directory.parent, directory):
        path.chmod(0o755)


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
        """Stop what `start` started, and wait until it is gone: a libvirtd still
        answering while it exits would make the next session's `ensure` skip its start."""
        for pid in reversed(self.started):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)


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


def domains(uri: str) -> list[str]:
    """Names of the running domains of a libvirtd."""
    conn = libvirt.open(uri)
    try:
        return [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
    finally:
        conn.close()


def destroy_domains(uri: str, using: str = "") -> None:
    """Destroy the running domains whose definition mentions `using` (all by
    default): a test's own VMs are told apart by their directory, as other
    sessions may run guests of the same name on the same libvirtd."""
    conn = libvirt.open(uri)
    try:
        for domain in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            if using in domain.XMLDesc(0):
                domain.destroy()
    finally:
        conn.close()


class NamespacedLibvirtd:
    """A second libvirtd on this machine, reached over ssh as a remote host is.

    Why: live migration needs two hypervisor hosts. A libvirtd differs from the
    machine's own only by its directories, so in a private mount namespace
    directories of its own are bind-mounted over /run/libvirt, /var/lib/libvirt,
    /var/log/libvirt (fresh), /var/cache/libvirt and /etc/libvirt (copies; the
    configuration with a host UUID of its own, as libvirt will not migrate to a
    host with its own UUID). virtlogd, libvirtd and an sshd on `address` run in
    that namespace, so qemu+ssh://<address>/system reaches this libvirtd. The
    network is shared: incoming migrations listen on `address`, on ports (and
    VNC displays) the machine's libvirtd does not use. /var/tmp is not
    overlaid: VM disks there are seen by both.
    """

    MIGRATION_PORTS = (49252, 49315)   # the machine's libvirtd: 49152-49215
    DISPLAY_PORTS = (6900, 6999)       # the machine's libvirtd: 5900 up
    # Copied, not fresh: the configuration to change, and QEMU's probed
    # capabilities (valid for the same binaries; probing again costs seconds).
    COPIED = ("/etc/libvirt", "/var/cache/libvirt")
    OWN_DIRS = ("/run/libvirt", "/var/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt",
                "/var/log/libvirt")

    def __init__(self, address: str = "127.0.0.2", ssh_port: int = 0) -> None:
        self.address = address
        self.root = Path(tempfile.mkdtemp(prefix=f"libvirtd-{address}-"))
        self.sshd = SshHost(address, ssh_port)
        self.holder: subprocess.Popen[bytes] | None = None
        self.virtlogd: subprocess.Popen[bytes] | None = None
        self.libvirtd: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """How drivers reach it: ssh with this host's keys and port, host key checked."""
        return f"qemu+ssh://{self.address}/system?command={self.sshd.ssh}"

    @property
    def socket_uri(self) -> str:
        """Its socket as seen from outside the namespace: for set-up and clean-up."""
        return f"qemu+unix:///system?socket={self.root}/run-libvirt/libvirt-sock"

    def _overlays(self) -> dict[str, Path]:
        """Directory of the machine -> what replaces it in the namespace."""
        targets = dict.fromkeys(os.path.realpath(d) for d in (*self.OWN_DIRS, "/etc/libvirt"))
        return {t: self.root / t.strip("/").replace("/", "-") for t in targets}

    def _prepare(self) -> None:
        for target, source in self._overlays().items():
            if target in self.COPIED:
                shutil.copytree(target, source, symlinks=True)
            else:
                source.mkdir()
                source.chmod(0o755)  # QEMU runs as another user and must get through
        etc = self._overlays()["/etc/libvirt"]
        for autostart in list(etc.rglob("autostart")):
            shutil.rmtree(autostart)  # no default network (a bridge, dnsmasq) nor pools
        _append(etc / "libvirtd.conf", f'host_uuid = "{uuid.uuid4()}"')
        _append(etc / "qemu.conf",
                f'migration_address = "{self.address}"', f'migration_host = "{self.address}"',
                f"migration_port_min = {self.MIGRATION_PORTS[0]}",
                f"migration_port_max = {self.MIGRATION_PORTS[1]}",
                f"remote_display_port_min = {self.DISPLAY_PORTS[0]}",
                f"remote_display_port_max = {self.DISPLAY_PORTS[1]}")

    def _enter_namespace(self) -> list[str]:
        """Start the process holding the namespace; returns how to run in it.

        The mounts are made by the unshared shell itself, after it made every
        mount private: none of them can show on the machine."""
        mounts = [f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}"
                  for target, source in self._overlays().items()]
        script = " && ".join([*mounts, "echo ready", "exec sleep infinity"])
        with (self.root / "namespace.log").open("wb") as log:
            self.holder = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        assert self.holder.stdout is not None
        with self.holder.stdout as said:
            if said.readline().strip() != b"ready":
                raise RuntimeError(f"namespace set-up failed: {self._logs()}")
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--"]

    def _daemon(self, enter: list[str], name: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("wb") as log:
            return subprocess.Popen([*enter, name, "-p", f"/run/libvirt/{name}.pid"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def start(self, timeout: float = 60.0) -> None:
        """Namespace, virtlogd, libvirtd, sshd; stops what it started if any fails."""
        try:
            self._prepare()
            enter = self._enter_namespace()
            self.virtlogd = self._daemon(enter, "virtlogd")
            self.libvirtd = self._daemon(enter, "libvirtd")
            self.sshd.prefix = enter
            self.sshd.start()
            self._wait_answers(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_answers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not _answers(self.socket_uri):
            gone = any(d is None or d.poll() is not None for d in (self.virtlogd, self.libvirtd))
            if gone or time.monotonic() > deadline:
                raise RuntimeError(f"libvirtd in the namespace did not answer: {self._logs()}")
            time.sleep(0.2)

    def _logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                         for log in sorted(self.root.glob("*.log")))

    def stop(self) -> None:
        """Everything by PID, reaped. Guests first (QEMU outlives libvirtd), then
        libvirtd before sshd, so that sshd still reaps the sessions that end."""
        if self.libvirtd is not None:
            try:
                destroy_domains(self.socket_uri)
            except libvirt.libvirtError:
                pass  # stopping goes on: the daemons below are what matters
            terminate(self.libvirtd)
        self.sshd.stop()
        for process in (self.virtlogd, self.holder):
            if process is not None:
                terminate(process)
        self.libvirtd = self.virtlogd = self.holder = None
        shutil.rmtree(self.root, ignore_errors=True)


def _append(path: Path, *lines: str) -> None:
    with path.open("a") as out:
        out.write("\n" + "\n".join(lines) + "\n")
