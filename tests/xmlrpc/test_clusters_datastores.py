"""Issue 12 item 5: datastores and clusters complete, with 7.4's signatures.

Every document is checked against the 7.4 XSDs; each kind of bad input gets
OpenNebula's code and leaves the stored state as it was.
"""
from __future__ import annotations


import pyone
import pytest
from lxml import etree

from conftest import Caller, database, restart_at, start_oned, validate
from one.pool.db import SCHEMA_VERSION

IMAGE_DS = 'NAME = "fast"\nDS_MAD = "fs"\nTM_MAD = "ssh"\n'


def _doc(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def _ids(document: str, path: str) -> list[int]:
    return [int(i) for i in _doc(document).xpath(f"{path}/ID/text()")]


@pytest.fixture
def user(rpc: Caller) -> Caller:
    rpc.ok("one.user.allocate", "ann", "ann-pw", "core", [])
    return rpc.as_user("ann:ann-pw")


def test_allocate_into_a_cluster_and_documents_validate(rpc: Caller) -> None:
    cid = rpc.ok("one.cluster.allocate", "fast-racks")
    dsid = rpc.ok("one.datastore.allocate", IMAGE_DS, cid)
    ds = rpc.ok("one.datastore.info", dsid)
    validate(ds, "datastore.xsd")
    doc = _doc(ds)
    assert (doc.findtext("NAME"), doc.findtext("TYPE"), doc.findtext("STATE")) == ("fast", "0", "0")
    assert (doc.findtext("DS_MAD"), doc.findtext("TM_MAD")) == ("fs", "ssh")
    assert doc.findtext("BASE_PATH").endswith(f"datastores/{dsid}")
    assert _ids(ds, "CLUSTERS") == [cid]
    assert (doc.findtext("TEMPLATE/SAFE_DIRS"), doc.findtext("TEMPLATE/RESTRICTED_DIRS")) == (
        "/var/tmp", "/")
    cluster = rpc.ok("one.cluster.info", cid)
    validate(cluster, "cluster.xsd")
    assert _ids(cluster, "DATASTORES") == [dsid]
    validate(rpc.ok("one.datastorepool.info"), "datastore_pool.xsd")
    validate(rpc.ok("one.clusterpool.info"), "cluster_pool.xsd")
    default = rpc.ok("one.datastore.allocate", 'NAME = "sys2"\nTYPE = "SYSTEM_DS"\nTM_MAD = dummy', -1)
    assert _ids(rpc.ok("one.cluster.info", 0), "DATASTORES") == [0, 1, 2, default]
    assert _doc(rpc.ok("one.datastore.info", default)).findtext("DS_MAD") == "-"


@pytest.mark.parametrize("template, message", [
    ('NAME = a\nTYPE = "BACKUP"\nDS_MAD = fs\nTM_MAD = ssh', "Invalid datastore TYPE"),
    ("NAME = a\nTM_MAD = ssh", "No DS_MAD in template."),
    ("NAME = a\nDS_MAD = fs", "No TM_MAD in template."),
    ("NAME = a\nDS_MAD = ceph\nTM_MAD = ssh", 'DS_MAD named "ceph" is not known'),
    ("NAME = a\nDS_MAD = fs\nTM_MAD = nowhere", "Unknown TM driver 'nowhere'"),
    ("NAME = a\nTYPE = SYSTEM_DS\nDS_MAD = fs\nTM_MAD = ssh",
     "SYSTEM datastores cannot have DS_MAD defined."),
    ('NAME = default\nDS_MAD = fs\nTM_MAD = ssh', "NAME is already taken by DATASTORE 1."),
])
def test_allocate_refuses_bad_templates(rpc: Caller, template: str, message: str) -> None:
    before = rpc.ok("one.datastorepool.info")
    assert message in rpc.fails("one.datastore.allocate", template, -1, code=0x4000)
    assert _ids(rpc.ok("one.datastorepool.info"), "DATASTORE") == _ids(before, "DATASTORE")


def test_allocate_refuses_unknown_clusters_and_users(rpc: Caller, user: Caller) -> None:
    rpc.fails("one.datastore.allocate", IMAGE_DS, 777, code=0x400)
    user.fails("one.datastore.allocate", IMAGE_DS, -1, code=0x200)
    rpc.fails("one.datastore.allocate", "NAME = [", -1, code=0x2000)
    assert len(_ids(rpc.ok("one.datastorepool.info"), "DATASTORE")) == 3


def test_delete_is_refused_while_images_are_in_it(rpc: Caller) -> None:
    dsid = rpc.ok("one.datastore.allocate", IMAGE_DS, -1)
    iid = rpc.ok("one.image.allocate", "NAME = blank\nTYPE = DATABLOCK\nSIZE = 1", dsid)
    message = rpc.fails("one.datastore.delete", dsid, code=0x800)
    assert "not empty" in message and "1 images" in message
    assert _ids(rpc.ok("one.datastore.info", dsid), "IMAGES") == [iid]
    rpc.ok("one.image.delete", iid)
    assert rpc.ok("one.datastore.delete", dsid) == dsid
    rpc.fails("one.datastore.info", dsid, code=0x400)
    rpc.fails("one.datastore.delete", dsid, code=0x400)


def test_enable_disable_only_system_datastores(rpc: Caller) -> None:
    assert rpc.ok("one.datastore.enable", 0, False) == 0
    doc = rpc.ok("one.datastore.info", 0)
    validate(doc, "datastore.xsd")
    assert _doc(doc).findtext("STATE") == "1"
    rpc.ok("one.datastore.enable", 0, True)
    assert _doc(rpc.ok("one.datastore.info", 0)).findtext("STATE") == "0"
    assert "Only SYSTEM_DS" in rpc.fails("one.datastore.enable", 1, False, code=0x800)
    rpc.fails("one.datastore.enable", 1, code=0x1000)  # the flag is not optional


def test_rename_chown_chmod_update(rpc: Caller, user: Caller) -> None:
    dsid = rpc.ok("one.datastore.allocate", IMAGE_DS, -1)
    rpc.ok("one.datastore.chmod", dsid, 1, 1, 0, 0, 0, 0, 1, 0, 0)
    iid = user.ok("one.image.allocate", "NAME = u\nTYPE = DATABLOCK\nSIZE = 1", dsid)
    assert rpc.ok("one.datastore.rename", dsid, "faster") == dsid
    assert _doc(rpc.ok("one.image.info", iid)).findtext("DATASTORE") == "faster"
    assert "already taken" in rpc.fails("one.datastore.rename", dsid, "files", code=0x800)
    uid = int(_doc(user.ok("one.user.info", -1)).findtext("ID"))
    assert rpc.ok("one.datastore.chown", dsid, uid, 1) == dsid
    doc = _doc(rpc.ok("one.datastore.info", dsid))
    assert (doc.findtext("UNAME"), doc.findtext("GNAME")) == ("ann", "users")
    rpc.ok("one.datastore.update", dsid, "NOTE = yes", 1)
    assert _doc(rpc.ok("one.datastore.info", dsid)).findtext("TEMPLATE/NOTE") == "yes"
    user.ok("one.datastore.update", dsid, "NOTE = no", 1)  # the owner's MANAGE bit
    user.fails("one.datastore.update", 1, "NOTE = no", 1, code=0x200)
    user.fails("one.datastore.delete", 1, code=0x200)
    rpc.fails("one.datastore.chmod", dsid, 2, 1, 0, 0, 0, 0, 1, 0, 0, code=0x1000)


def test_cluster_membership_of_datastores_and_networks(rpc: Caller) -> None:
    cid = rpc.ok("one.cluster.allocate", "edge")
    vid = rpc.ok("one.vn.allocate", 'NAME = n\nVN_MAD = dummy\nBRIDGE = b\n'
                 'AR = [ TYPE = IP4, IP = 10.1.0.1, SIZE = 4 ]', -1)
    assert rpc.ok("one.cluster.adddatastore", cid, 1) == cid
    assert rpc.ok("one.cluster.addvnet", cid, vid) == cid
    cluster = rpc.ok("one.cluster.info", cid)
    validate(cluster, "cluster.xsd")
    assert (_ids(cluster, "DATASTORES"), _ids(cluster, "VNETS")) == ([1], [vid])
    assert _ids(rpc.ok("one.datastore.info", 1), "CLUSTERS") == [0, cid]
    assert "contains 1 datastores" in rpc.fails("one.cluster.delete", cid, code=0x800)
    rpc.ok("one.cluster.deldatastore", cid, 1)
    assert "contains 1 vnets" in rpc.fails("one.cluster.delete", cid, code=0x800)
    rpc.ok("one.cluster.delvnet", cid, vid)
    assert _ids(rpc.ok("one.datastore.info", 1), "CLUSTERS") == [0]
    rpc.fails("one.cluster.adddatastore", 999, 1, code=0x400)
    rpc.fails("one.cluster.adddatastore", cid, 999, code=0x400)
    assert rpc.ok("one.cluster.delete", cid) == cid


def test_pyone_datastore_round_trip(oned) -> None:
    one = pyone.OneServer(oned.endpoint, session="oneadmin:secret")
    dsid = one.datastore.allocate(IMAGE_DS, -1)
    assert one.datastore.info(dsid).NAME == "fast"
    assert [ds.NAME for ds in one.datastorepool.info().DATASTORE] == [
        "system", "default", "files", "fast"]
    cid = one.cluster.allocate("pyone-cluster")
    one.cluster.adddatastore(cid, dsid)
    assert one.cluster.info(cid).DATASTORES.ID == [dsid]
    one.cluster.deldatastore(cid, dsid)
    one.datastore.delete(dsid)


def test_a_schema_2_database_gets_datastore_states(tmp_path) -> None:
    """Databases from before datastore STATE (schema 2) are upgraded at start."""
    first = start_oned(tmp_path)
    dsid = Caller(first.endpoint).ok("one.datastore.allocate", IMAGE_DS, -1)
    second = restart_at(first, tmp_path, 2, 'ALTER TABLE "datastore" DROP COLUMN "state"')
    try:
        rpc = Caller(second.endpoint)
        validate(rpc.ok("one.datastore.info", dsid), "datastore.xsd")
        rpc.ok("one.datastore.enable", 0, False)
        assert _doc(rpc.ok("one.datastore.info", 0)).findtext("STATE") == "1"
    finally:
        second.stop()
    with database(tmp_path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
