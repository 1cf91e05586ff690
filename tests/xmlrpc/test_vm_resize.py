"""one.vm.resize: CPU, VCPU and MEMORY of a VM that is not running, with host
capacity and quotas moved and checked in one write (live resize: test_vm_snapshots.py)."""
from __future__ import annotations

import pyone
from lxml import etree

from conftest import ADMIN, Caller, Engine, validate
from one.states import LcmState as L, VmState as S

AUTHORIZATION, ACTION, INTERNAL, LOCKED, NO_EXISTS = 0x200, 0x800, 0x2000, 0x8000, 0x400


def _doc(rpc: Caller, method: str, oid: int) -> etree._Element:
    return etree.fromstring(rpc.ok(method, oid).encode())


def _capacity(rpc: Caller, vid: int) -> tuple[str | None, ...]:
    doc = _doc(rpc, "one.vm.info", vid)
    return tuple(doc.findtext(f"TEMPLATE/{name}") for name in ("CPU", "VCPU", "MEMORY"))


def _share(rpc: Caller, hid: int) -> tuple[str | None, str | None]:
    doc = _doc(rpc, "one.host.info", hid)
    return doc.findtext("HOST_SHARE/CPU_USAGE"), doc.findtext("HOST_SHARE/MEM_USAGE")


def _powered_off(engine: Engine, host: int, template: str = "CPU = 1 MEMORY = 128") -> int:
    vid = engine.vm(template, host)
    engine.rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT)
    return vid


def test_a_powered_off_vm_moves_its_host_share(engine: Engine, hosts) -> None:
    rpc, h0 = engine.rpc, hosts[0]
    vid = _powered_off(engine, h0)
    assert _share(rpc, h0) == ("100", str(128 * 1024))
    assert rpc.ok("one.vm.resize", vid, "CPU = 2.5 VCPU = 4 MEMORY = 512", False) == vid
    assert _capacity(rpc, vid) == ("2.5", "4", "512")
    assert _share(rpc, h0) == ("250", str(512 * 1024))
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    rpc.ok("one.vm.resize", vid, "MEMORY = 256", True)  # what is not given is kept
    assert _capacity(rpc, vid) == ("2.5", "4", "256")
    rpc.ok("one.vm.action", "resume", vid)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert _share(rpc, h0) == ("250", str(256 * 1024))


def test_the_host_must_have_room(engine: Engine, hosts) -> None:
    rpc, h0 = engine.rpc, hosts[0]
    vid = _powered_off(engine, h0)
    engine.vm("CPU = 6 MEMORY = 64", h0)
    message = rpc.fails("one.vm.resize", vid, "CPU = 3", False, code=ACTION)
    assert f"Host [{h0}] does not have enough capacity for VM [{vid}]" in message
    assert _capacity(rpc, vid) == ("1", None, "128")
    assert _share(rpc, h0) == ("700", str(192 * 1024))
    rpc.ok("one.vm.resize", vid, "CPU = 2", False)  # exactly what is left
    assert _share(rpc, h0) == ("800", str(192 * 1024))


def test_pending_hold_and_undeployed_vms_resize(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    held = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    rpc.ok("one.vm.resize", held, "CPU = 0.5 MEMORY = 32", False)
    assert _capacity(rpc, held) == ("0.5", None, "32")
    vid = engine.vm(host=hosts[0])
    rpc.ok("one.vm.action", "undeploy", vid)
    engine.settle()
    assert engine.phase(vid)[0] == S.UNDEPLOYED and _share(rpc, hosts[0]) == ("0", "0")
    rpc.ok("one.vm.resize", vid, "VCPU = 2", False)
    assert _capacity(rpc, vid) == ("1", "2", "128")
    validate(rpc.ok("one.vmpool.info", -2, -1, -1, -1), "vm_pool.xsd")


def test_wrong_states_and_bad_values(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    running = engine.vm(host=hosts[0])  # resized live (tests/xmlrpc/test_vm_snapshots.py)
    rpc.ok("one.vm.action", "suspend", running)
    engine.settle()
    assert "state SUSPENDED" in rpc.fails("one.vm.resize", running, "CPU = 2", False, code=ACTION)
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    for bad in ("CPU = 0", "CPU = -1", "CPU = inf", "MEMORY = 1.5", "VCPU = x",
                "MEMORY = 99999999999999999999"):
        rpc.fails("one.vm.resize", vid, bad, False, code=INTERNAL)
    rpc.fails("one.vm.resize", vid, "CPU = [", False, code=INTERNAL)
    rpc.fails("one.vm.resize", 99, "CPU = 1", False, code=NO_EXISTS)
    assert _capacity(rpc, vid) == ("1", None, "64")
    rpc.ok("one.vm.lock", vid, 2, False)
    rpc.fails("one.vm.resize", vid, "CPU = 2", False, code=LOCKED)


def test_quotas_are_charged_by_the_difference(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    uid = rpc.ok("one.user.allocate", "alice", "pw", "core", [])
    alice = rpc.as_user("alice:pw")
    rpc.ok("one.user.quota", uid, "VM = [ CPU = 4, MEMORY = 1024 ]")
    vid = alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 256", True)
    message = alice.fails("one.vm.resize", vid, "CPU = 5", False, code=AUTHORIZATION)
    assert "limit of 4 reached for CPU quota in VM" in message
    alice.ok("one.vm.resize", vid, "CPU = 4 MEMORY = 128", False)
    used = _doc(rpc, "one.user.info", uid).find("VM_QUOTA/VM")
    assert (used.findtext("CPU_USED"), used.findtext("MEMORY_USED"),
            used.findtext("RUNNING_CPU_USED"), used.findtext("RUNNING_MEMORY_USED")) == (
        "4", "128", "4", "128")
    assert "restricted attribute" in alice.fails("one.vm.resize", vid, "CPU = 1 CPU_COST = 9",
                                                 False, code=AUTHORIZATION)
    rpc.ok("one.vm.recover", vid, 3)
    used = _doc(rpc, "one.user.info", uid).find("VM_QUOTA/VM")
    assert used.findtext("CPU_USED") == "0" and used.findtext("MEMORY_USED") == "0"


def test_pyone_resizes(engine: Engine, hosts) -> None:
    one = pyone.OneServer(engine.oned.endpoint, session=ADMIN)
    vid = _powered_off(engine, hosts[0])
    one.vm.resize(vid, {"TEMPLATE": {"CPU": "2", "MEMORY": "1024"}}, True)
    vm = one.vm.info(vid)
    assert (vm.TEMPLATE["CPU"], vm.TEMPLATE["MEMORY"]) == ("2", "1024")
