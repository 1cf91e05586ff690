"""System snapshots, disk snapshots, disk resize, live resize and updateconf through the
real server: phases (HOTPLUG_SNAPSHOT, DISK_SNAPSHOT*, DISK_RESIZE*, HOTPLUG_RESIZE),
XSD-valid documents, wrong states, locks, driver failures and drivers that lack the action."""
from __future__ import annotations

import itertools
from pathlib import Path

import pyone
import pytest
from lxml import etree

from conftest import ADMIN, Caller, Engine, database, restart_at, start_oned, validate
from one.pool.db import SCHEMA_VERSION
from one.plugins import HostView, VMMDriver, VmView
from one.states import LcmState as L, VmState as S

AUTHORIZATION, ACTION, API, LOCKED, NO_EXISTS = 0x200, 0x800, 0x1000, 0x8000, 0x400
RUNNING, POWEROFF = (S.ACTIVE, L.RUNNING), (S.POWEROFF, L.LCM_INIT)
UNDEPLOYED = (S.UNDEPLOYED, L.LCM_INIT)
_IMAGES = itertools.count()


class BareVMM(VMMDriver):
    """Boots and stops guests, nothing else: every change in place must fail clearly."""

    name = "bare"

    def deploy(self, vm: VmView, host: HostView) -> str:
        return f"bare-{vm.id}"

    def shutdown(self, vm: VmView, host: HostView) -> None:
        """Nothing to stop."""

    cancel = shutdown


def _image(engine: Engine) -> int:
    name = f"data-{next(_IMAGES)}"
    return engine.rpc.ok("one.image.allocate", f'NAME = "{name}" TYPE = "DATABLOCK" SIZE = 10', 1)


def _running(engine: Engine, host: int, extra: str = "") -> int:
    return engine.vm(f"CPU = 1 MEMORY = 128 DISK = [ IMAGE_ID = {_image(engine)} ] "
                     f"DISK = [ TYPE = fs, SIZE = 5 ] {extra}", host)


def _off(engine: Engine, vid: int) -> None:
    engine.rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    assert engine.phase(vid) == POWEROFF


def _snapshots(engine: Engine, vid: int) -> list[etree._Element]:
    return engine.doc("one.vm.info", vid).findall("TEMPLATE/SNAPSHOT")


def _disk_snaps(engine: Engine, vid: int) -> list[tuple[str | None, ...]]:
    return [(s.findtext("ID"), s.findtext("NAME"), s.findtext("PARENT"), s.findtext("ACTIVE"),
             s.findtext("CHILDREN")) for s in engine.doc("one.vm.info", vid).findall(
                 "SNAPSHOTS/SNAPSHOT")]


def _history_action(engine: Engine, vid: int) -> str | None:
    return engine.doc("one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY")[-1].findtext("ACTION")


def test_system_snapshot_create_revert_delete(engine: Engine, hosts) -> None:
    rpc, h0 = engine.rpc, hosts[0]
    vid = _running(engine, h0)
    assert rpc.ok("one.vm.snapshotcreate", vid, "before") == 0
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_SNAPSHOT)
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")          # ACTION CREATE, no hypervisor id yet
    rpc.fails("one.vm.snapshotcreate", vid, "again", code=ACTION)  # busy: wrong state
    engine.settle()
    assert engine.phase(vid) == RUNNING and _history_action(engine, vid) == "37"
    assert rpc.ok("one.vm.snapshotcreate", vid, "") == 1
    engine.settle()
    first, second = _snapshots(engine, vid)
    assert (first.findtext("NAME"), first.findtext("HYPERVISOR_ID"), first.findtext("ACTIVE")) == (
        "before", "snap-0", None)
    assert (second.findtext("NAME"), second.findtext("ACTIVE")) == ("snapshot-1", "YES")
    assert engine.hypervisor("h0").get("one-%d" % vid).snapshots == ("snap-0", "snap-1")
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    assert rpc.ok("one.vm.snapshotrevert", vid, 0) == vid
    engine.settle()
    assert [s.findtext("ACTIVE") for s in _snapshots(engine, vid)] == ["YES", None]
    assert _history_action(engine, vid) == "39"
    rpc.ok("one.vm.snapshotdelete", vid, 1)
    engine.settle()
    assert [s.findtext("SNAPSHOT_ID") for s in _snapshots(engine, vid)] == ["0"]
    assert engine.hypervisor("h0").get("one-%d" % vid).snapshots == ("snap-0",)
    rpc.fails("one.vm.snapshotrevert", vid, 7, code=ACTION)
    rpc.fails("one.vm.snapshotdelete", vid, 7, code=ACTION)
    rpc.fails("one.vm.snapshotcreate", 99, "x", code=NO_EXISTS)


def test_system_snapshots_only_while_running(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts[0])
    rpc.ok("one.vm.snapshotcreate", vid, "s")
    engine.settle()
    _off(engine, vid)
    for method, args in (("one.vm.snapshotcreate", ("x",)), ("one.vm.snapshotrevert", (0,)),
                         ("one.vm.snapshotdelete", (0,))):
        assert "Wrong state" in rpc.fails(method, vid, *args, code=ACTION)
    held = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    assert "HOLD" in rpc.fails("one.vm.snapshotcreate", held, "x", code=ACTION)
    assert len(_snapshots(engine, vid)) == 1


def test_a_failing_driver_undoes_the_request(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts[0], 'DUMMY_FAIL = "snapshot_create disk_resize resize"')
    rpc.ok("one.vm.snapshotcreate", vid, "doomed")
    engine.settle()
    doc = engine.doc("one.vm.info", vid)
    assert engine.phase(vid) == RUNNING and _snapshots(engine, vid) == []
    assert "snapshot_create failed: dummy: injected failure" in doc.findtext("USER_TEMPLATE/ERROR")
    rpc.ok("one.vm.diskresize", vid, 1, "50")
    assert engine.doc("one.vm.info", vid).findall("TEMPLATE/DISK")[1].findtext("SIZE") == "50"
    engine.settle()
    assert engine.doc("one.vm.info", vid).findall("TEMPLATE/DISK")[1].findtext("SIZE") == "5"
    rpc.ok("one.vm.resize", vid, "MEMORY = 512", False)
    engine.settle()
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/MEMORY") == "128"
    assert engine.doc("one.host.info", hosts[0]).findtext("HOST_SHARE/MEM_USAGE") == str(128 * 1024)
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")


@pytest.mark.parametrize("method, args, op", [
    ("one.vm.snapshotcreate", ("s",), "snapshot_create"),
    ("one.vm.disksnapshotcreate", (0, "d"), "disk_snapshot_create"),
    ("one.vm.diskresize", (0, "20"), "disk_resize"),
    ("one.vm.resize", ("VCPU = 2", False), "resize"),
])
def test_a_driver_that_lacks_the_action_fails_it(engine: Engine, method: str, args: tuple,
                                                 op: str) -> None:
    engine.oned.managers.plugins.registries["vmm"].add(BareVMM)
    host = engine.rpc.ok("one.host.allocate", "bare0", "dummy", "bare", -1)
    engine.monitor()
    vid = _running(engine, host)
    before = engine.doc("one.vm.info", vid)
    engine.rpc.ok(method, vid, *args)
    engine.settle()
    after = engine.doc("one.vm.info", vid)
    assert engine.phase(vid) == RUNNING
    assert f"{op} failed: vmm driver 'bare' does not support {op}" in after.findtext(
        "USER_TEMPLATE/ERROR")
    for path in ("TEMPLATE/VCPU", "TEMPLATE/MEMORY", "TEMPLATE/DISK/SIZE", "TEMPLATE/SNAPSHOT"):
        assert after.findtext(path) == before.findtext(path), path
    assert after.find("SNAPSHOTS") is None


def test_disk_snapshots_tree(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts[0])
    assert rpc.ok("one.vm.disksnapshotcreate", vid, 0, "a") == 0
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_SNAPSHOT)
    engine.settle()
    assert _history_action(engine, vid) == "25"
    rpc.ok("one.vm.disksnapshotcreate", vid, 0, "b")
    engine.settle()
    assert _disk_snaps(engine, vid) == [("0", "a", "-1", None, "1"), ("1", "b", "0", "YES", None)]
    assert "revert" in rpc.fails("one.vm.disksnapshotrevert", vid, 0, 0, code=ACTION)  # running
    assert "active snapshot" in rpc.fails("one.vm.disksnapshotdelete", vid, 0, 1, code=ACTION)
    assert "children" in rpc.fails("one.vm.disksnapshotdelete", vid, 0, 0, code=ACTION)
    _off(engine, vid)
    rpc.ok("one.vm.disksnapshotrevert", vid, 0, 0)
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_SNAPSHOT_REVERT_POWEROFF)
    engine.settle()
    assert engine.phase(vid) == POWEROFF
    rpc.ok("one.vm.disksnapshotdelete", vid, 0, 1)
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_SNAPSHOT_DELETE_POWEROFF)
    engine.settle()
    rpc.ok("one.vm.disksnapshotcreate", vid, 0, "c")
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_SNAPSHOT_POWEROFF)
    engine.settle()
    assert rpc.ok("one.vm.disksnapshotrename", vid, 0, 2, "renamed") == vid
    assert _disk_snaps(engine, vid) == [("0", "a", "-1", None, "2"),
                                        ("2", "renamed", "0", "YES", None)]
    doc = rpc.ok("one.vm.info", vid)
    validate(doc, "vm.xsd")
    assert etree.fromstring(doc.encode()).findtext("SNAPSHOTS/CURRENT_BASE") == "2"
    validate(rpc.ok("one.vmpool.info", -2, -1, -1, -1), "vm_pool.xsd")


def test_disk_snapshot_bad_input(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts[0])
    assert "volatile" in rpc.fails("one.vm.disksnapshotcreate", vid, 1, "v", code=ACTION)
    assert "no disk 9" in rpc.fails("one.vm.disksnapshotcreate", vid, 9, "v", code=ACTION)
    assert "no snapshots" in rpc.fails("one.vm.disksnapshotdelete", vid, 0, 0, code=ACTION)
    rpc.ok("one.vm.disksnapshotcreate", vid, 0, "a")
    engine.settle()
    assert "no snapshot 5" in rpc.fails("one.vm.disksnapshotrename", vid, 0, 5, "x", code=ACTION)
    assert "empty" in rpc.fails("one.vm.disksnapshotrename", vid, 0, 0, " ", code=API)
    rpc.fails("one.vm.disksnapshotcreate", vid, "zero", "a", code=API)
    rpc.ok("one.vm.action", "suspend", vid)
    engine.settle()
    rpc.ok("one.vm.disksnapshotcreate", vid, 0, "s")
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_SNAPSHOT_SUSPENDED)
    engine.settle()
    assert engine.phase(vid) == (S.SUSPENDED, 0)
    assert len(_disk_snaps(engine, vid)) == 2


def test_disk_resize_grows_and_charges_quota(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    uid = rpc.ok("one.user.allocate", "alice", "pw", "core", [])
    alice = rpc.as_user("alice:pw")
    rpc.ok("one.user.quota", uid, "VM = [ SYSTEM_DISK_SIZE = 100 ]")
    vid = alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 DISK = [ TYPE = fs, SIZE = 5 ]", False)
    rpc.ok("one.vm.deploy", vid, hosts[0])
    engine.settle()
    alice.ok("one.vm.diskresize", vid, 0, "60")
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_RESIZE)
    engine.settle()
    assert engine.phase(vid) == RUNNING and _history_action(engine, vid) == "29"
    quota = engine.doc("one.user.info", uid).find("VM_QUOTA/VM")
    assert quota.findtext("SYSTEM_DISK_SIZE_USED") == "60"
    assert "limit of 100" in alice.fails("one.vm.diskresize", vid, 0, "101",
                                         code=AUTHORIZATION)
    assert "greater than" in alice.fails("one.vm.diskresize", vid, 0, "60", code=ACTION)
    assert "whole number" in alice.fails("one.vm.diskresize", vid, 0, "6x", code=API)
    _off(engine, vid)
    alice.ok("one.vm.diskresize", vid, 0, "80")
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_RESIZE_POWEROFF)
    engine.settle()
    assert engine.phase(vid) == POWEROFF
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/DISK/SIZE") == "80"
    rpc.ok("one.vm.action", "undeploy", vid)
    engine.settle()
    assert "limit of 100" in alice.fails("one.vm.diskresize", vid, 0, "101", code=AUTHORIZATION)
    assert engine.phase(vid) == UNDEPLOYED
    undeploy = _history_action(engine, vid)
    alice.ok("one.vm.diskresize", vid, 0, "90")
    assert engine.phase(vid) == (S.ACTIVE, L.DISK_RESIZE_UNDEPLOYED)
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    engine.settle()
    assert engine.phase(vid) == UNDEPLOYED and _history_action(engine, vid) == undeploy
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/DISK/SIZE") == "90"
    assert _system_disk_used(engine, uid) == "90"
    log = Path(engine.oned.managers.logs.path(vid)).read_text()   # the TM grows it, as oned's
    assert f"RESIZE frontend:{engine.oned.config.var_location}/vms/{vid}/disk.0 90" in log


def _system_disk_used(engine: Engine, uid: int) -> str | None:
    return engine.doc("one.user.info", uid).findtext("VM_QUOTA/VM/SYSTEM_DISK_SIZE_USED")


def test_disk_resize_of_an_undeployed_vm_failing_is_undone(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    uid = rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    bob = rpc.as_user("bob:pw")
    vid = bob.ok("one.vm.allocate", "CPU = 1 MEMORY = 64 DISK = [ TYPE = fs, SIZE = 5 ]", False)
    rpc.ok("one.vm.deploy", vid, hosts[0])
    engine.settle()
    rpc.ok("one.vm.action", "undeploy", vid)
    engine.settle()
    rpc.ok("one.vm.update", vid, 'DUMMY_FAIL = "execute"', 1)   # the TM step fails
    bob.ok("one.vm.diskresize", vid, 0, "40")
    assert _system_disk_used(engine, uid) == "40"
    engine.settle()
    assert engine.phase(vid) == UNDEPLOYED
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/DISK/SIZE") == "5"
    assert _system_disk_used(engine, uid) == "5"
    assert "disk_resize failed" in engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")


def test_live_resize_checks_host_and_quotas(engine: Engine, hosts) -> None:
    rpc, h0 = engine.rpc, hosts[0]
    vid = _running(engine, h0)
    assert rpc.ok("one.vm.resize", vid, "VCPU = 2 MEMORY = 512", False) == vid
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_RESIZE)
    rpc.fails("one.vm.resize", vid, "MEMORY = 256", False, code=ACTION)   # busy
    engine.settle()
    assert engine.phase(vid) == RUNNING and _history_action(engine, vid) == "35"
    domain = engine.hypervisor("h0").get(f"one-{vid}")
    assert (domain.vcpu, domain.memory_kib) == (2, 512 * 1024)
    assert engine.doc("one.host.info", h0).findtext("HOST_SHARE/MEM_USAGE") == str(512 * 1024)
    message = rpc.fails("one.vm.resize", vid, "CPU = 9", False, code=ACTION)
    assert "does not have enough capacity" in message
    assert engine.phase(vid) == RUNNING
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")


def test_updateconf(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts[0], 'GRAPHICS = [ TYPE = vnc ] CONTEXT = [ A = "1" ] '
                                     'OS = [ ARCH = x86_64 ]')
    port = engine.doc("one.vm.info", vid).findtext("TEMPLATE/GRAPHICS/PORT")
    rpc.ok("one.vm.updateconf", vid, 'OS = [ BOOT = "disk0", BOGUS = "x" ] '
                                     'GRAPHICS = [ TYPE = vnc, LISTEN = "0.0.0.0" ]', 0)
    doc = engine.doc("one.vm.info", vid)
    assert (doc.findtext("TEMPLATE/OS/BOOT"), doc.find("TEMPLATE/OS/ARCH"),
            doc.find("TEMPLATE/OS/BOGUS")) == ("disk0", None, None)
    assert (doc.findtext("TEMPLATE/GRAPHICS/LISTEN"), doc.findtext("TEMPLATE/GRAPHICS/PORT")) == (
        "0.0.0.0", port)
    assert doc.findtext("TEMPLATE/CONTEXT/A") == "1"          # kept: not given
    rpc.ok("one.vm.updateconf", vid, 'CONTEXT = [ B = "2" ]', 1)
    engine.settle()
    doc = engine.doc("one.vm.info", vid)
    assert (doc.findtext("TEMPLATE/CONTEXT/A"), doc.findtext("TEMPLATE/CONTEXT/B")) == ("1", "2")
    assert doc.findtext("TEMPLATE/OS/BOOT") == "disk0"        # append keeps the others
    assert doc.find("USER_TEMPLATE/ERROR") is None and engine.phase(vid) == RUNNING
    validate(etree.tostring(doc).decode(), "vm.xsd")
    rpc.ok("one.vm.action", "suspend", vid)
    engine.settle()
    assert "SUSPENDED" in rpc.fails("one.vm.updateconf", vid, "OS = [ BOOT = hd ]", 0,
                                    code=ACTION)
    rpc.fails("one.vm.updateconf", vid, "OS = [", 0, code=0x2000)


def test_updateconf_failure_is_recorded(engine: Engine, hosts) -> None:
    vid = _running(engine, hosts[0], 'DUMMY_FAIL = "update_conf"')
    engine.rpc.ok("one.vm.updateconf", vid, 'FEATURES = [ ACPI = "no" ]', 0)
    engine.settle()
    doc = engine.doc("one.vm.info", vid)
    assert doc.findtext("TEMPLATE/FEATURES/ACPI") == "no" and engine.phase(vid) == RUNNING
    assert "update_conf: dummy: injected failure" in doc.findtext("USER_TEMPLATE/ERROR")


@pytest.mark.parametrize("level, refused", [(1, True), (2, True), (3, False), (4, True)])
def test_locks(engine: Engine, hosts, level: int, refused: bool) -> None:
    """MANAGE operations: stopped by USE, MANAGE and ALL locks, not by ADMIN ones."""
    rpc = engine.rpc
    vid = _running(engine, hosts[0])
    rpc.ok("one.vm.lock", vid, level, False)
    calls = [("one.vm.snapshotcreate", "s"), ("one.vm.disksnapshotcreate", 0, "d"),
             ("one.vm.diskresize", 0, "30"), ("one.vm.updateconf", "OS = [ BOOT = hd ]", 0)]
    for method, *args in calls:
        if refused:
            assert "locked" in rpc.fails(method, vid, *args, code=LOCKED)
        else:
            rpc.ok(method, vid, *args)
            engine.settle()


def test_other_users_need_manage(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    bob = rpc.as_user("bob:pw")
    vid = _running(engine, hosts[0])
    for method, *args in [("one.vm.snapshotcreate", "s"), ("one.vm.snapshotrevert", 0),
                          ("one.vm.disksnapshotcreate", 0, "d"), ("one.vm.diskresize", 0, "30"),
                          ("one.vm.disksnapshotrename", 0, 0, "x"),
                          ("one.vm.updateconf", "OS = [ BOOT = hd ]", 0)]:
        bob.fails(method, vid, *args, code=AUTHORIZATION)
    assert engine.phase(vid) == RUNNING


def test_pyone_end_to_end(engine: Engine, hosts) -> None:
    one = pyone.OneServer(engine.oned.endpoint, session=ADMIN)
    vid = _running(engine, hosts[0])
    snap = one.vm.snapshotcreate(vid, "p")
    engine.settle()
    disk_snap = one.vm.disksnapshotcreate(vid, 0, "pd")
    engine.settle()
    one.vm.diskresize(vid, 0, "30")
    engine.settle()
    one.vm.updateconf(vid, {"TEMPLATE": {"CONTEXT": {"X": "1"}}}, 1)
    engine.settle()
    one.vm.disksnapshotrename(vid, 0, disk_snap, "renamed")
    vm = one.vm.info(vid)
    [snapshot] = vm.TEMPLATE["SNAPSHOT"]      # pyone lists SNAPSHOT even when alone
    assert (snapshot["SNAPSHOT_ID"], snapshot["NAME"]) == (str(snap), "p")
    assert vm.SNAPSHOTS[0].SNAPSHOT[0].NAME == "renamed"
    assert vm.LCM_STATE == L.RUNNING and vm.TEMPLATE["CONTEXT"]["X"] == "1"
    one.vm.snapshotdelete(vid, snap)
    engine.settle()
    assert "SNAPSHOT" not in one.vm.info(vid).TEMPLATE


def test_a_schema_6_database_gets_disk_snapshots(tmp_path) -> None:
    """VMs of a database from before disk snapshots (schema 6) have none after the upgrade."""
    first = start_oned(tmp_path)
    vid = Caller(first.endpoint).ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    second = restart_at(first, tmp_path, 6, 'ALTER TABLE "vm" DROP COLUMN "snapshots"')
    try:
        doc = etree.fromstring(Caller(second.endpoint).ok("one.vm.info", vid).encode())
        assert doc.find("SNAPSHOTS") is None
    finally:
        second.stop()
    with database(tmp_path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)


def test_a_change_caught_by_a_restart_runs_then(tmp_path) -> None:
    """The CHANGE kept in the history record survives oned: the new one runs it."""
    first = start_oned(tmp_path)
    engine = Engine(first)
    hid = engine.host("h0")
    engine.monitor()
    snapped, grown = _running(engine, hid), _running(engine, hid)
    engine.rpc.ok("one.vm.snapshotcreate", snapped, "kept")
    engine.rpc.ok("one.vm.diskresize", grown, 1, "40")
    first.stop()                                   # before the driver ran either

    second = start_oned(tmp_path)
    again = Engine(second)
    try:
        assert again.phase(snapped) == (S.ACTIVE, L.HOTPLUG_SNAPSHOT)
        assert second.managers.lifecycle.resume_in_flight() == 2
        again.settle()
        assert again.phase(snapped) == RUNNING and again.phase(grown) == RUNNING
        assert again.doc("one.vm.info", snapped).findtext("TEMPLATE/SNAPSHOT/HYPERVISOR_ID") == \
            "snap-0"
        assert again.doc("one.vm.info", grown).findall("TEMPLATE/DISK")[1].findtext("SIZE") == "40"
    finally:
        second.stop()


def test_updateconf_on_a_driver_without_it_records_the_error(engine: Engine) -> None:
    engine.oned.managers.plugins.registries["vmm"].add(BareVMM)
    host = engine.rpc.ok("one.host.allocate", "bare0", "dummy", "bare", -1)
    engine.monitor()
    vid = _running(engine, host)
    engine.rpc.ok("one.vm.updateconf", vid, 'OS = [ BOOT = "hd" ]', 0)
    engine.settle()
    doc = engine.doc("one.vm.info", vid)
    assert doc.findtext("TEMPLATE/OS/BOOT") == "hd" and engine.phase(vid) == RUNNING
    assert "update_conf: vmm driver 'bare' does not support update_conf" in doc.findtext(
        "USER_TEMPLATE/ERROR")
