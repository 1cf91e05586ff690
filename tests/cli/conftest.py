"""One real oned for the whole CLI suite, and a runner for the tools' main().

Starting and stopping oned costs about half a second, so the server is
shared; tests create their own objects with unique names and assert only on
those, which keeps them independent of each other's leftovers.
"""
from __future__ import annotations

import importlib
import itertools
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from one.config import Config
from one.daemon import Oned, build

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


Run = Callable[..., Result]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oned]:
    var = tmp_path_factory.mktemp("oned")
    auth = var / "one_auth"
    auth.write_text("oneadmin:secret\n")
    oned = build(Config(var_location=str(var), port=0), auth)
    oned.serve_in_thread()
    yield oned
    oned.stop()


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
