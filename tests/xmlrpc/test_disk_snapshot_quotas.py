"""Disk snapshots in quotas, as oned counts them (VirtualMachineDisk::resize_quotas): a
snapshot is another disk of its size, paid in SYSTEM_DISK_SIZE by the VM's owner for a disk
in the system datastore (a clone, with the dummy TM), in the image datastore's SIZE by the
image's owner for a persistent image; refused past a limit with nothing changed, freed by
snapshot delete and at DONE, counted again at start."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from conftest import Caller, Engine, start_oned, validate
from one.pool.models import Quota
from one.states import LcmState as L, VmState as S

AUTHORIZATION = 0x200
RUNNING, POWEROFF = (S.ACTIVE, L.RUNNING), (S.POWEROFF, L.LCM_INIT)


def _user(rpc: Caller, name: str) -> tuple[int, Caller]:
    uid = rpc.ok("one.user.allocate", name, "pw", "core", [])
    return uid, rpc.as_user(f"{name}:pw")


def _image(engine: Engine, uid: int, persistent: bool) -> int:
    iid = engine.rpc.ok("one.image.allocate", f'NAME = "base-{uid}-{persistent}" SIZE = 10 '
                        f'SOURCE = "/srv/base" PERSISTENT = "{"YES" if persistent else "NO"}"', 1)
    engine.rpc.ok("one.image.chown", iid, uid, 1)
    engine.rpc.ok("one.image.chmod", iid, -1, -1, -1, 1, -1, -1, -1, -1, -1)   # group USE
    return iid


def _used(engine: Engine, uid: int) -> tuple[str | None, str | None]:
    """(VM SYSTEM_DISK_SIZE_USED, DATASTORE 1 SIZE_USED) of the user."""
    doc = engine.doc("one.user.info", uid)
    ds = next((d for d in doc.iterfind("DATASTORE_QUOTA/DATASTORE") if d.findtext("ID") == "1"),
              None)
    return (doc.findtext("VM_QUOTA/VM/SYSTEM_DISK_SIZE_USED"),
            None if ds is None else ds.findtext("SIZE_USED"))


def _snap_ids(engine: Engine, vid: int) -> list[str | None]:
    return [s.findtext("ID") for s in engine.doc("one.vm.info", vid).iterfind("SNAPSHOTS/SNAPSHOT")]


def _vm(engine: Engine, caller: Caller, iid: int, host: int) -> int:
    vid = caller.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {iid} ]", False)
    engine.rpc.ok("one.vm.deploy", vid, host)
    engine.settle()
    assert engine.phase(vid) == RUNNING
    return vid


def test_snapshots_of_a_clone_count_in_system_disk_size(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    uid, alice = _user(rpc, "alice")
    rpc.ok("one.user.quota", uid, "VM = [ SYSTEM_DISK_SIZE = 35 ]")
    vid = _vm(engine, alice, _image(engine, uid, persistent=False), hosts[0])
    assert _used(engine, uid)[0] == "10"
    alice.ok("one.vm.disksnapshotcreate", vid, 0, "a")
    assert _used(engine, uid)[0] == "20"   # charged with the request
    engine.settle()
    alice.ok("one.vm.disksnapshotcreate", vid, 0, "b")
    engine.settle()
    assert _used(engine, uid)[0] == "30"
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/DISK/DISK_SNAPSHOT_TOTAL_SIZE") == "20"
    validate(rpc.ok("one.user.info", uid), "user.xsd")
    before = rpc.ok("one.vm.info", vid)
    message = alice.fails("one.vm.disksnapshotcreate", vid, 0, "c", code=AUTHORIZATION)
    assert message == (f"[one.vm.disksnapshotcreate] User [{uid}] : User [{uid}] limit of 35 reached for SYSTEM_DISK_SIZE "
                       "quota in VM. Requested: 10, Limit: 35, Used: 30.")
    assert rpc.ok("one.vm.info", vid) == before and _used(engine, uid)[0] == "30"
    rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    alice.ok("one.vm.disksnapshotrevert", vid, 0, 0)
    engine.settle()
    alice.ok("one.vm.disksnapshotdelete", vid, 0, 1)
    assert _used(engine, uid)[0] == "30"   # freed once the driver has deleted it
    engine.settle()
    assert engine.phase(vid) == POWEROFF and _snap_ids(engine, vid) == ["0"]
    assert _used(engine, uid)[0] == "20"
    rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    assert _used(engine, uid)[0] == "0"


def test_a_snapshot_the_driver_fails_is_refunded(engine: Engine, hosts) -> None:
    uid, alice = _user(engine.rpc, "alice")
    vid = alice.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 DUMMY_FAIL = disk_snapshot_create "
                                      f"DISK = [ IMAGE_ID = {_image(engine, uid, False)} ]", False)
    engine.rpc.ok("one.vm.deploy", vid, hosts[0])
    engine.settle()
    alice.ok("one.vm.disksnapshotcreate", vid, 0, "doomed")
    assert _used(engine, uid)[0] == "20"
    engine.settle()
    assert engine.phase(vid) == RUNNING and _snap_ids(engine, vid) == []
    assert _used(engine, uid)[0] == "10"


def test_snapshots_of_a_persistent_image_are_paid_by_its_owner(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    owner, _ = _user(rpc, "bob")
    uid, alice = _user(rpc, "alice")
    rpc.ok("one.user.quota", owner, "DATASTORE = [ ID = 1, SIZE = 25 ]")
    vid = _vm(engine, alice, _image(engine, owner, persistent=True), hosts[0])
    assert _used(engine, owner) == (None, "10") and _used(engine, uid) == ("0", None)
    alice.ok("one.vm.disksnapshotcreate", vid, 0, "a")
    engine.settle()
    assert _used(engine, owner) == (None, "20") and _used(engine, uid) == ("0", None)
    message = alice.fails("one.vm.disksnapshotcreate", vid, 0, "b", code=AUTHORIZATION)
    assert message == (f"[one.vm.disksnapshotcreate] User [{owner}] : User [{owner}] limit of 25 reached for SIZE quota in "
                       "DATASTORE with ID: 1. Requested: 10, Limit: 25, Used: 20.")
    assert _snap_ids(engine, vid) == ["0"] and engine.phase(vid) == RUNNING
    group = engine.doc("one.group.info", 1).find("DATASTORE_QUOTA/DATASTORE")
    assert group.findtext("SIZE_USED") == "20"
    rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    assert _used(engine, owner) == (None, "10")   # the image stays; its VM's snapshots go


def test_snapshot_usage_is_recounted_at_start(tmp_path: Path) -> None:
    oned = start_oned(tmp_path)
    try:
        engine = Engine(oned)
        host = engine.host("h0")
        engine.monitor()
        owner, _ = _user(engine.rpc, "bob")
        uid, alice = _user(engine.rpc, "alice")
        clone = _vm(engine, alice, _image(engine, uid, persistent=False), host)
        kept = _vm(engine, alice, _image(engine, owner, persistent=True), host)
        for vid in (clone, kept):
            alice.ok("one.vm.disksnapshotcreate", vid, 0, "s")
            engine.settle()
        expected = [engine.rpc.ok("one.user.info", u) for u in (uid, owner)]
        assert _used(engine, uid) == ("20", "10") and _used(engine, owner) == (None, "20")
        with oned.managers.pools.store.write():
            Quota.update(data={}).where(Quota.oid > 0).execute()
    finally:
        oned.stop()
    oned = start_oned(tmp_path)
    try:
        rpc = Caller(oned.endpoint)
        assert [rpc.ok("one.user.info", u) for u in (uid, owner)] == expected
        doc = etree.fromstring(rpc.ok("one.group.info", 1).encode())
        assert doc.findtext("VM_QUOTA/VM/SYSTEM_DISK_SIZE_USED") == "20"
        assert doc.findtext("DATASTORE_QUOTA/DATASTORE/SIZE_USED") == "30"
    finally:
        oned.stop()
