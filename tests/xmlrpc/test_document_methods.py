"""Generic documents (one.document.*, one.documentpool.info): each method, each error code,
every document against document.xsd / document_pool.xsd, and pyone as OneFlow's peers use it."""
from __future__ import annotations

import pyone
from lxml import etree

from conftest import ADMIN, Caller, validate
from one.daemon import Oned

AUTHORIZATION, NO_EXISTS, ACTION, API, INTERNAL, LOCKED = (
    0x200, 0x400, 0x800, 0x1000, 0x2000, 0x8000)
SERVICE = '<TEMPLATE><NAME>svc</NAME><BODY><![CDATA[{"name": "svc", "roles": []}]]></BODY></TEMPLATE>'


def _doc(rpc: Caller, oid: int) -> etree._Element:
    return validate(rpc.ok("one.document.info", oid), "document.xsd")


def _ids(rpc: Caller, *args: int) -> list[int]:
    listed = validate(rpc.ok("one.documentpool.info", *args), "document_pool.xsd")
    return [int(d.findtext("ID")) for d in listed]


def test_allocate_info_and_typed_pool(rpc: Caller) -> None:
    svc = rpc.ok("one.document.allocate", SERVICE, 100)
    tpl = rpc.ok("one.document.allocate", 'NAME = "cluster" BODY = "{}"', 101)
    doc = _doc(rpc, svc)
    assert (doc.findtext("NAME"), doc.findtext("TYPE"), doc.findtext("UNAME")) == (
        "svc", "100", "oneadmin")
    assert doc.findtext("TEMPLATE/BODY") == '{"name": "svc", "roles": []}'
    assert doc.find("TEMPLATE/NAME") is None and doc.find("LOCK") is None
    assert doc.findtext("PERMISSIONS/OWNER_U") == "1" and doc.findtext("PERMISSIONS/GROUP_U") == "0"
    assert _ids(rpc, -2, -1, -1, 100) == [svc]
    assert _ids(rpc, -2, -1, -1, 101) == [tpl]
    assert _ids(rpc, -2, -1, -1) == [svc, tpl]
    assert _ids(rpc, -2, tpl, tpl, -1) == [tpl]


def test_update_clone_rename_delete(rpc: Caller) -> None:
    oid = rpc.ok("one.document.allocate", SERVICE, 100)
    assert rpc.ok("one.document.update", oid, 'STATE = "2"', 1) == oid
    assert (_doc(rpc, oid).findtext("TEMPLATE/STATE"), _doc(rpc, oid).findtext("TEMPLATE/BODY")
            ) == ("2", '{"name": "svc", "roles": []}')
    rpc.ok("one.document.update", oid, 'BODY = "{}"', 0)
    assert _doc(rpc, oid).find("TEMPLATE/STATE") is None
    copy = rpc.ok("one.document.clone", oid, "copy")
    assert (_doc(rpc, copy).findtext("TYPE"), _doc(rpc, copy).findtext("TEMPLATE/BODY")) == (
        "100", "{}")
    assert rpc.ok("one.document.rename", copy, "renamed") == copy
    assert _doc(rpc, copy).findtext("NAME") == "renamed"
    assert rpc.ok("one.document.delete", copy) == copy
    assert "Error getting document" in rpc.fails("one.document.info", copy, code=NO_EXISTS)
    assert _ids(rpc, -2, -1, -1, 100) == [oid]


def test_bad_input_leaves_state_unchanged(rpc: Caller) -> None:
    oid = rpc.ok("one.document.allocate", SERVICE, 100)
    before = rpc.ok("one.document.info", oid)
    assert "Parse error" in rpc.fails("one.document.allocate", "NAME = [", 100, code=INTERNAL)
    assert "cannot be empty" in rpc.fails("one.document.allocate", "BODY = x", 100, code=API)
    assert "cannot be negative" in rpc.fails("one.document.allocate", SERVICE, -3, code=API)
    assert "Wrong update type" in rpc.fails("one.document.update", oid, "A = 1", 7, code=API)
    assert "cannot be empty" in rpc.fails("one.document.clone", oid, "", code=API)
    assert "cannot be empty" in rpc.fails("one.document.rename", oid, " ", code=API)
    assert "nine values" in rpc.fails("one.document.chmod", oid, 2, 1, 1, 1, 1, 1, 1, 1, 1,
                                      code=API)
    assert "Error getting user" in rpc.fails("one.document.chown", oid, 99, -1, code=NO_EXISTS)
    for method, args in (("info", ()), ("update", ("A = 1",)), ("delete", ()),
                         ("clone", ("x",)), ("rename", ("x",)), ("chown", (-1, 0)),
                         ("chmod", (1,) * 9), ("lock", (1,)), ("unlock", ())):
        rpc.fails(f"one.document.{method}", 77, *args, code=NO_EXISTS)
    assert rpc.ok("one.document.info", oid) == before
    assert _ids(rpc, -2, -1, -1, -1) == [oid]


def test_ownership_and_permissions(rpc: Caller) -> None:
    uid = rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    bob = rpc.as_user("bob:pw")
    mine = bob.ok("one.document.allocate", SERVICE, 100)
    theirs = rpc.ok("one.document.allocate", SERVICE, 100)
    assert _ids(bob, -1, -1, -1, 100) == [mine] and _ids(rpc, -3, -1, -1, 100) == [theirs]
    assert _ids(bob, -2, -1, -1, 100) == [mine]
    for method, args in (("info", ()), ("update", ("A = 1",)), ("delete", ()),
                         ("clone", ("x",)), ("rename", ("x",)), ("lock", (1,))):
        bob.fails(f"one.document.{method}", theirs, *args, code=AUTHORIZATION)
    assert "MANAGE USER [0]" in bob.fails("one.document.chown", mine, 0, -1, code=AUTHORIZATION)
    rpc.ok("one.document.chmod", theirs, -1, -1, -1, -1, -1, -1, 1, 0, 0)
    assert _doc(bob, theirs).findtext("PERMISSIONS/OTHER_U") == "1"
    rpc.ok("one.document.chown", theirs, uid, -1)
    assert _doc(bob, theirs).findtext("UNAME") == "bob"
    assert bob.ok("one.document.delete", theirs) == theirs


def test_locks(rpc: Caller) -> None:
    oid = rpc.ok("one.document.allocate", SERVICE, 100)
    assert rpc.ok("one.document.lock", oid, 2, False) == oid
    lock = _doc(rpc, oid).find("LOCK")
    assert (lock.findtext("LOCKED"), lock.findtext("OWNER")) == ("2", "0")
    assert "locked (MANAGE)" in rpc.fails("one.document.update", oid, "A = 1", 1, code=LOCKED)
    rpc.fails("one.document.delete", oid, code=LOCKED)
    rpc.fails("one.document.rename", oid, "x", code=LOCKED)
    assert rpc.ok("one.document.clone", oid, "copy") >= 0  # a MANAGE lock leaves USE
    assert "already locked" in rpc.fails("one.document.lock", oid, 1, True, code=ACTION)
    assert "Wrong lock level" in rpc.fails("one.document.lock", oid, 5, False, code=API)
    rpc.ok("one.document.unlock", oid)
    assert _doc(rpc, oid).find("LOCK") is None
    assert rpc.ok("one.document.delete", oid) == oid


def test_documents_through_pyone(oned: Oned) -> None:
    one = pyone.OneServer(oned.endpoint, session=ADMIN)
    oid = one.document.allocate({"TEMPLATE": {"NAME": "t", "BODY": '{"roles": []}'}}, 101)
    assert one.document.info(oid).TEMPLATE["BODY"] == '{"roles": []}'
    one.document.update(oid, {"TEMPLATE": {"BODY": "{}"}}, 0)
    assert [d.NAME for d in one.documentpool.info(-2, -1, -1, 101).DOCUMENT] == ["t"]
    one.document.delete(oid)
    assert one.documentpool.info(-2, -1, -1, 101).DOCUMENT == []
