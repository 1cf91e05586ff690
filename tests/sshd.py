"""A real OpenSSH server on a loopback address: a "remote host" made of this machine.

Why: libvirt's qemu+ssh transport (and any driver that reaches hosts over ssh)
runs the system `ssh` binary, so a test that wants such a host needs a real
sshd that lets root in without prompts. Everything it needs - host key, client
key, known_hosts, client configuration - lives in a temporary directory: the
user's ~/.ssh is never read or written, and host keys are checked strictly.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

SSHD = "/usr/sbin/sshd"
# Debian's sshd will not start without its privilege separation directory,
# which only systemd would create; it is left in place (other sshds may use it).
PRIVSEP_DIR = Path("/run/sshd")


def free_port(address: str) -> int:
    """A port nothing listens on at `address` now: other sessions on this
    machine may run sshds on the same loopback address."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def _keygen(path: Path, comment: str) -> str:
    """A new ed25519 key pair at `path`; returns the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)
    return path.with_suffix(".pub").read_text().strip()


class SshHost:
    """An sshd on `address:port` letting root in with a key of its own.

    Port 0 picks a free one. `prefix` runs sshd through another command, e.g.
    `nsenter -t PID -m --` to serve from inside a mount namespace: commands run
    over ssh then see that namespace. Clients use `command(...)`/`run(...)`;
    the `ssh` wrapper script (the system ssh with this host's client
    configuration) wherever a program takes an ssh binary (libvirt's
    `command=` URI parameter); or the `config` file, a `Host` block, with
    `ssh -F` or an `Include` in an ssh_config.

    `netns` names a network namespace (`ip netns add`) that every session runs
    in while sshd itself listens here: the namespace becomes a host reachable
    on a loopback address, with network devices of its own.
    """

    def __init__(self, address: str, port: int = 22, prefix: Sequence[str] = (),
                 netns: str = "") -> None:
        self.address = address
        self.port = port or free_port(address)
        self.prefix = list(prefix)
        self.netns = netns
        self.dir = Path(tempfile.mkdtemp(prefix=f"sshd-{address}-"))
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "client_ed25519"
        self.known_hosts = self.dir / "known_hosts"
        self.authorized_keys = self.dir / "authorized_keys"
        self.config = self.dir / "ssh_config"
        self.ssh = self.dir / "ssh"
        self.log = self.dir / "sshd.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def config_text(self) -> str:
        """The client side: an ssh_config `Host` block that needs no prompt."""
        return (f"Host {self.address}\n"
                f"  Port {self.port}\n"
                "  User root\n"
                f"  IdentityFile {self.client_key}\n"
                "  IdentitiesOnly yes\n"
                f"  UserKnownHostsFile {self.known_hosts}\n"
                "  GlobalKnownHostsFile /dev/null\n"
                "  StrictHostKeyChecking yes\n"
                "  BatchMode yes\n"
                "  ConnectTimeout 5\n"
                "  LogLevel ERROR\n")

    def _server_config(self) -> str:
        return (f"ListenAddress {self.address}:{self.port}\n"
                f"HostKey {self.host_key}\n"
                f"PidFile {self.dir / 'sshd.pid'}\n"
                f"AuthorizedKeysFile {self.authorized_keys}\n"
                "PermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n"
                "UsePAM no\n"
                "StrictModes no\n"
                + (f'ForceCommand ip netns exec {self.netns} sh -c "$SSH_ORIGINAL_COMMAND"\n'
                   if self.netns else ""))

    def _write_files(self) -> Path:
        """Keys, known_hosts, both configurations and the wrapper; returns sshd_config."""
        host_public = _keygen(self.host_key, f"sshd-{self.address}")
        self.authorized_keys.write_text(_keygen(self.client_key, "root@test") + "\n")
        name = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        self.known_hosts.write_text(f"{name} {' '.join(host_public.split()[:2])}\n")
        self.config.write_text(self.config_text)
        self.ssh.write_text(f'#!/bin/sh\nexec ssh -F {self.config} "$@"\n')
        self.ssh.chmod(0o755)
        server_config = self.dir / "sshd_config"
        server_config.write_text(self._server_config())
        return server_config

    def start(self, timeout: float = 10.0) -> None:
        """New keys and configuration, then sshd in the foreground, as our child."""
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        server_config = self._write_files()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.prefix, SSHD, "-D", "-e", "-f", str(server_config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self._wait_listening(timeout)

    def _wait_listening(self, timeout: float) -> None:
        """sshd says so once bound: a port taken by another server is no success."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while "Server listening" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"sshd on {self.address}:{self.port} did not start: {log}")
            time.sleep(0.05)

    def command(self, *args: str) -> list[str]:
        """The ssh command line that runs `args` on this host as root."""
        return [str(self.ssh), self.address, *args]

    def run(self, cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a shell command line there; no stdin, so nothing can wait on input."""
        return subprocess.run(self.command(cmd), check=check, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)

    def stop(self) -> None:
        """Stop our sshd by PID, reap it, and drop the keys."""
        if self.process is not None:
            terminate(self.process)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SshHost:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def terminate(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; always reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
