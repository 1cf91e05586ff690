"""Hosts made of this machine, and what the tests check on their disks."""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from sshd import SshHost, free_port


@dataclass
class Host:
    """A host as the drivers reach it (`name`) and as the front-end inspects it (`root`)."""

    name: str
    root: Path              # what the host sees at SYSTEM_DS
    system_ds: Path
    sshd: SshHost

    def file(self, path: str) -> Path:
        """Where a path under SYSTEM_DS on this host is, for the front-end."""
        return self.root / Path(path).relative_to(self.system_ds)

    def accepted_logins(self) -> int:
        """SSH handshakes this host accepted so far, as its sshd logged them."""
        return self.sshd.log.read_text(errors="replace").count("Accepted publickey")


def common_port(addresses: tuple[str, ...]) -> int:
    """A port nothing listens on at any of the addresses: SSH_PORT is one for all hosts."""
    while True:
        port = free_port(addresses[0])
        try:
            for address in addresses[1:]:
                with socket.socket() as probe:
                    probe.bind((address, port))
            return port
        except OSError:
            continue


def start_host(address: str, port: int, front_end_key: Path,
               prefix: list[str] | None = None) -> SshHost:
    """An sshd that lets the front-end's key in (besides the key SshHost made for it)."""
    sshd = SshHost(address, port, prefix=prefix or [])
    sshd.start()
    with sshd.authorized_keys.open("a") as keys:
        keys.write(front_end_key.with_suffix(".pub").read_text())
    return sshd


def sessions(sshd: SshHost) -> list[int]:
    """The PIDs of the per-connection processes of a running sshd (its children)."""
    assert sshd.process is not None
    pid = sshd.process.pid
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def end_sessions(sshd: SshHost, grace: float = 0.0) -> None:
    """End sshd's connections by PID, after `grace` seconds for closing ones to end alone.

    Returns once the listener has reaped them: sessions outlive a stopped
    listener, and PID 1 here reaps no orphan, so each would stay a zombie."""
    deadline = time.monotonic() + grace
    while sessions(sshd) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in sessions(sshd):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while sessions(sshd) and time.monotonic() < deadline:
        time.sleep(0.02)


def stop_host(sshd: SshHost) -> None:
    """Stop an sshd (if still running) and every session it served, all reaped."""
    if sshd.process is not None:
        end_sessions(sshd, grace=2.0)
    sshd.stop()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
