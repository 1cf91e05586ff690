"""A real `oned -f` killed with SIGKILL mid-migration, started again over the same var dir.

The dummy drivers keep their guests in the default STATE_DIR (<var>/dummy),
so the second oned finds the guest where the first one's migration left it:
on the target, while the database still says MIGRATE. The VM must arrive
there, and once terminated leave no guest running anywhere.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import one_dummy
import pytest
from lxml import etree

from conftest import ADMIN, Caller, backend_url, until
from one.states import LcmState as L, VmState as S

CONFIG = "MONITORING_INTERVAL = 1\nSCHED_INTERVAL = 1\n"


class Daemon:
    """`oned -f` on 127.0.0.1:0 over `var`; stopped by its pid."""

    def __init__(self, var: Path) -> None:
        self.output = var / f"oned-{time.monotonic_ns()}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ONE_")}
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "one.daemon", "-f", "--config", str(var / "oned.conf"),
                 "--var", str(var), "--listen", "127.0.0.1", "--port", "0",
                 "--db", backend_url(var)],
                env={**environ, "ONE_AUTH": str(var / "one_auth")}, stdout=out,
                stderr=subprocess.STDOUT)
        line = until(self._listening, "oned listening")
        self.rpc = Caller(line.split()[-1])

    def _listening(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"oned exited with {self.process.returncode}: "
                                 f"{self.output.read_text()}")
        return next((x for x in self.output.read_text().splitlines()
                     if x.startswith("oned listening on ")), None)

    def phase(self, vid: int) -> tuple[int, int]:
        doc = etree.fromstring(self.rpc.ok("one.vm.info", vid).encode())
        return int(doc.findtext("STATE")), int(doc.findtext("LCM_STATE"))

    def kill(self, sig: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=15)


@pytest.fixture
def var(tmp_path: Path) -> Path:
    (tmp_path / "one_auth").write_text(f"{ADMIN}\n")
    (tmp_path / "oned.conf").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill(signal.SIGTERM)


def guests(var: Path) -> dict[str, dict]:
    try:
        return json.loads((var / "dummy" / "guests.json").read_text())["hosts"]
    except FileNotFoundError:
        return {}


def test_sigkill_after_a_live_migration_moved_the_guest(var: Path,
                                                        daemons: list[Daemon]) -> None:
    first = Daemon(var)
    daemons.append(first)
    rpc = first.rpc
    h0, h1 = (rpc.ok("one.host.allocate", name, "dummy", "dummy", -1) for name in ("h0", "h1"))
    rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy BRIDGE = br0 "
                              "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 9 ]", -1)
    # Held, so that our deploy places it, not the scheduler.
    vid = rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 64 NIC = [ NETWORK = n ]", True)
    rpc.ok("one.vm.deploy", vid, h0)
    until(lambda: first.phase(vid) == (S.ACTIVE, L.RUNNING), "VM running")
    # The network steps around the migration now take 1.5 s each: oned dies between the
    # hypervisor moving the guest and the migration's end.
    rpc.ok("one.vm.update", vid, "DUMMY_DELAY = 1.5", 1)
    rpc.ok("one.vm.migrate", vid, h1, True)
    until(lambda: f"one-{vid}" in guests(var).get("h1", {}), "guest on the target", 15)
    first.kill(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL

    second = Daemon(var)
    daemons.append(second)
    rpc = second.rpc
    until(lambda: second.phase(vid) == (S.ACTIVE, L.RUNNING), "VM running after the restart")
    doc = etree.fromstring(rpc.ok("one.vm.info", vid).encode())
    assert doc.findtext("HISTORY_RECORDS/HISTORY[last()]/HOSTNAME") == "h1"
    rpc.ok("one.vm.update", vid, "DUMMY_DELAY = 0", 1)
    rpc.ok("one.vm.action", "terminate", vid)
    until(lambda: second.phase(vid) == (S.DONE, 0), "VM done")
    assert {host: set(found) for host, found in guests(var).items()} == {"h0": set(), "h1": set()}
    assert one_dummy.violations(var / "dummy") == []
    migrations = [x for x in one_dummy.StateDir(var / "dummy").journal() if x["action"] == "migrate"]
    assert [x["applied"] for x in migrations] == [True]
