"""Real oneds for the CLI suite, and a runner for the tools' main().

Starting and stopping oned costs about half a second, so servers are
shared; tests create their own objects with unique names and assert only on
those, which keeps them independent of each other's leftovers.

Two servers: an in-process one whose engine never runs, so its VMs stay
where the API puts them, and a live one that monitors, schedules and runs
the dummy drivers every second. The live one is a real `oned -f` process:
the pools bind their models to one database per process, so a second
in-process server would take the first one's queries over.
"""
from __future__ import annotations

import importlib
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import ADMIN, start_oned, until
from one.daemon import Oned

LIVE_CONFIG = "MONITORING_INTERVAL = 1\nSCHED_INTERVAL = 1\n"
_LISTENING = re.compile(r"oned listening on (\S+)")
_names = itertools.count()


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def new_id(self) -> int:
        """The id a create command printed as `ID: n`."""
        found = re.search(r"ID: (\d+)", self.out)
        assert found, (self.out, self.err)
        return int(found[1])

    @property
    def header(self) -> list[str]:
        return self.out.splitlines()[0].split()

    def row(self, first: str) -> list[str]:
        """The table row whose first cell is `first` (an id)."""
        for line in self.out.splitlines()[1:]:
            cells = line.split()
            if cells and cells[0] == first:
                return cells
        raise AssertionError(f"no row {first} in\n{self.out}")

    def lines(self) -> list[str]:
        return self.out.splitlines()

    def field(self, label: str) -> str | None:
        """The value of the first `show` line `LABEL   : value`; None if there is none."""
        for line in self.lines():
            name, colon, value = line.partition(": ")
            if colon and name.rstrip() == label:
                return value
        return None


Run = Callable[..., Result]


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oned]:
    """One in-process server for the CLI package, stopped before other packages
    open their own database (one database per process)."""
    oned = start_oned(tmp_path_factory.mktemp("oned"))
    yield oned
    oned.stop()


@dataclass(frozen=True)
class LiveServer:
    endpoint: str
    var: Path  # its VAR_LOCATION, where the VM logs are


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`oned -f` on 127.0.0.1:0 with its engine; stopped by PID after the CLI tests."""
    var = tmp_path_factory.mktemp("live")
    (var / "one_auth").write_text(f"{ADMIN}\n")
    (var / "oned.conf").write_text(LIVE_CONFIG)
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ONE_")}
    output = var / "stdout.log"
    with output.open("w") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "one.daemon", "-f", "--config", str(var / "oned.conf"),
             "--var", str(var), "--listen", "127.0.0.1", "--port", "0"],
            env={**environ, "ONE_AUTH": str(var / "one_auth")}, stdout=out,
            stderr=subprocess.STDOUT)

    def listening() -> re.Match[str] | None:
        if daemon.poll() is not None:
            raise AssertionError(f"oned exited with {daemon.returncode}: {output.read_text()}")
        return _LISTENING.search(output.read_text())

    try:
        yield LiveServer(until(listening, "oned listening")[1], var)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "one_auth"
    path.write_text("oneadmin:secret\n")
    return path


@pytest.fixture
def env(server: Oned, auth_file: Path, monkeypatch: pytest.MonkeyPatch) -> Oned:
    monkeypatch.setenv("ONE_XMLRPC", server.endpoint)
    monkeypatch.setenv("ONE_AUTH", str(auth_file))
    monkeypatch.setenv("COLUMNS", "200")
    return server


@pytest.fixture
def live(env: Oned, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    """Point the tools at the live server, and `onevm log` at its VAR_LOCATION."""
    monkeypatch.setenv("ONE_XMLRPC", live_server.endpoint)
    monkeypatch.setenv("ONE_VAR", str(live_server.var))
    return live_server


# How long the CLI tests wait for the live server's engine to get somewhere.
CLI_WAIT = 5.0


def eventually_true(check: Callable[[], Any], what: str, timeout: float = CLI_WAIT) -> Any:
    """`until` with the CLI tests' shorter wait."""
    return until(check, what, timeout)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    return eventually_true


@pytest.fixture
def run(env: Oned, capsys: pytest.CaptureFixture[str]) -> Run:
    """`run("onevm", "list")`: the tool's main() in-process, output captured."""
    def invoke(tool: str, *args: str) -> Result:
        code = importlib.import_module(f"one.cli.{tool}").main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return invoke


@pytest.fixture
def ok(run: Run) -> Run:
    """Like run, but the command must succeed."""
    def invoke(tool: str, *args: str) -> Result:
        result = run(tool, *args)
        assert result.code == 0, (tool, args, result)
        return result
    return invoke


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test uses on the shared server."""
    return lambda prefix: f"{prefix}{next(_names)}"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


Reach = Callable[[int, str], None]


@pytest.fixture
def reach(ok: Run) -> Reach:
    """`reach(vid, "runn")`: waits until `onevm list` shows that STAT; "done" VMs are
    listed no more, so that one is read from `onevm show`."""
    def seen(vid: int, stat: str) -> bool:
        if stat == "done":
            return ok("onevm", "show", str(vid)).field("STATE") == "DONE"
        return ok("onevm", "list").row(str(vid))[4] == stat

    def wait(vid: int, stat: str) -> None:
        eventually_true(lambda: seen(vid, stat), f"VM {vid} {stat}")
    return wait


@pytest.fixture
def vm_text(unique: Callable[[str], str]) -> Callable[..., str]:
    """`vm_text(3, 4, extra="DUMMY_FAIL=deploy")`: a small VM template the scheduler may
    place only on those hosts, since tests share the live server."""
    def text(*hosts: int, extra: str = "") -> str:
        where = " | ".join(f"ID = {hid}" for hid in hosts)
        return f'NAME={unique("vm")} CPU=0.5 MEMORY=256 SCHED_REQUIREMENTS="{where}" {extra}'
    return text


NewHost = Callable[[], "tuple[int, str]"]


@pytest.fixture
def new_host(live: LiveServer, ok: Run, unique: Callable[[str], str]) -> NewHost:
    """Adds a dummy host to the live server and waits until it is monitored: (id, name)."""
    def create() -> tuple[int, str]:
        name = unique("node")  # short: the HOST column shows 10 characters
        hid = ok("onehost", "create", name, "--im", "dummy", "--vm", "dummy").new_id
        eventually_true(lambda: ok("onehost", "list").row(str(hid))[-1] == "on", f"{name} monitored")
        return hid, name
    return create


@pytest.fixture
def running(new_host: NewHost, ok: Run, reach: Reach,
            vm_text: Callable[..., str]) -> tuple[int, int, str]:
    """A VM deployed by host name on a host of its own: (vm id, host id, host name)."""
    hid, host = new_host()
    vid = ok("onevm", "create", "--hold", "--template-text", vm_text(hid)).new_id
    ok("onevm", "deploy", str(vid), host)
    reach(vid, "runn")
    return vid, hid, host
