"""A VM the monitor moves (its guest gone, e.g. after a restart of oned) says why in its log."""
from __future__ import annotations

from pathlib import Path

from conftest import Engine
from one.states import LcmState as L
from one.states import VmState as S


def test_vm_log_says_the_guest_was_not_found(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    vid = engine.vm(host=hid)
    engine.hypervisor("h0").kill(f"one-{vid}")
    engine.monitor()
    assert engine.phase(vid) == (S.POWEROFF, 0)
    log = Path(engine.oned.managers.logs.path(vid)).read_text().splitlines()
    reason = [n for n, line in enumerate(log)
              if line.endswith("[LCM][I]: VM not found on host h0 by the monitor: POWEROFF")]
    assert reason and log[reason[0] + 1].endswith("[LCM][I]: New state is POWEROFF"), log
    assert sum("by the monitor" in line for line in log) == 1  # only where the poll moved it


def test_vm_log_says_its_host_stopped_answering(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    vid = engine.vm(host=hid)
    engine.rpc.ok("one.host.update", hid, "DUMMY_FAIL = monitor", 1)
    engine.monitor()
    assert engine.phase(vid) == (S.ACTIVE, L.UNKNOWN)
    log = Path(engine.oned.managers.logs.path(vid)).read_text().splitlines()
    reason = [n for n, line in enumerate(log)
              if line.endswith("[LCM][I]: Host h0 does not answer the monitor: UNKNOWN")]
    assert reason and log[reason[0] + 1].endswith("[LCM][I]: New state is UNKNOWN"), log
