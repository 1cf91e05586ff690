"""Issue 19: images and clusters in the classic 2.x dialect (SHA1 sessions).

Cluster documents are compared with the 2.2 samples; the 2.2 fixtures hold no
image, so IMAGE is compared with the element order of 2.2's Image::to_xml
(src/image/Image.cc at release-2.2; the pool dump adds USERNAME after UID).
Modern callers keep 7.4's documents and refusals.
"""
from __future__ import annotations

import hashlib
import os

import pytest
from lxml import etree

from conftest import Caller, validate
from test_classic import assert_shape

IMAGE_22 = ["ID", "UID", "NAME", "TYPE", "PUBLIC", "PERSISTENT", "REGTIME", "SOURCE", "STATE",
            "RUNNING_VMS", "TEMPLATE"]


def _doc(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def _tags(element: etree._Element) -> list[str]:
    return [child.tag for child in element]


@pytest.fixture
def datastore_dir(rpc: Caller) -> str:
    return _doc(rpc.ok("one.datastore.info", 1)).findtext("BASE_PATH")


def test_a_name_only_image_is_registered_as_2_0_did(classic_rpc: Caller, rpc: Caller,
                                                    datastore_dir: str) -> None:
    iid = classic_rpc.ok("one.image.allocate", 'NAME = "scratch"\nDESCRIPTION = "to be"')
    image = _doc(classic_rpc.ok("one.image.info", iid))
    digest = hashlib.sha1(b"0:scratch").hexdigest()
    assert image.findtext("SOURCE") == os.path.join(datastore_dir, digest)
    assert (image.findtext("STATE"), image.findtext("PUBLIC"), image.findtext("TYPE")) == (
        "3", "0", "0")  # DISABLED until its content is in place, an OS image by default
    assert image.findtext("TEMPLATE/DEV_PREFIX") == "hd"
    assert image.findtext("TEMPLATE/DESCRIPTION") == "to be"
    with open(image.findtext("SOURCE"), "wb") as content:  # what a 2.0 client did next
        content.write(b"\0" * 1024)
    classic_rpc.ok("one.image.enable", iid, True)
    assert _doc(classic_rpc.ok("one.image.info", iid)).findtext("STATE") == "1"
    vid = classic_rpc.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {iid} ]")
    assert _doc(classic_rpc.ok("one.vm.info", vid)).findtext("TEMPLATE/DISK/SOURCE") == \
        image.findtext("SOURCE")
    assert _doc(classic_rpc.ok("one.image.info", iid)).findtext("STATE") == "2"  # USED
    assert classic_rpc.ok("one.image.enable", iid, True) == iid  # 2.x: nothing to do
    assert "Cannot disable" in classic_rpc.fails("one.image.enable", iid, False, code=0x800)
    assert _doc(classic_rpc.ok("one.image.info", iid)).findtext("STATE") == "2"
    rpc.fails("one.image.enable", iid, True, code=0x800)  # 7.4 callers: wrong state


def test_modern_callers_still_need_a_source(rpc: Caller) -> None:
    assert "needs PATH, SOURCE" in rpc.fails("one.image.allocate", "NAME = x", code=0x4000)
    assert "needs PATH, SOURCE" in rpc.fails("one.image.allocate", "NAME = x", 1, code=0x4000)


def test_classic_image_documents(classic_rpc: Caller, rpc: Caller) -> None:
    iid = classic_rpc.ok("one.image.allocate", "NAME = shared\nPUBLIC = YES\nTYPE = DATABLOCK")
    image = _doc(classic_rpc.ok("one.image.info", iid))
    assert _tags(image) == IMAGE_22
    assert "PERMISSIONS" not in classic_rpc.ok("one.image.info", iid)
    assert (image.findtext("PUBLIC"), image.findtext("TYPE"), image.findtext("TEMPLATE/NAME")) == (
        "1", "2", "shared")
    pool = _doc(classic_rpc.ok("one.imagepool.info", -2))
    assert pool.tag == "IMAGE_POOL"
    assert _tags(pool.find("IMAGE")) == IMAGE_22[:2] + ["USERNAME"] + IMAGE_22[2:]
    assert pool.findtext("IMAGE/USERNAME") == "oneadmin"
    modern = rpc.ok("one.image.info", iid)
    validate(modern, "image.xsd")  # unchanged for modern callers
    validate(rpc.ok("one.imagepool.info", -2, -1, -1), "image_pool.xsd")
    assert _doc(modern).findtext("PERMISSIONS/OTHER_U") == "1"


def test_classic_image_verbs_answer_the_classic_way(classic_rpc: Caller) -> None:
    iid = classic_rpc.ok("one.image.allocate", "NAME = verbs")
    assert classic_rpc.ok("one.image.publish", iid, True) == iid
    assert _doc(classic_rpc.ok("one.image.info", iid)).findtext("PUBLIC") == "1"
    assert "public" in classic_rpc.fails("one.image.persistent", iid, True, code=0x800)
    assert classic_rpc.ok("one.image.publish", iid, False) == iid
    assert classic_rpc.ok("one.image.persistent", iid, True) == iid
    assert "public and persistent" in classic_rpc.fails("one.image.publish", iid, True, code=0x800)
    assert classic_rpc.ok("one.image.update", iid, "DESCRIPTION", "kept") == iid
    assert _doc(classic_rpc.ok("one.image.info", iid)).findtext("TEMPLATE/DESCRIPTION") == "kept"
    assert classic_rpc.ok("one.image.rmattr", iid, "DESCRIPTION") == iid
    assert _doc(classic_rpc.ok("one.image.info", iid)).find("TEMPLATE/DESCRIPTION") is None
    assert classic_rpc.ok("one.image.enable", iid, True) == iid
    assert _doc(classic_rpc.ok("one.image.info", iid)).findtext("PERSISTENT") == "1"
    assert "public and persistent" in classic_rpc.fails(
        "one.image.allocate", "NAME = both\nPUBLIC = YES\nPERSISTENT = YES", code=0x4000)


def test_classic_pool_filter_shows_own_and_public_images(classic_rpc: Caller) -> None:
    sha1 = hashlib.sha1(b"eve-pw").hexdigest()
    uid = classic_rpc.ok("one.user.allocate", "eve", sha1)
    eve = classic_rpc.as_user(f"eve:{sha1}")
    mine = eve.ok("one.image.allocate", "NAME = eves")
    public = classic_rpc.ok("one.image.allocate", "NAME = everyones\nPUBLIC = YES")
    classic_rpc.ok("one.image.allocate", "NAME = admins")
    listed = [int(i) for i in _doc(eve.ok("one.imagepool.info", -1)).xpath("IMAGE/ID/text()")]
    assert listed == [mine, public]
    assert _doc(eve.ok("one.imagepool.info", uid)).xpath("IMAGE/ID/text()") == [str(mine)]


def test_classic_cluster_delete_moves_its_hosts_to_default(classic_rpc: Caller,
                                                          rpc: Caller) -> None:
    hid = classic_rpc.ok("one.host.allocate", "h22", "im_dummy", "vmm_dummy", "tm_dummy")
    cid = classic_rpc.ok("one.cluster.allocate", "Black")
    classic_rpc.ok("one.cluster.add", hid, cid)
    kept = rpc.ok("one.cluster.allocate", "modern")
    rpc.ok("one.cluster.addhost", kept, hid)
    assert "is not empty, it contains 1 hosts" in rpc.fails("one.cluster.delete", kept, code=0x800)
    classic_rpc.ok("one.cluster.add", hid, cid)
    assert classic_rpc.ok("one.cluster.delete", cid) == cid
    assert _doc(classic_rpc.ok("one.host.info", hid)).findtext("CLUSTER") == "default"
    assert _doc(rpc.ok("one.host.info", hid)).findtext("CLUSTER_ID") == "0"
    classic_rpc.fails("one.cluster.info", cid, code=0x400)
    assert "default cluster" in classic_rpc.fails("one.cluster.delete", 0, code=0x800)


def test_classic_cluster_documents(classic_rpc: Caller, rpc: Caller) -> None:
    cid = classic_rpc.ok("one.cluster.allocate", "Red")
    assert_shape(classic_rpc.ok("one.cluster.info", cid), "cluster.xml")
    assert_shape(classic_rpc.ok("one.clusterpool.info"), "clusterpool.xml", "CLUSTER")
    names = _doc(classic_rpc.ok("one.clusterpool.info")).xpath("CLUSTER/NAME/text()")
    assert names == ["default", "Red"]
    validate(rpc.ok("one.cluster.info", cid), "cluster.xsd")
    validate(rpc.ok("one.clusterpool.info"), "cluster_pool.xsd")
