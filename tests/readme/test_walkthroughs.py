"""Every walkthrough of README.md, run as written against a fresh oned.

Each walkthrough gets an empty directory, a fresh HOME (so oned writes its
own `~/.one/one_auth` and `~/.one/var`) and `oned -f` on a free loopback
port, as `make run` starts it; the tools find it through ONE_XMLRPC, as
the README's "other shell" does. Each `$ command` runs with bash in that
directory and must print what the README shows (walkthrough.RULES aside).
"""
from __future__ import annotations

import difflib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO
from kvm.guest import Libvirtd
from walkthrough import Script, Step, Walkthrough, matches, parse

BIN = Path(sys.executable).parent
WALKTHROUGHS = parse(REPO / "README.md")
REAL_KVM = {"A KVM host"}     # needs the system's libvirtd (tests/kvm starts it)
README_HOME, README_PORT = "/root", 2633
COMMAND_TIMEOUT = 120         # seconds; the README's `until` loops wait for the engine


def test_the_readme_has_its_walkthroughs() -> None:
    """A parser slip must not turn the test below into a silent no-op."""
    assert [w.title for w in WALKTHROUGHS] == [
        "Five minutes with one", "A KVM host", "Hybrid cloud", "VM templates", "ACL rules", "Quotas",
        "Changing a running VM",
        "Snapshots, disk resize and live resize"]
    assert WALKTHROUGHS[0].starts_oned and isinstance(WALKTHROUGHS[0].items[-1], Script)


def test_make_run_is_oned_in_the_foreground() -> None:
    """What the test starts for `$ make run` is what the Makefile runs."""
    recipe = (REPO / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert recipe.strip().splitlines()[-1].strip() == "$(BIN)/oned -f"


class Shell:
    """The newcomer's shells: one running oned, the other typing the commands."""

    def __init__(self, root: Path) -> None:
        self.cwd = root / "walk"
        self.home = root / "home"
        self.cwd.mkdir()
        self.home.mkdir()
        self.port = _free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("ONE_")}
        base.pop("COLUMNS", None)
        self.env = {**base, "HOME": str(self.home), "PATH": f"{BIN}:{base.get('PATH', '')}",
                    "ONE_XMLRPC": f"http://127.0.0.1:{self.port}/RPC2"}
        self.oned: subprocess.Popen[bytes] | None = None

    def start_oned(self, lines: int) -> list[str]:
        """`make run`: oned -f on the free port; the first `lines` lines it printed
        by the time it listens."""
        env = {k: v for k, v in self.env.items() if k != "ONE_XMLRPC"}
        output = self.cwd.parent / "oned.out"
        with output.open("w") as out:
            self.oned = subprocess.Popen([str(BIN / "oned"), "-f"], cwd=self.cwd,
                                         env={**env, "ONE_PORT": str(self.port)},
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "oned listening" not in (printed := output.read_text()):
            assert self.oned.poll() is None, f"oned exited: {printed}"
            assert time.monotonic() < deadline, f"oned not listening within 30 s: {printed}"
            time.sleep(0.05)
        return printed.splitlines()[:lines]

    def stop_oned(self) -> None:
        if self.oned is None:
            return
        self.oned.send_signal(signal.SIGTERM)
        try:
            self.oned.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.oned.kill()
            self.oned.wait()

    def run(self, argv: list[str]) -> list[str]:
        done = subprocess.run(argv, cwd=self.cwd, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=COMMAND_TIMEOUT)
        assert done.returncode == 0, (argv, done.stdout)
        return done.stdout.splitlines()

    def as_written(self, lines: list[str]) -> list[str]:
        """The two values a README cannot know: the reader's HOME and oned's port."""
        return [line.replace(str(self.home), README_HOME)
                .replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{README_PORT}") for line in lines]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    started = Shell(tmp_path)
    yield started
    started.stop_oned()


def _check(what: str, expected: list[str], printed: list[str]) -> None:
    if not matches(expected, printed):
        diff = "\n".join(difflib.unified_diff(expected, printed, "README", "printed", lineterm=""))
        raise AssertionError(f"{what}: the README is not what runs\n{diff}")


def _walk(walk: Walkthrough, shell: Shell) -> None:
    if not walk.starts_oned:
        shell.start_oned(0)  # "with oned started on an empty state as above"
    for item in walk.items:
        if isinstance(item, Step) and item.command == "make run":
            printed = shell.start_oned(len(item.expected))
            _check("$ make run", item.expected, shell.as_written(printed))
        elif isinstance(item, Step):
            printed = shell.run(["bash", "-c", item.command])
            _check(f"$ {item.command}", item.expected, shell.as_written(printed))
        else:
            printed = shell.run([sys.executable, "-c", item.code])
            _check("the python block", item.expected, shell.as_written(printed))


def _slug(title: str) -> str:
    return re.sub(r"\W+", "-", title.lower()).strip("-")


@pytest.mark.slow
@pytest.mark.parametrize("walk", [pytest.param(w, id=_slug(w.title)) for w in WALKTHROUGHS])
def test_walkthrough_runs_as_written(walk: Walkthrough, shell: Shell,
                                     request: pytest.FixtureRequest) -> None:
    if walk.title in REAL_KVM:  # the system's libvirtd, started (and stopped) if not running
        libvirtd = Libvirtd()
        libvirtd.ensure()
        request.addfinalizer(libvirtd.stop_started)
    _walk(walk, shell)
