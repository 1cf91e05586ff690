"""Shells: commands on one host, and its files and commands as ends of a transfer.

Why apart from `remote`: these are the parts that know how a host runs
things - a subprocess on the front-end, an exec channel on a shared SSH
connection elsewhere - behind one interface, so that `Remote` moves bytes
between any two hosts without knowing which kind each is.

Every failure comes out as a RemoteError naming the host, the command (or
file) and what the host printed on stderr.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import PurePosixPath

import paramiko

from one.errors import InternalError

# What a lost connection raises: paramiko reports a socket closed mid-read as a bare EOFError.
SSH_ERRORS = (OSError, EOFError, paramiko.SSHException)

CHUNK = 1 << 20                 # bytes per read: per-chunk Python costs vanish beside the data
WINDOW = 1 << 24                # the SSH window we grant: a fast sender never waits for us
PACKET = 1 << 18                # the largest packet a host may send us: fewer, less Python per byte
CHANNELS_PER_CONNECTION = 8     # sshd allows MaxSessions (10 by default) per connection
FRONTEND = "frontend"           # how the front-end is named in messages, as in `Location`


class RemoteError(InternalError):
    """A command or transfer that failed on a host, with what the host said."""

    def __init__(self, host: str, action: str, detail: str) -> None:
        super().__init__(f"{host}: {action}: {detail.strip() or 'failed'}")
        self.host = host
        self.action = action
        self.detail = detail


def quote(path: str) -> str:
    """A path as one word of a POSIX shell command."""
    return shlex.quote(path)


def parent(path: str) -> str:
    return str(PurePosixPath(path).parent)


def read_all(read: Callable[[int], bytes]) -> str:
    """Text a command printed, to EOF: its output or its error messages."""
    return b"".join(iter(lambda: read(CHUNK), b"")).decode(errors="replace")


class End(ABC):
    """One end of a transfer: a command's stdout or stdin, or a front-end file.

    `read` and `write` raise RemoteError naming this end, so a transfer that
    fails says which side failed and what that side printed; `finish` checks
    the outcome once the data went through, `abort` gives up after a failure.
    """

    def __init__(self, host: str, action: str) -> None:
        self.host = host
        self.action = action

    def error(self, detail: str) -> RemoteError:
        return RemoteError(self.host, self.action, detail)

    @abstractmethod
    def read(self, size: int) -> bytes: ...

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def finish(self) -> None: ...

    @abstractmethod
    def abort(self) -> None: ...


class LocalFile(End):
    """A front-end file, read or written directly: no process in the way."""

    def __init__(self, path: str, writing: bool) -> None:
        super().__init__(FRONTEND, f"{'write' if writing else 'read'} {path}")
        with self._reported():
            if writing:
                os.makedirs(parent(path), exist_ok=True)
            self._file = open(path, "wb" if writing else "rb")

    @contextmanager
    def _reported(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise self.error(exc.strerror or str(exc)) from exc

    def read(self, size: int) -> bytes:
        with self._reported():
            return self._file.read(size)

    def write(self, data: bytes) -> None:
        with self._reported():
            self._file.write(data)

    def finish(self) -> None:
        with self._reported():
            self._file.close()

    def abort(self) -> None:
        self._file.close()


class LocalCommand(End):
    """A command on the front-end; its stderr goes to a file, so it can never block."""

    def __init__(self, command: str, writing: bool) -> None:
        super().__init__(FRONTEND, command)
        self._stderr = tempfile.TemporaryFile()
        pipe, null = subprocess.PIPE, subprocess.DEVNULL
        self._process = subprocess.Popen(["sh", "-c", command], stdin=pipe if writing else null,
                                         stdout=null if writing else pipe, stderr=self._stderr)

    def read(self, size: int) -> bytes:
        assert self._process.stdout is not None
        return self._process.stdout.read(size)

    def write(self, data: bytes) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(data)
        except OSError as exc:  # the command stopped reading: its own words explain why
            raise self._failure(self._process.wait()) or self.error(str(exc)) from exc

    def _failure(self, status: int) -> RemoteError | None:
        self._stderr.seek(0)
        said = self._stderr.read().decode(errors="replace")
        return self.error(said or f"exit status {status}") if status else None

    def finish(self) -> None:
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        failure = self._failure(self._process.wait())
        self._stderr.close()
        if failure is not None:
            raise failure

    def abort(self) -> None:
        self._process.kill()
        self._process.communicate()
        self._stderr.close()


class ChannelCommand(End):
    """A command on an SSH host, on an exec channel of a shared connection."""

    def __init__(self, host: str, command: str, channel: paramiko.Channel,
                 writing: bool) -> None:
        super().__init__(host, command)
        self._channel = channel
        if not writing:
            channel.shutdown_write()  # stdin at EOF: a command that asks something gets no answer

    def read(self, size: int) -> bytes:
        return self._channel.recv(size)

    def write(self, data: bytes) -> None:
        try:
            # A view: paramiko slices what is left after each packet, and a view's slices copy
            # nothing (paramiko takes any buffer, whatever its stubs say).
            self._channel.sendall(memoryview(data))  # type: ignore[arg-type]
        except SSH_ERRORS as exc:
            raise self._failure() or self.error(f"connection lost: {exc}") from exc

    def _failure(self) -> RemoteError | None:
        """The command's own error, if it already ended with one.

        sshd sends a channel's EOF once both stdout and stderr are drained, and
        the exit status right before or after: by then stderr is complete."""
        if not self._channel.exit_status_ready():
            return None
        status = self._channel.recv_exit_status()
        if status == 0:
            return None
        said = read_all(self._channel.recv_stderr)
        lost = "connection lost before the command ended"
        return self.error(said or (lost if status < 0 else f"exit status {status}"))

    def finish(self) -> None:
        self._channel.shutdown_write()
        while self._channel.recv(CHUNK):
            pass  # what a sink printed: read so it never fills the window, then dropped
        self._channel.recv_exit_status()
        failure = self._failure()
        if failure is not None:
            raise failure

    def abort(self) -> None:
        self._channel.close()


@contextmanager
def running(end: End) -> Iterator[End]:
    """Finish the end after a clean exit, abort it after any exception."""
    try:
        yield end
    except BaseException:
        end.abort()
        raise
    end.finish()


def pump(read: Callable[[int], bytes], write: Callable[[bytes], None]) -> int:
    """Copy until EOF in CHUNK-sized pieces; returns the bytes copied."""
    copied = 0
    while data := read(CHUNK):
        write(data)
        copied += len(data)
    return copied


class Shell(ABC):
    """Runs commands on one host and opens its files as transfer ends."""

    name: str

    @abstractmethod
    def command(self, command: str, writing: bool) -> AbstractContextManager[End]:
        """The command running, as the end it reads (writing) or prints (not writing)."""

    def run(self, command: str) -> str:
        """Run to completion with stdin at EOF; its stdout, or RemoteError with its stderr."""
        with self.command(command, writing=False) as out:
            return read_all(out.read)

    def is_dir(self, path: str) -> bool:
        return self.run(f"if [ -d {quote(path)} ]; then echo dir; fi").strip() == "dir"

    def read_file(self, path: str) -> AbstractContextManager[End]:
        return self.command(f"cat -- {quote(path)}", writing=False)

    def write_file(self, path: str) -> AbstractContextManager[End]:
        """The file, replaced, with its directory made first."""
        return self.command(f"mkdir -p -- {quote(parent(path))} && cat > {quote(path)}",
                            writing=True)


class LocalShell(Shell):
    """The front-end's own host."""

    name = FRONTEND

    def command(self, command: str, writing: bool) -> AbstractContextManager[End]:
        return running(LocalCommand(command, writing))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def read_file(self, path: str) -> AbstractContextManager[End]:
        return running(LocalFile(path, writing=False))

    def write_file(self, path: str) -> AbstractContextManager[End]:
        return running(LocalFile(path, writing=True))


def _alive(client: paramiko.SSHClient) -> bool:
    transport = client.get_transport()
    return transport is not None and transport.is_active()


class SshShell(Shell):
    """A host over SSH: connections shared by all threads, one more when all are busy.

    A connection carries up to CHANNELS_PER_CONNECTION commands at once, which
    keeps under sshd's MaxSessions; past that another is opened. A surplus
    connection is closed once idle, so a quiet host keeps exactly one, and a
    dead one (host rebooted, sshd restarted) is replaced on next use.
    """

    def __init__(self, host: str, connect: Callable[[str], paramiko.SSHClient]) -> None:
        self.name = host
        self._connect = connect
        self._lock = threading.Lock()
        self._busy: dict[paramiko.SSHClient, int] = {}

    def _acquire(self) -> paramiko.SSHClient:
        with self._lock:
            for dead in [c for c, n in self._busy.items() if n == 0 and not _alive(c)]:
                dead.close()
                del self._busy[dead]
            client = next((c for c, n in self._busy.items()
                           if n < CHANNELS_PER_CONNECTION and _alive(c)), None)
            if client is None:
                client = self._connect(self.name)
            self._busy[client] = self._busy.get(client, 0) + 1
            return client

    def _release(self, client: paramiko.SSHClient) -> None:
        with self._lock:
            if client not in self._busy:
                return  # `close` came first and closed it
            self._busy[client] -= 1
            idle = sum(1 for n in self._busy.values() if n == 0)
            if self._busy[client] == 0 and (idle > 1 or not _alive(client)):
                del self._busy[client]
                client.close()

    def _start(self, command: str, retry: bool = True) -> tuple[paramiko.SSHClient,
                                                                paramiko.Channel]:
        """A channel running `command`, and its connection.

        A connection can die between the check in `_acquire` and its use (the
        host rebooted, sshd restarted): found dead here, it is replaced once."""
        client, channel = self._acquire(), None
        try:
            transport = client.get_transport()
            assert transport is not None
            channel = transport.open_session(window_size=WINDOW, max_packet_size=PACKET)
            channel.exec_command(command)
            return client, channel
        except SSH_ERRORS as exc:
            if channel is not None:
                channel.close()
            self._release(client)
            if retry and not _alive(client):
                return self._start(command, retry=False)
            raise RemoteError(self.name, command, f"cannot start it: {exc}") from exc

    @contextmanager
    def command(self, command: str, writing: bool) -> Iterator[End]:
        client, channel = self._start(command)
        try:
            with channel, running(ChannelCommand(self.name, command, channel, writing)) as end:
                yield end
        finally:
            self._release(client)

    def close(self) -> None:
        with self._lock:
            for client in self._busy:
                client.close()
            self._busy.clear()
