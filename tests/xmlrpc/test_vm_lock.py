"""one.vm.lock / one.vm.unlock: OpenNebula's lock levels over every VM operation."""
from __future__ import annotations


import pyone
from lxml import etree

from conftest import ADMIN, Caller, Engine, database, restart_at, start_oned, validate
from one.pool.db import SCHEMA_VERSION
from one.states import LcmState as L, VmState as S

ACTION, API, LOCKED, NO_EXISTS = 0x800, 0x1000, 0x8000, 0x400


def _lock(rpc: Caller, vid: int) -> etree._Element | None:
    return etree.fromstring(rpc.ok("one.vm.info", vid).encode()).find("LOCK")


def _running(engine: Engine, hosts: tuple[int, int]) -> int:
    vid = engine.vm(host=hosts[0])
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    return vid


def test_a_manage_lock_stops_manage_and_admin_operations(engine: Engine, hosts) -> None:
    rpc, vid = engine.rpc, _running(engine, hosts)
    assert rpc.ok("one.vm.lock", vid, 2, False) == vid
    lock = _lock(rpc, vid)
    assert (lock.findtext("LOCKED"), lock.findtext("OWNER")) == ("2", "0")
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    validate(rpc.ok("one.vmpool.info", -2, -1, -1, -1), "vm_pool.xsd")
    assert "VM [%d] is locked (MANAGE)" % vid in rpc.fails("one.vm.action", "poweroff", vid,
                                                           code=LOCKED)
    for method, args in (("update", ("A = 1", 1)), ("rename", ("x",)), ("recover", (2,)),
                         ("migrate", (hosts[1], False)), ("disksaveas", (0, "img"))):
        rpc.fails(f"one.vm.{method}", vid, *args, code=LOCKED)
    rpc.ok("one.vm.chmod", vid, *(-1,) * 8, 1)  # a USE operation passes a MANAGE lock
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)  # nothing refused has happened
    assert etree.fromstring(rpc.ok("one.vm.info", vid).encode()).findtext("NAME") == f"one-{vid}"


def test_an_admin_lock_stops_admin_operations_only(engine: Engine, hosts) -> None:
    rpc, vid = engine.rpc, _running(engine, hosts)
    rpc.ok("one.vm.lock", vid, 3, False)
    for method, args in (("recover", (2,)), ("migrate", (hosts[1], False)),
                         ("action", ("delete",))):
        rpc.fails(f"one.vm.{method}", *((args[0], vid) if method == "action" else (vid, *args)),
                  code=LOCKED)
    rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT)


def test_use_and_all_locks_stop_everything_but_reading(engine: Engine, hosts) -> None:
    rpc, vid = engine.rpc, _running(engine, hosts)
    for level in (1, 4):
        rpc.ok("one.vm.lock", vid, level, False)
        rpc.fails("one.vm.chown", vid, -1, 0, code=LOCKED)
        rpc.fails("one.vm.chmod", vid, *(-1,) * 9, code=LOCKED)
        rpc.fails("one.vm.action", "poweroff", vid, code=LOCKED)
        validate(rpc.ok("one.vm.info", vid), "vm.xsd")
        assert _lock(rpc, vid).findtext("LOCKED") == str(level)
    rpc.ok("one.vm.unlock", vid)
    assert _lock(rpc, vid) is None
    rpc.ok("one.vm.action", "poweroff", vid)


def test_bad_locks(engine: Engine, hosts) -> None:
    rpc, vid = engine.rpc, _running(engine, hosts)
    for level in (0, 5, -1):
        assert "Wrong lock level" in rpc.fails("one.vm.lock", vid, level, False, code=API)
    assert _lock(rpc, vid) is None
    rpc.fails("one.vm.lock", 99, 1, False, code=NO_EXISTS)
    rpc.fails("one.vm.unlock", 99, code=NO_EXISTS)
    rpc.ok("one.vm.unlock", vid)  # unlocking an unlocked VM does nothing
    rpc.ok("one.vm.lock", vid, 4, False)
    assert "already locked" in rpc.fails("one.vm.lock", vid, 2, True, code=ACTION)
    assert _lock(rpc, vid).findtext("LOCKED") == "4"
    rpc.ok("one.vm.lock", vid, 2, False)  # without test, the owner changes the level


def test_only_the_lock_owner_or_oneadmin_lifts_it(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    bob = rpc.as_user("bob:pw")
    vid = bob.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    rpc.ok("one.vm.lock", vid, 1, False)
    assert "locked by user [0]" in bob.fails("one.vm.unlock", vid, code=LOCKED)
    bob.fails("one.vm.action", "hold", vid, code=LOCKED)
    assert _lock(rpc, vid).findtext("OWNER") == "0"
    rpc.ok("one.vm.unlock", vid)
    bob.ok("one.vm.lock", vid, 2, False)
    bob.ok("one.vm.unlock", vid)


def test_pyone_locks_a_vm(engine: Engine, hosts) -> None:
    one = pyone.OneServer(engine.oned.endpoint, session=ADMIN)
    vid = _running(engine, hosts)
    one.vm.lock(vid, 2, False)
    assert one.vm.info(vid).LOCK.LOCKED == 2
    try:
        one.vm.action("poweroff", vid)
        raise AssertionError("a locked VM was powered off")
    except pyone.OneException as exc:
        assert "locked (MANAGE)" in str(exc)
    one.vm.unlock(vid)
    assert one.vm.info(vid).LOCK is None


def test_a_schema_5_database_gets_vm_locks(tmp_path) -> None:
    """VMs of a database from before VM locks (schema 5) are unlocked after the upgrade."""
    first = start_oned(tmp_path)
    vid = Caller(first.endpoint).ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    second = restart_at(first, tmp_path, 5, 'ALTER TABLE "vm" DROP COLUMN "lock"')
    try:
        rpc = Caller(second.endpoint)
        assert _lock(rpc, vid) is None
        rpc.ok("one.vm.lock", vid, 3, False)
        assert _lock(rpc, vid).findtext("LOCKED") == "3"
    finally:
        second.stop()
    with database(tmp_path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
