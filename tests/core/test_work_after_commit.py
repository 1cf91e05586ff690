"""Work a change sets off outside the database (removing an image's file, starting a
driver action) happens only once that change is committed: a change rolled back by
the write around it leaves files and guests as they were."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ADMIN, Engine

VM = "CPU = 1 MEMORY = 128"


class LaterStepFailed(Exception):
    """A later step of the same write fails: everything in it is rolled back."""


def test_an_image_delete_rolled_back_keeps_its_file(engine: Engine) -> None:
    managers = engine.oned.managers
    iid = engine.rpc.ok("one.image.allocate", "NAME = d TYPE = DATABLOCK SIZE = 1", 1)
    source = Path(engine.doc("one.image.info", iid).findtext("SOURCE") or "")
    assert source.is_file()
    with pytest.raises(LaterStepFailed), managers.pools.store.write():
        managers.images.delete(managers.auth.authenticate(ADMIN), iid)
        raise LaterStepFailed
    assert source.is_file()
    assert engine.doc("one.image.info", iid).findtext("SOURCE") == str(source)
    engine.rpc.ok("one.image.delete", iid)   # committed this time: the file goes
    assert not source.exists()


def test_an_updateconf_rolled_back_starts_no_driver_action(engine: Engine,
                                                          hosts: tuple[int, int]) -> None:
    managers = engine.oned.managers
    vid = engine.vm(f'{VM} DUMMY_FAIL = "update_conf"', hosts[0])
    with pytest.raises(LaterStepFailed), managers.pools.store.write():
        managers.vms.changes.update_conf(managers.auth.authenticate(ADMIN), vid,
                                         'GRAPHICS = [ TYPE = "VNC" ]')
        raise LaterStepFailed
    engine.settle()
    doc = engine.doc("one.vm.info", vid)
    assert doc.find("TEMPLATE/GRAPHICS") is None
    assert doc.findtext("USER_TEMPLATE/ERROR") is None  # the failing driver action never ran
    engine.rpc.ok("one.vm.updateconf", vid, 'GRAPHICS = [ TYPE = "VNC" ]', 0)
    engine.settle()
    assert "update_conf" in (engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR") or "")
