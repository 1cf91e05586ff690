"""One writer per state (issue 10 item 7), and the modes of oned's files (item 6),
with real `oned` processes."""
from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ADMIN, Caller

_LISTENING = re.compile(r"oned listening on (\S+)")


class Daemon:
    """`oned` on 127.0.0.1:0 for a var directory, its output in <var>/out-<n>.log."""

    runs = 0

    def __init__(self, var: Path, *extra: str, foreground: bool = True) -> None:
        var.mkdir(parents=True, exist_ok=True)
        (var / "one_auth").write_text(f"{ADMIN}\n")
        Daemon.runs += 1
        self.output = var / f"out-{Daemon.runs}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ONE_")}
        command = [sys.executable, "-m", "one.daemon", *(["-f"] if foreground else []),
                   "--var", str(var), "--port", "0", "--no-sched", *extra]
        with self.output.open("w") as out:
            self.process = subprocess.Popen(command, env={**environ, "ONE_AUTH": str(var / "one_auth")},
                                            stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.output.read_text()

    def endpoint(self) -> str:
        deadline = time.monotonic() + 30
        while not (found := _LISTENING.search(self.text())):
            assert self.process.poll() is None, f"oned exited: {self.text()}"
            assert time.monotonic() < deadline, f"oned not listening: {self.text()}"
            time.sleep(0.05)
        return found[1]

    def exit_code(self) -> int:
        return self.process.wait(timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.exit_code()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.stop(signal.SIGKILL)


def test_a_second_oned_on_the_same_var_is_refused(tmp_path: Path, daemons: list[Daemon]) -> None:
    first = Daemon(tmp_path / "var")
    daemons.append(first)
    Caller(first.endpoint()).ok("one.user.info", 0)
    pid_file = tmp_path / "var" / "oned.pid"
    assert pid_file.read_text().strip() == str(first.process.pid)
    second = Daemon(tmp_path / "var")
    daemons.append(second)
    assert second.exit_code() == 1
    assert f"oned is already running on {tmp_path / 'var'} (pid {first.process.pid})" in second.text()
    assert pid_file.read_text().strip() == str(first.process.pid)
    other_var = Daemon(tmp_path / "other", "--db", str(tmp_path / "var" / "one.db"))
    daemons.append(other_var)
    assert other_var.exit_code() == 1
    assert f"oned is already running on {tmp_path / 'var' / 'one.db'}" in other_var.text()
    Caller(first.endpoint()).ok("one.user.info", 0)  # the first one did not notice
    assert first.stop() == 0
    assert not pid_file.exists()


def test_restart_after_kill_9_replaces_the_stale_pid_file(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    first = Daemon(tmp_path)
    daemons.append(first)
    Caller(first.endpoint()).ok("one.user.allocate", "ann", "pw", "core", [])
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    assert (tmp_path / "oned.pid").read_text().strip() == str(first.process.pid)
    second = Daemon(tmp_path)
    daemons.append(second)
    Caller(second.endpoint(), "ann:pw").ok("one.user.info", -1)
    assert f"oned.pid of pid {first.process.pid} found (that oned is gone): replaced" in second.text()
    assert (tmp_path / "oned.pid").read_text().strip() == str(second.process.pid)
    assert second.stop(signal.SIGINT) == 0  # Ctrl-C of `oned -f`
    assert not (tmp_path / "oned.pid").exists()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_detached_oned_keeps_its_files_private(tmp_path: Path, daemons: list[Daemon]) -> None:
    detached = Daemon(tmp_path, foreground=False)
    assert detached.exit_code() == 0  # the parent returns once the daemon has forked
    pid_file, log = tmp_path / "oned.pid", tmp_path / "oned.log"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and _LISTENING.search(log.read_text())):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no oned.log"
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    try:
        rpc = Caller(_LISTENING.search(log.read_text())[1])
        hid = rpc.ok("one.host.allocate", "node", "dummy", "dummy", -1)
        vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 CONTEXT = [ TOKEN = YES ]", False)
        rpc.ok("one.vm.deploy", vid, hid)
        vm_dir = tmp_path / "vms" / str(vid)
        deadline = time.monotonic() + 30
        while not (vm_dir / "context.iso").exists() or not (vm_dir / "vm.log").exists():
            assert time.monotonic() < deadline, "no context.iso / vm.log"
            time.sleep(0.05)
        for path in (tmp_path / "one.db", tmp_path / "one.db-wal", log, pid_file,
                     vm_dir / "vm.log", vm_dir / "context.iso"):
            assert _mode(path) == 0o600, path
        for path in (tmp_path / "vms", vm_dir):
            assert _mode(path) == 0o700, path
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_file.exists():
        assert time.monotonic() < deadline, "oned.pid left after SIGTERM"
        time.sleep(0.05)


def test_a_second_oned_on_the_same_postgresql_database_is_refused(
        tmp_path: Path, daemons: list[Daemon], postgres: str) -> None:
    first = Daemon(tmp_path / "a", "--db", postgres)
    daemons.append(first)
    Caller(first.endpoint()).ok("one.user.info", 0)
    second = Daemon(tmp_path / "b", "--db", postgres)
    daemons.append(second)
    assert second.exit_code() == 1
    database = postgres.rsplit("/", 1)[1]
    assert f"oned is already running on database {database} at 127.0.0.1:" in second.text()
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # the lock dies with its session
    third = Daemon(tmp_path / "b", "--db", postgres)
    daemons.append(third)
    Caller(third.endpoint()).ok("one.user.info", 0)
