"""Host monitoring, VM polling, the in-oned scheduler, hooks, and restarts."""
from __future__ import annotations

import base64
from pathlib import Path

from lxml import etree

from conftest import Caller, Engine, start_oned, until
from one.core.lifecycle import phases
from one.states import HostState, LcmState as L, VmState as S


def _host(engine: Engine, hid: int) -> etree._Element:
    return engine.doc("one.host.info", hid)


def test_hosts_go_from_init_to_monitored_with_capacity(engine: Engine) -> None:
    hid = engine.host("h0", 'LABEL = "mine"')
    assert _host(engine, hid).findtext("STATE") == str(HostState.INIT)
    engine.monitor()
    doc = _host(engine, hid)
    assert doc.findtext("STATE") == str(HostState.MONITORED)
    assert doc.findtext("HOST_SHARE/MAX_CPU") == "800"
    assert doc.findtext("HOST_SHARE/MAX_MEM") == "16777216"
    assert doc.findtext("MONITORING/CAPACITY/FREE_CPU") == "800"
    assert doc.findtext("TEMPLATE/HYPERVISOR") == "dummy"
    assert doc.findtext("TEMPLATE/LABEL") == "mine"  # the operator's attributes stay


def test_host_error_and_back(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    vid = engine.vm(host=hid)
    engine.rpc.ok("one.host.update", hid, "DUMMY_FAIL = monitor", 1)
    engine.monitor()
    doc = _host(engine, hid)
    assert doc.findtext("STATE") == str(HostState.ERROR)
    assert "injected failure of monitor" in doc.findtext("TEMPLATE/ERROR")
    assert engine.phase(vid) == (S.ACTIVE, L.UNKNOWN)
    engine.rpc.ok("one.host.update", hid, 'DUMMY_FAIL = ""', 1)
    engine.monitor()
    assert _host(engine, hid).findtext("STATE") == str(HostState.MONITORED)
    assert _host(engine, hid).find("TEMPLATE/ERROR") is None
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)  # the probe sees it running again


def test_disabled_and_offline_hosts(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.rpc.ok("one.host.status", hid, 1)
    engine.monitor()
    assert _host(engine, hid).findtext("STATE") == str(HostState.DISABLED)
    assert _host(engine, hid).findtext("HOST_SHARE/MAX_CPU") == "800"  # still monitored
    engine.rpc.ok("one.host.status", hid, 2)
    vid = engine.vm()
    assert "offline" in engine.rpc.fails("one.vm.deploy", vid, hid, code=0x800)


def test_vm_killed_behind_onds_back_goes_poweroff(engine: Engine) -> None:
    hid = engine.host("h0")
    engine.monitor()
    vid = engine.vm(host=hid)
    engine.monitor()
    mon = engine.doc("one.vm.info", vid).find("MONITORING")
    assert mon.findtext("MEMORY") == str(128 * 1024) and int(mon.findtext("TIMESTAMP")) > 0
    engine.hypervisor("h0").kill(f"one-{vid}")
    engine.monitor()
    assert engine.phase(vid) == (S.POWEROFF, 0)
    engine.rpc.ok("one.vm.action", "resume", vid)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)


def test_scheduler_places_pending_vms(engine: Engine) -> None:
    small, big = engine.host("small"), engine.host("big", "TOTALCPU = 1600")
    engine.rpc.ok("one.host.update", big, "TOTALCPU = 1600", 1)
    engine.monitor()
    scheduler = engine.oned.managers.scheduler
    a = engine.vm('CPU = 1 MEMORY = 64 SCHED_REQUIREMENTS = "NAME = big"')
    b = engine.vm('CPU = 1 MEMORY = 64 SCHED_REQUIREMENTS = "NAME = nowhere"')
    c = engine.vm("CPU = 9 MEMORY = 64")
    report = scheduler.cycle()
    engine.settle()
    assert (a, big) in report.dispatched
    assert engine.phase(a) == (S.ACTIVE, L.RUNNING)
    assert engine.phase(b) == (S.PENDING, 0)
    assert "SCHED_REQUIREMENTS" in engine.doc("one.vm.info", b).findtext("USER_TEMPLATE/SCHED_MESSAGE")
    assert engine.phase(c) == (S.PENDING, 0)
    assert "capacity" in engine.doc("one.vm.info", c).findtext("USER_TEMPLATE/SCHED_MESSAGE")
    del small


def test_resched_moves_a_running_vm(engine: Engine) -> None:
    h0, h1 = engine.host("h0"), engine.host("h1")
    engine.monitor()
    vid = engine.vm(host=h0)
    engine.rpc.ok("one.vm.action", "resched", vid)
    engine.oned.managers.scheduler.cycle()
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    records = engine.doc("one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY")
    assert [r.findtext("HID") for r in records] == [str(h0), str(h1)]
    assert engine.doc("one.vm.info", vid).findtext("RESCHED") == "0"


def test_hooks_run_commands_and_plugins_hear(tmp_path: Path) -> None:
    import one_dummy
    out = tmp_path / "hooks.out"
    script = tmp_path / "hook.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {out}\n')
    script.chmod(0o755)
    conf = (f'VM_HOOK = [ NAME = run, ON = RUNNING, COMMAND = "{script}", ARGUMENTS = "$ID $TEMPLATE" ]\n'
            f'VM_HOOK = [ NAME = new, ON = CREATE, COMMAND = "{script}", ARGUMENTS = "created $ID" ]\n'
            f'HOST_HOOK = [ NAME = err, ON = ERROR, COMMAND = "{script}", ARGUMENTS = "host $ID" ]\n')
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text=conf)
    engine = Engine(oned)
    try:
        heard: list[tuple[int, int]] = []
        oned.managers.plugins.register(_Listener(heard), name="listener")
        hid = engine.host("h0")
        engine.monitor()
        vid = engine.vm(host=hid)
        engine.rpc.ok("one.host.update", hid, "DUMMY_FAIL = monitor", 1)
        engine.monitor()
        oned.managers.hooks.stop()
        lines = out.read_text().splitlines()
        assert f"created {vid}" in lines and f"host {hid}" in lines
        run = next(line for line in lines if line.startswith(f"{vid} "))
        assert b"<VM>" in base64.b64decode(run.split()[1])
        assert (vid, L.RUNNING) in heard
    finally:
        oned.stop()


class _Listener:
    def __init__(self, heard: list) -> None:
        self.heard = heard

    from one.plugins import hookimpl

    @hookimpl
    def one_vm_state_changed(self, vm, previous_state, previous_lcm_state) -> None:
        self.heard.append((vm.id, vm.lcm_state))


def test_restart_resumes_operations_in_flight(tmp_path: Path) -> None:
    import one_dummy
    one_dummy.reset()
    first = start_oned(tmp_path)
    engine = Engine(first)
    hid = engine.host("h0")
    engine.monitor()
    running = engine.vm(host=hid)
    stuck = engine.vm()
    engine.lifecycle.runner = _Silent()           # oned dies before the driver answers
    engine.rpc.ok("one.vm.deploy", stuck, hid)
    engine.rpc.ok("one.vm.action", "poweroff", running)
    assert engine.phase(stuck) == (S.ACTIVE, L.PROLOG)
    first.stop()

    second = start_oned(tmp_path)
    again = Engine(second)
    try:
        assert again.phase(stuck) == (S.ACTIVE, L.PROLOG)
        assert second.managers.lifecycle.resume_in_flight() == 2
        again.settle()
        assert again.phase(stuck) == (S.ACTIVE, L.RUNNING)
        assert again.phase(running) == (S.POWEROFF, 0)
        share = again.doc("one.host.info", hid).find("HOST_SHARE")
        assert share.findtext("RUNNING_VMS") == "2"
    finally:
        second.stop()


def test_threaded_engine_and_timeouts(tmp_path: Path) -> None:
    import one_dummy
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text="DRIVER_TIMEOUT = 1\nMONITORING_INTERVAL = 3600\n")
    oned.start_engine()
    rpc = Caller(oned.endpoint)
    try:
        hid = rpc.ok("one.host.allocate", "h0", "dummy", "dummy", -1)
        until(lambda: etree.fromstring(rpc.ok("one.host.info", hid).encode()).findtext("STATE") == "2",
              "host monitored")
        fast = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
        slow = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 DUMMY_DELAY = 3", False)
        phase = lambda v: tuple(int(etree.fromstring(rpc.ok("one.vm.info", v).encode()).findtext(k))
                                for k in ("STATE", "LCM_STATE"))
        until(lambda: phase(fast) == (S.ACTIVE, L.RUNNING), "the fast VM running")
        until(lambda: phase(slow) in phases.FAILURES, "the slow VM failed")
        error = etree.fromstring(rpc.ok("one.vm.info", slow).encode()).findtext("USER_TEMPLATE/ERROR")
        assert "Timeout after 1 s" in error
    finally:
        oned.stop()


class _Silent:
    def submit(self, vm, token, pool, op) -> None:
        pass

    def stop(self) -> None:
        pass
