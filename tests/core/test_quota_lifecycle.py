"""Quota usage stays exact through a VM's life: RUNNING_* follow the phase
(PENDING, HOLD and ACTIVE count; POWEROFF, SUSPENDED, STOPPED, UNDEPLOYED and
DONE do not), DONE frees everything, and going back to a counted phase by a
user's action is refused past a RUNNING_ limit."""
from __future__ import annotations

from conftest import Caller, Engine
from one.states import LcmState as L, VmState as S

AUTHORIZATION = 0x200
RUNNING = (S.ACTIVE, L.RUNNING)


def _alice(engine: Engine) -> tuple[int, Caller]:
    uid = engine.rpc.ok("one.user.allocate", "alice", "pw", "core", [])
    return uid, engine.rpc.as_user("alice:pw")


def _used(engine: Engine, uid: int, owner: str = "user") -> dict[str, str]:
    vm = engine.doc(f"one.{owner}.info", uid).find("VM_QUOTA/VM")
    names = ("VMS", "RUNNING_VMS", "CPU", "RUNNING_CPU", "MEMORY", "RUNNING_MEMORY")
    return {} if vm is None else {n: vm.findtext(f"{n}_USED") or "" for n in names}


def _counts(vms: int, running: int, cpu: float = 1, memory: int = 128) -> dict[str, str]:
    def fmt(value: float) -> str:
        return str(int(value)) if value == int(value) else str(value)
    return {"VMS": str(vms), "RUNNING_VMS": str(running), "CPU": fmt(vms * cpu),
            "RUNNING_CPU": fmt(running * cpu), "MEMORY": str(vms * memory),
            "RUNNING_MEMORY": str(running * memory)}


def _running_vm(engine: Engine, alice: Caller, host: int) -> int:
    vid = alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 128", False)
    engine.rpc.ok("one.vm.deploy", vid, host)
    engine.settle()
    assert engine.phase(vid) == RUNNING
    return vid


def test_usage_follows_poweroff_resume_and_terminate(engine: Engine, hosts) -> None:
    uid, alice = _alice(engine)
    engine.rpc.ok("one.user.quota", uid, "VM = [ RUNNING_VMS = 1 ]")
    first = _running_vm(engine, alice, hosts[0])
    assert _used(engine, uid) == _used(engine, 1, "group") == _counts(1, 1)
    assert "limit of 1 reached for RUNNING_VMS" in alice.fails(
        "one.vm.allocate", "CPU = 1 MEMORY = 128", True, code=AUTHORIZATION)  # HOLD counts

    alice.ok("one.vm.action", "poweroff", first)
    assert _used(engine, uid) == _counts(1, 1)        # SHUTDOWN_POWEROFF still runs
    engine.settle()
    assert engine.phase(first) == (S.POWEROFF, 0)
    assert _used(engine, uid) == _counts(1, 0)

    second = _running_vm(engine, alice, hosts[1])
    assert _used(engine, uid) == _counts(2, 1)
    message = alice.fails("one.vm.action", "resume", first, code=AUTHORIZATION)
    assert "limit of 1 reached for RUNNING_VMS quota in VM" in message
    assert engine.phase(first) == (S.POWEROFF, 0) and _used(engine, uid) == _counts(2, 1)

    alice.ok("one.vm.action", "terminate", second)
    engine.settle()
    assert engine.phase(second) == (S.DONE, 0)
    assert _used(engine, uid) == _counts(1, 0)
    alice.ok("one.vm.action", "resume", first)
    assert _used(engine, uid) == _counts(1, 1)
    engine.settle()
    assert engine.phase(first) == RUNNING

    alice.ok("one.vm.action", "terminate", first)
    engine.settle()
    assert _used(engine, uid) == _counts(0, 0)       # kept: it has a limit
    assert _used(engine, 1, "group") == {}           # no limit, nothing used: dropped


def test_suspend_stop_undeploy_leave_running_and_resume_counts_again(engine: Engine,
                                                                     hosts) -> None:
    uid, alice = _alice(engine)
    vid = _running_vm(engine, alice, hosts[0])
    for action, rest in (("suspend", (S.SUSPENDED, 0)), ("stop", (S.STOPPED, 0)),
                         ("undeploy", (S.UNDEPLOYED, 0))):
        alice.ok("one.vm.action", action, vid)
        engine.settle()
        assert engine.phase(vid) == rest and _used(engine, uid) == _counts(1, 0), action
        alice.ok("one.vm.action", "resume", vid)
        assert _used(engine, uid) == _counts(1, 1), action
        if engine.phase(vid) == (S.PENDING, 0):
            engine.rpc.ok("one.vm.deploy", vid, hosts[0])
        engine.settle()
        assert engine.phase(vid) == RUNNING, action
    alice.ok("one.vm.action", "stop", vid)
    engine.settle()
    engine.rpc.ok("one.user.quota", uid, "VM = [ RUNNING_CPU = 0.5 ]")
    assert "RUNNING_CPU quota" in engine.rpc.fails("one.vm.deploy", vid, hosts[0],
                                                   code=AUTHORIZATION)
    assert engine.phase(vid) == (S.STOPPED, 0) and _used(engine, uid) == _counts(1, 0)
    engine.rpc.ok("one.vm.recover", vid, 3)          # delete
    assert _used(engine, uid) == _counts(0, 0)


def test_a_guest_lost_behind_oneds_back_stops_counting(engine: Engine, hosts) -> None:
    uid, alice = _alice(engine)
    vid = _running_vm(engine, alice, hosts[0])
    engine.hypervisor("h0").kill(f"one-{vid}")
    engine.monitor()
    assert engine.phase(vid) == (S.POWEROFF, 0) and _used(engine, uid) == _counts(1, 0)
    engine.rpc.ok("one.user.quota", uid, "VM = [ RUNNING_VMS = 0 ]")
    alice.fails("one.vm.action", "resume", vid, code=AUTHORIZATION)
    engine.rpc.ok("one.user.quota", uid, "VM = [ RUNNING_VMS = -1 ]")
    alice.ok("one.vm.action", "resume", vid)
    engine.settle()
    assert engine.phase(vid) == RUNNING and _used(engine, uid) == _counts(1, 1)


def test_disk_saveas_counts_the_new_image_in_the_datastore_quota(engine: Engine, hosts) -> None:
    uid, alice = _alice(engine)
    iid = engine.rpc.ok("one.image.allocate", 'NAME = "base" SOURCE = "/srv/base" SIZE = 10', 1)
    engine.rpc.ok("one.image.chown", iid, uid, 1)
    engine.rpc.ok("one.user.quota", uid, "DATASTORE = [ ID = 1, SIZE = 15 ]")
    vid = alice.ok("one.vm.allocate", f"CPU = 1 MEMORY = 128 DISK = [ IMAGE_ID = {iid} ]", False)
    engine.rpc.ok("one.vm.deploy", vid, hosts[0])
    engine.settle()
    assert "limit of 15 reached for SIZE quota in DATASTORE with ID: 1" in alice.fails(
        "one.vm.disksaveas", vid, 0, "saved", "", -1, code=AUTHORIZATION)
    engine.rpc.ok("one.user.quota", uid, "DATASTORE = [ ID = 1, SIZE = 20 ]")
    alice.ok("one.vm.disksaveas", vid, 0, "saved", "", -1)
    ds = engine.doc("one.user.info", uid).find("DATASTORE_QUOTA/DATASTORE")
    assert (ds.findtext("IMAGES_USED"), ds.findtext("SIZE_USED")) == ("2", "20")
