"""Commands and byte streams on hosts: the executor that host-side drivers share.

Why one executor: the transfer drivers (and the network drivers next) all do
the same few things on a host - run a command, stream bytes in or out, move
or remove a path - and must reach hosts the same way. The front-end's own
host runs commands in a subprocess; any other host is reached over SSH
(paramiko) with its host key checked against a known_hosts file the operator
manages, and its connections are shared by every thread of the process.

Bytes always flow through this process: front-end files are read and written
directly, a host streams through `cat` (files) or `tar` (directories) on an
exec channel (see `shells`). So hosts never need to reach each other or the
front-end, and nothing is staged on disk on the way.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import socket
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from one.drivers.shells import (SSH_ERRORS, End, LocalShell, RemoteError, Shell, SshShell, parent,
                                pump, quote)
from one.errors import InternalError
from one.plugins.drivers import Location

__all__ = ["Remote", "RemoteError", "SshSettings", "parent", "quote"]

CONNECT_TIMEOUT = 10.0          # seconds for TCP, banner and authentication each
KEEPALIVE = 30                  # seconds: a host that vanished is noticed on an idle connection
# AES-GCM needs no separate MAC pass: the fastest cipher paramiko offers, by far.
FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
_BOOLEANS = {"yes": True, "true": True, "1": True, "on": True,
             "no": False, "false": False, "0": False, "off": False, "": False}


@dataclass(frozen=True)
class SshSettings:
    """How hosts are reached: a driver's SSH settings from oned.conf."""

    user: str = "root"
    port: int = 22
    key: str | None = None          # None: paramiko looks for ~/.ssh/id_* and asks the agent
    known_hosts: Path = Path("~/.ssh/known_hosts").expanduser()
    accept_new_host_keys: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> SshSettings:
        """`SSH_USER`, `SSH_PORT`, `SSH_KEY`, `KNOWN_HOSTS`, `ACCEPT_NEW_HOST_KEYS`."""
        port, accept = config.get("SSH_PORT", "22"), config.get("ACCEPT_NEW_HOST_KEYS", "no")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InternalError(f"SSH_PORT = {port!r} is not a port number")
        if accept.lower() not in _BOOLEANS:
            raise InternalError(f"ACCEPT_NEW_HOST_KEYS = {accept!r} is neither yes nor no")
        key = config.get("SSH_KEY")
        return cls(user=config.get("SSH_USER", cls.user), port=int(port),
                   key=os.path.expanduser(key) if key else None,
                   known_hosts=Path(config.get("KNOWN_HOSTS", str(cls.known_hosts))).expanduser(),
                   accept_new_host_keys=_BOOLEANS[accept.lower()])


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's rendering (SHA256:...), so operators can compare with ssh-keygen -l."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


class KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """A host whose key is not in the file: refused, or added to the file when allowed.

    Keys are appended under a lock on the file rather than saved the way
    paramiko's AutoAddPolicy does, which rewrites the whole file: the
    operator's comments and markers stay, and concurrent writers lose nothing.
    """

    def __init__(self, path: Path, accept_new: bool) -> None:
        self.path = path
        self.accept_new = accept_new

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        if not self.accept_new:
            raise RemoteError(hostname, "host key", (
                f"{key.get_name()} key {fingerprint(key)} is not in {self.path}; add it "
                f"(ssh-keyscan) or set ACCEPT_NEW_HOST_KEYS = \"yes\" in the driver settings"))
        self._append(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        client.get_host_keys().add(hostname, key.get_name(), key)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.path, "ab+") as known:
            fcntl.flock(known, fcntl.LOCK_EX)
            end = known.seek(0, os.SEEK_END)
            if end:  # a last line without its newline would swallow ours
                known.seek(end - 1)
                line = line if known.read(1) == b"\n" else "\n" + line
            known.write(line.encode())  # "a" mode: at the end, wherever we read


def fast_transport(sock: Any, /, **options: Any) -> paramiko.Transport:
    """A transport for bulk data: AES-GCM first, and key renewal left to the server.

    Why the latter: when paramiko starts a re-key itself (every 512 MiB by
    default) and the server closes a channel meanwhile, paramiko's reader
    thread waits to send its reply until the re-key completes, which only that
    thread can do (paramiko issue #822): a transfer of a few GiB stalls 30 s
    and fails. sshd renews keys on its own RekeyLimit, which paramiko follows.
    The arguments are what SSHClient.connect hands a transport factory.
    """
    transport = paramiko.Transport(sock, **options)
    security = transport.get_security_options()
    security.ciphers = FAST_CIPHERS + tuple(c for c in security.ciphers if c not in FAST_CIPHERS)
    transport.packetizer.REKEY_BYTES = transport.packetizer.REKEY_PACKETS = 1 << 62
    return transport


def _replacing(path: str, command: str) -> str:
    """`command` run once `path` is gone and its parent directory exists."""
    return f"rm -rf -- {quote(path)} && mkdir -p -- {quote(parent(path))} && {command}"


def _on_host(shell: Shell, verb: str, src: str, dst: str) -> int:
    """`cp -a` or `mv` where both paths are on one host: no byte comes through here."""
    if src != dst:
        shell.run(_replacing(dst, f"{verb} -- {quote(src)} {quote(dst)}"))
    return 0


def _stream(source: AbstractContextManager[End], sink: AbstractContextManager[End]) -> int:
    """Source into sink; returns the bytes streamed.

    The sink is entered first so that the source finishes first: a source that
    failed (a missing file) explains itself better than the sink it left empty.
    """
    with sink as into, source as out:
        return pump(out.read, into.write)


class Remote:
    """Paths on any host, as `Location`s: picks how each host is reached, moves bytes.

    One per driver instance, used by all of its threads; `close` ends its SSH
    connections (the core keeps drivers for the life of oned, tests do not).
    """

    def __init__(self, settings: SshSettings | None = None) -> None:
        self.settings = settings or SshSettings()
        hostname = socket.gethostname()
        self._local_names = {"", "localhost", "127.0.0.1", "::1", hostname,
                             hostname.partition(".")[0]}
        self._local = LocalShell()
        self._hosts: dict[str, SshShell] = {}
        self._lock = threading.Lock()

    def is_local(self, host: str | None) -> bool:
        """The front-end itself: no SSH to itself, no key of its own needed."""
        return host is None or host in self._local_names

    def shell(self, host: str | None) -> Shell:
        if host is None or self.is_local(host):
            return self._local
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = SshShell(host, self._connect)
            return self._hosts[host]

    def run(self, host: str | None, command: str) -> str:
        return self.shell(host).run(command)

    def copy(self, src: Location, dst: Location) -> int:
        """A file or a directory (sparse files stay sparse) to `dst`, replacing it.

        Returns the bytes that went through this process: 0 when both are on
        one host, which then copies by itself."""
        source, target = self.shell(src.host), self.shell(dst.host)
        if source is target:
            return _on_host(target, "cp -a", src.path, dst.path)
        if source.is_dir(src.path):
            into = quote(dst.path)
            return _stream(
                source.command(f"tar -C {quote(src.path)} -cSf - .", writing=False),
                target.command(_replacing(dst.path, f"mkdir {into} && tar -C {into} -xf -"),
                               writing=True))
        return _stream(source.read_file(src.path), target.write_file(dst.path))

    def move(self, src: Location, dst: Location) -> int:
        """As `copy`, then the source goes, once the copy is complete."""
        source, target = self.shell(src.host), self.shell(dst.host)
        if source is target:
            return _on_host(target, "mv", src.path, dst.path)
        moved = self.copy(src, dst)
        self.delete(src)
        return moved

    def upload(self, read: Callable[[int], bytes], dst: Location) -> int:
        """Bytes from elsewhere (a download) into the file at `dst`."""
        with self.shell(dst.host).write_file(dst.path) as into:
            return pump(read, into.write)

    def delete(self, location: Location) -> None:
        """The file or directory and all below it; one already gone is success."""
        self.run(location.host, f"rm -rf -- {quote(location.path)}")

    def close(self) -> None:
        with self._lock:
            hosts, self._hosts = list(self._hosts.values()), {}
        for host in hosts:
            host.close()

    def _connect(self, host: str) -> paramiko.SSHClient:
        settings, client = self.settings, paramiko.SSHClient()
        client.set_missing_host_key_policy(
            KnownHostsPolicy(settings.known_hosts, settings.accept_new_host_keys))
        try:
            if settings.known_hosts.exists():
                client.load_host_keys(str(settings.known_hosts))
            client.connect(host, port=settings.port, username=settings.user,
                           key_filename=settings.key, look_for_keys=settings.key is None,
                           allow_agent=settings.key is None, timeout=CONNECT_TIMEOUT,
                           banner_timeout=CONNECT_TIMEOUT, auth_timeout=CONNECT_TIMEOUT,
                           transport_factory=fast_transport)
        except RemoteError:
            client.close()
            raise
        except SSH_ERRORS as exc:
            client.close()
            raise self._refusal(host, exc) from exc
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(KEEPALIVE)
        return client

    def _refusal(self, host: str, exc: Exception) -> RemoteError:
        """Why a connection failed, in words an operator can act on."""
        if isinstance(exc, paramiko.BadHostKeyException):
            return RemoteError(host, "host key", (
                f"{exc.key.get_name()} key {fingerprint(exc.key)} is not the one "
                f"{self.settings.known_hosts} has: the host was reinstalled, or it is not "
                f"{host}; check, then fix that file"))
        settings = self.settings
        return RemoteError(host, f"ssh {settings.user}@{host} port {settings.port}",
                           str(exc) or type(exc).__name__)
