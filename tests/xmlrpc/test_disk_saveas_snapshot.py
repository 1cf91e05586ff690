"""one.vm.disksaveas with a snapshot id (its 5th argument; -1 is the disk as it is): the
epilog copies that disk snapshot into the new image (a CPDS step with the snapshot id, as
oned's TM gets it), an unknown snapshot is oned's INTERNAL error with nothing changed, and
the snapshot to be saved cannot be deleted meanwhile."""
from __future__ import annotations

from pathlib import Path

import pyone

from conftest import ADMIN, Engine, validate
from one.states import ImageState, LcmState as L, VmState as S

ACTION, INTERNAL = 0x800, 0x2000
POWEROFF = (S.POWEROFF, L.LCM_INIT)


def _vm_with_snapshots(engine: Engine, host: int) -> int:
    """Disk 0 with snapshots 0 and 1, powered off and back on snapshot 0 (1 a leaf)."""
    iid = engine.rpc.ok("one.image.allocate", 'NAME = "os" TYPE = "DATABLOCK" SIZE = 10', 1)
    vid = engine.vm(f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {iid} ]", host)
    for name in ("first", "second"):
        engine.rpc.ok("one.vm.disksnapshotcreate", vid, 0, name)
        engine.settle()
    engine.rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    engine.rpc.ok("one.vm.disksnapshotrevert", vid, 0, 0)
    engine.settle()
    assert engine.phase(vid) == POWEROFF
    return vid


def test_saving_a_snapshot_copies_it_at_the_epilog(engine: Engine, hosts) -> None:
    vid = _vm_with_snapshots(engine, hosts[0])
    one = pyone.OneServer(engine.oned.endpoint, session=ADMIN)
    saved = one.vm.disksaveas(vid, 0, "from-snapshot", "", 1)
    doc = engine.doc("one.vm.info", vid)
    assert doc.findtext("TEMPLATE/DISK/SAVE_AS") == str(saved)
    assert doc.findtext("TEMPLATE/DISK/SAVE_AS_SNAPSHOT_ID") == "1"
    validate(engine.rpc.ok("one.vm.info", vid), "vm.xsd")
    image = one.image.info(saved)
    assert (image.STATE, image.SIZE) == (ImageState.LOCKED, 10)
    validate(engine.rpc.ok("one.image.info", saved), "image.xsd")
    message = engine.rpc.fails("one.vm.disksnapshotdelete", vid, 0, 1, code=ACTION)
    assert f"to be saved as image {saved}" in message
    one.vm.action("terminate-hard", vid)
    engine.settle()
    source = one.image.info(saved).SOURCE
    log = Path(engine.oned.managers.logs.path(vid)).read_text()
    assert f"CPDS h0:/var/lib/one/datastores/0/{vid}/disk.0 frontend:{source} 1" in log
    assert f" MV h0:/var/lib/one/datastores/0/{vid}/disk.0" not in log
    # the dummy TM writes nothing, so the image says it was not saved
    assert one.image.info(saved).STATE == ImageState.ERROR


def test_an_unknown_snapshot_is_refused_with_nothing_changed(engine: Engine, hosts) -> None:
    vid = _vm_with_snapshots(engine, hosts[0])
    before = engine.rpc.ok("one.vm.info", vid)
    images = engine.rpc.ok("one.imagepool.info", -2, -1, -1)
    message = engine.rpc.fails("one.vm.disksaveas", vid, 0, "nope", "", 7, code=INTERNAL)
    assert message == "[one.vm.disksaveas] Cannot use DISK. Snapshot does not exist."
    assert engine.rpc.ok("one.vm.info", vid) == before
    assert engine.rpc.ok("one.imagepool.info", -2, -1, -1) == images
    other = engine.vm("CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = 0 ]", hosts[1])   # no snapshots
    engine.rpc.fails("one.vm.disksaveas", other, 0, "nope", "", 0, code=INTERNAL)


def test_minus_one_still_saves_the_disk_as_it_is(engine: Engine, hosts) -> None:
    vid = _vm_with_snapshots(engine, hosts[0])
    saved = engine.rpc.ok("one.vm.disksaveas", vid, 0, "as-is", "", -1)
    assert engine.doc("one.vm.info", vid).findtext("TEMPLATE/DISK/SAVE_AS_SNAPSHOT_ID") is None
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    source = engine.doc("one.image.info", saved).findtext("SOURCE")
    log = Path(engine.oned.managers.logs.path(vid)).read_text()
    assert f"MV h0:/var/lib/one/datastores/0/{vid}/disk.0 frontend:{source}" in log
