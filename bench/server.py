"""Start oned as a separate process on a free port, and read its memory use.

A separate process keeps the benchmark's own threads and GIL out of the
server's figures; its output goes to a file so a full pipe can never stall it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from bench.rpc import SESSION, BenchError

ONED = Path(sys.executable).parent / "oned"  # the venv running the bench
_LISTENING = re.compile(r"oned listening on (http://\S+)")
START_TIMEOUT = 30.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def rss_mb(self) -> float:
        """VmRSS of the server process: what the pool costs in memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if kilobytes is None:
            raise BenchError(f"no VmRSS for oned (pid {self.process.pid})")
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


@contextmanager
def running_server(workdir: Path) -> Iterator[Server]:
    """A fresh oned on an empty database in `workdir`, stopped whatever happens.

    The scheduler is off so that no VM changes state while the listings are timed.
    """
    auth = workdir / "one_auth"
    auth.write_text(f"{SESSION}\n")
    log = workdir / "oned.out"
    env = dict(os.environ, ONE_AUTH=str(auth))
    command = [_oned_binary(), "-f", "--port", "0", "--var", str(workdir), "--no-sched"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        yield Server(process, _wait_for_url(process, log))
    except Exception:
        print(f"oned output, last lines:\n{_tail(log)}", file=sys.stderr)
        raise
    finally:
        _stop(process)
