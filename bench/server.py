"""Start oned as a separate process on a free port, and read its memory use.

A separate process keeps the benchmark's own threads and GIL out of the
server's figures; its output goes to a file so a full pipe can never stall it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from bench.postgres import Cluster
from bench.report import progress
from bench.rpc import SESSION, BenchError

ONED = Path(sys.executable).parent / "oned"  # the venv running the bench
_LISTENING = re.compile(r"oned listening on (http://\S+)")
START_TIMEOUT = 30.0
# The PostgreSQL server scratch servers keep their state on, each in a database of
# its own (`--db postgresql`); none: SQLite in their scratch directory.
_postgresql: list[Cluster] = []


def use_postgresql(cluster: Cluster | None) -> None:
    """Scratch servers from now on: on a new database of `cluster` (None: SQLite)."""
    _postgresql[:] = [cluster] if cluster is not None else []


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path | None = None  # its output

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def rss_mb(self) -> float:
        """VmRSS of the server process: what the pool costs in memory."""
        return self._memory_mb("VmRSS")

    def peak_rss_mb(self) -> float:
        """VmHWM: the most the server held at any time so far."""
        return self._memory_mb("VmHWM")

    def _memory_mb(self, field: str) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        if kilobytes is None:
            raise BenchError(f"no {field} for oned (pid {self.process.pid})")
        return int(kilobytes.group(1)) / 1024


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate by PID, then kill if it does not go within a few seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _oned_binary() -> str:
    if not ONED.exists():
        raise BenchError(f"{ONED} missing: run `pip install -e .` in this venv first")
    return str(ONED)


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """oned prints its endpoint once it listens; `--port 0` makes that the only way to know it."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise BenchError(f"oned exited with {process.returncode}")
        time.sleep(0.05)
    raise BenchError(f"oned did not listen within {START_TIMEOUT:.0f} s")


def oned_conf(*vectors: str, **values: int) -> str:
    """oned.conf text: `KEY = value` lines, then whole lines such as driver vectors."""
    return "".join([f"{key} = {value}\n" for key, value in values.items()]
                   + [f"{vector}\n" for vector in vectors])


@contextmanager
def running_server(workdir: Path, config: str = "", scheduler: bool = False,
                   args: tuple[str, ...] = ()) -> Iterator[Server]:
    """A fresh oned on an empty database in `workdir`, stopped whatever happens.

    `config` is the text of its oned.conf; `args` more flags. The scheduler is off
    unless asked for, so that no VM changes state while the listings are timed.
    """
    auth = workdir / "one_auth"
    auth.write_text(f"{SESSION}\n")
    conf = workdir / "oned.conf"
    conf.write_text(config)
    log = workdir / "oned.out"
    env = dict(os.environ, ONE_AUTH=str(auth))
    command = [_oned_binary(), "-f", "--port", "0", "--var", str(workdir), "--config", str(conf)]
    if not scheduler:
        command.append("--no-sched")
    command.extend(args)
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        yield Server(process, _wait_for_url(process, log), log)
    except Exception:
        print(f"oned output, last lines:\n{_tail(log)}", file=sys.stderr)
        raise
    finally:
        _stop(process)


@contextmanager
def scratch_server(config: str = "", scheduler: bool = False) -> Iterator[Server]:
    """`running_server` in a scratch directory removed afterwards."""
    if _postgresql:
        config += f'DB = "{_postgresql[0].create()}"\n'
    with tempfile.TemporaryDirectory(prefix="one-bench-") as scratch:
        with running_server(Path(scratch), config, scheduler) as server:
            progress(f"oned pid {server.process.pid} at {server.url}"
                     f"{' with the scheduler' if scheduler else ''}")
            yield server
