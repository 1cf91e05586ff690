"""VM templates (one.template.*, one.templatepool.info): each method, each error code,
the documents against vmtemplate.xsd, instantiate's merge and its checks."""
from __future__ import annotations

import os

from lxml import etree

from conftest import Caller, validate

AUTHORIZATION, NO_EXISTS, ACTION, API, INTERNAL, ALLOCATE, LOCKED = (
    0x200, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000)
LISTINGS = (("one.vmpool.info", "<VM>", (-1,)), ("one.imagepool.info", "<IMAGE>", ()),
            ("one.templatepool.info", "<VMTEMPLATE>", ()))
WEB = 'NAME = web CPU = 1 MEMORY = 128 DESCRIPTION = "a web server"'


def _doc(rpc: Caller, tid: int) -> etree._Element:
    return validate(rpc.ok("one.template.info", tid), "vmtemplate.xsd")


def _vm(rpc: Caller, vid: int) -> etree._Element:
    return etree.fromstring(rpc.ok("one.vm.info", vid).encode())


def _user(rpc: Caller, name: str) -> tuple[int, Caller]:
    uid = rpc.ok("one.user.allocate", name, "pw", "core", [])
    return uid, rpc.as_user(f"{name}:pw")


def test_allocate_info_and_pool(rpc: Caller) -> None:
    tid = rpc.ok("one.template.allocate", WEB)
    doc = _doc(rpc, tid)
    assert (doc.findtext("NAME"), doc.findtext("UNAME"), doc.findtext("TEMPLATE/CPU")) == (
        "web", "oneadmin", "1")
    assert doc.find("TEMPLATE/NAME") is None and doc.find("LOCK") is None
    assert int(doc.findtext("REGTIME")) > 0
    other = rpc.ok("one.template.allocate", "NAME = db MEMORY = 64 CPU = 0.5")
    listed = validate(rpc.ok("one.templatepool.info", -2, -1, -1), "vmtemplate_pool.xsd")
    assert [t.findtext("ID") for t in listed] == [str(tid), str(other)]
    assert listed[0].findtext("TEMPLATE/DESCRIPTION") == "a web server"
    ranged = etree.fromstring(rpc.ok("one.templatepool.info", -2, other, other).encode())
    assert [t.findtext("ID") for t in ranged] == [str(other)]


def test_allocate_errors(rpc: Caller) -> None:
    assert "Parse error" in rpc.fails("one.template.allocate", "NAME = [", code=INTERNAL)
    assert "cannot be empty" in rpc.fails("one.template.allocate", "CPU = 1", code=API)
    rpc.ok("one.template.allocate", WEB)
    assert "already taken" in rpc.fails("one.template.allocate", WEB, code=ALLOCATE)
    _, bob = _user(rpc, "bob")
    assert "restricted attribute" in bob.fails(
        "one.template.allocate", "NAME = t CPU = 1 MEMORY = 1 CONTEXT = [ FILES = /etc/shadow ]",
        code=AUTHORIZATION)
    assert bob.ok("one.template.allocate", WEB) >= 0  # names are unique per owner
    assert len(etree.fromstring(rpc.ok("one.templatepool.info", -2, -1, -1).encode())) == 2


def test_missing_templates(rpc: Caller) -> None:
    for method, args in (("info", ()), ("update", ("A = 1",)), ("delete", ()),
                         ("clone", ("c",)), ("instantiate", ()), ("rename", ("x",)),
                         ("chown", (-1, 0)), ("chmod", (1,) * 9), ("lock", (1,)), ("unlock", ())):
        assert "Error getting VM template [7]" in rpc.fails(f"one.template.{method}", 7, *args,
                                                            code=NO_EXISTS)


def test_update_rename_chown_chmod(rpc: Caller) -> None:
    tid = rpc.ok("one.template.allocate", WEB)
    rpc.ok("one.template.update", tid, "VCPU = 2 NAME = ignored", 1)
    doc = _doc(rpc, tid)
    assert (doc.findtext("TEMPLATE/VCPU"), doc.findtext("TEMPLATE/CPU"), doc.findtext("NAME")) == (
        "2", "1", "web")
    rpc.ok("one.template.update", tid, "MEMORY = 256", 0)
    assert [e.tag for e in _doc(rpc, tid).find("TEMPLATE")] == ["MEMORY"]
    assert "Wrong update type" in rpc.fails("one.template.update", tid, "A = 1", 2, code=API)
    rpc.ok("one.template.rename", tid, "www")
    uid, bob = _user(rpc, "bob")
    rpc.ok("one.template.chown", tid, uid, -1)
    rpc.ok("one.template.chmod", tid, 1, 1, 0, 0, 0, 0, 1, 0, 0)
    doc = _doc(rpc, tid)
    assert (doc.findtext("NAME"), doc.findtext("UNAME")) == ("www", "bob")
    assert doc.findtext("PERMISSIONS/OTHER_U") == "1"
    assert "Not authorized" in bob.fails("one.template.chown", tid, 0, -1, code=AUTHORIZATION)


def test_others_need_rights(rpc: Caller) -> None:
    tid = rpc.ok("one.template.allocate", WEB)
    _, bob = _user(rpc, "bob")
    for method, args in (("info", ()), ("update", ("A = 1",)), ("delete", ()),
                         ("clone", ("c",)), ("instantiate", ()), ("rename", ("x",)),
                         ("chmod", (1,) * 9), ("lock", (1,))):
        assert "Not authorized to perform" in bob.fails(f"one.template.{method}", tid, *args,
                                                        code=AUTHORIZATION)
    assert etree.fromstring(bob.ok("one.templatepool.info", -2, -1, -1).encode()).find(
        "VMTEMPLATE") is None
    rpc.ok("one.template.chmod", tid, -1, -1, -1, -1, -1, -1, 1, -1, -1)  # OTHER USE
    vid = bob.ok("one.template.instantiate", tid, "bobs", False, "", False)
    assert _vm(rpc, vid).findtext("UNAME") == "bob"
    mine = bob.ok("one.template.clone", tid, "mine", False)
    listed = {flag: [t.findtext("ID") for t in etree.fromstring(
        bob.ok("one.templatepool.info", flag, -1, -1).encode())] for flag in (-2, -3)}
    assert listed == {-2: [str(tid), str(mine)], -3: [str(mine)]}
    bob.fails("one.template.update", tid, "A = 1", 1, code=AUTHORIZATION)


def test_instantiate_merges_the_extra_template(rpc: Caller) -> None:
    net = rpc.ok("one.vn.allocate", 'NAME = lan VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 4 ]', -1)
    rpc.ok("one.vn.allocate", 'NAME = wan VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.9.0.1, SIZE = 4 ]', -1)
    tid = rpc.ok("one.template.allocate", f"{WEB} NIC = [ NETWORK_ID = {net} ] NIC = [ NETWORK = lan ] "
                 "CONTEXT = [ A = 1, B = 2 ] LABEL = x")
    extra = 'MEMORY = 512 NIC = [ NETWORK = wan ] CONTEXT = [ C = "$NIC[IP]" ]'
    vid = rpc.ok("one.template.instantiate", tid, "vm1", True, extra, False)
    vm = validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    assert (vm.findtext("NAME"), vm.findtext("STATE")) == ("vm1", "2")  # HOLD
    assert vm.findtext("TEMPLATE/TEMPLATE_ID") == str(tid)
    assert (vm.findtext("TEMPLATE/MEMORY"), vm.findtext("TEMPLATE/CPU")) == ("512", "1")
    assert [n.findtext("NETWORK") for n in vm.findall("TEMPLATE/NIC")] == ["wan"]
    assert [e.tag for e in vm.find("TEMPLATE/CONTEXT")] == ["C"]
    assert vm.findtext("TEMPLATE/CONTEXT/C") == "10.9.0.1"
    assert vm.findtext("USER_TEMPLATE/LABEL") == "x"
    assert vm.findtext("USER_TEMPLATE/TEMPLATE_NAME") == "web"
    assert _doc(rpc, tid).findtext("TEMPLATE/MEMORY") == "128"  # the stored one is untouched
    plain = rpc.ok("one.template.instantiate", tid, "", False, "NAME = ignored")
    assert _vm(rpc, plain).findtext("NAME") == f"one-{plain}"  # only `name` names a VM
    plain = rpc.ok("one.template.instantiate", tid)  # defaults: pending, no extra
    assert _vm(rpc, plain).findtext("STATE") == "1"
    assert len(_vm(rpc, plain).findall("TEMPLATE/NIC")) == 2


def test_instantiate_errors(rpc: Caller) -> None:
    tid = rpc.ok("one.template.allocate", WEB)
    assert "Parse error" in rpc.fails("one.template.instantiate", tid, "", False, "A = [", False,
                                      code=INTERNAL)
    assert "MEMORY" in rpc.fails("one.template.instantiate", tid, "", False, "MEMORY = -1", False,
                                 code=ALLOCATE)
    assert "does not exist" in rpc.fails("one.template.instantiate", tid, "", False,
                                         "DISK = [ IMAGE = nothing ]", False, code=ALLOCATE)
    assert rpc.ok("one.vmpool.info", -2, -1, -1, -1).count("<VM>") == 0


def test_instantiate_persistent_copies_the_images(rpc: Caller) -> None:
    _, bob = _user(rpc, "bob")
    image = bob.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 1", 1)
    tid = bob.ok("one.template.allocate", f"{WEB} DISK = [ IMAGE = os, TARGET = vda ]")
    vid = bob.ok("one.template.instantiate", tid, "mine", False, "MEMORY = 256", True)
    vm = _vm(rpc, vid)
    copy = int(vm.findtext("TEMPLATE/TEMPLATE_ID"))
    assert copy != tid and vm.findtext("TEMPLATE/CLONING_TEMPLATE_ID") == str(tid)
    assert (vm.findtext("NAME"), vm.findtext("TEMPLATE/MEMORY")) == ("mine", "256")
    copied = _doc(rpc, copy)
    assert (copied.findtext("NAME"), copied.findtext("UNAME")) == ("mine", "bob")
    assert copied.findtext("TEMPLATE/MEMORY") == "256"  # the extra template is in the copy
    disk = vm.find("TEMPLATE/DISK")
    new = int(disk.findtext("IMAGE_ID"))
    assert new != image and (disk.findtext("PERSISTENT"), disk.findtext("TARGET")) == ("YES", "vda")
    new_doc = validate(rpc.ok("one.image.info", new), "image.xsd")
    assert (new_doc.findtext("NAME"), new_doc.findtext("PERSISTENT")) == ("mine-disk-0", "1")
    assert new_doc.findtext("STATE") == "8"  # USED_PERS: this VM's own disk
    assert etree.fromstring(rpc.ok("one.image.info", image).encode()).findtext("RUNNING_VMS") == "0"
    unnamed = bob.ok("one.template.instantiate", tid, "", False, "", True)
    assert _doc(rpc, int(_vm(rpc, unnamed).findtext("TEMPLATE/TEMPLATE_ID"))).findtext(
        "NAME") == "web-copy"
    assert "already taken" in bob.fails("one.template.instantiate", tid, "", False, "", True,
                                        code=ALLOCATE)
    source = etree.fromstring(rpc.ok("one.image.info", image).encode()).findtext("SOURCE")
    os.unlink(source)  # no copy can be made: nothing is (no template, image or VM)
    counts = [rpc.ok(method, -2, -1, -1, *extra).count(tag) for method, tag, extra in LISTINGS]
    assert "Cannot read PATH" in bob.fails("one.template.instantiate", tid, "broken", False, "",
                                           True, code=ALLOCATE)
    assert [rpc.ok(method, -2, -1, -1, *extra).count(tag)
            for method, tag, extra in LISTINGS] == counts


def test_instantiate_checks_use_of_images_networks_and_restricted(rpc: Caller) -> None:
    image = rpc.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 1", 1)
    net = rpc.ok("one.vn.allocate", 'NAME = lan VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 4 ]', -1)
    rpc.ok("one.vn.chmod", net, -1, -1, -1, -1, -1, -1, 0, -1, -1)
    with_image = rpc.ok("one.template.allocate", f"{WEB} DISK = [ IMAGE_ID = {image} ]")
    with_net = rpc.ok("one.template.allocate", f"NAME = n CPU = 1 MEMORY = 1 NIC = [ NETWORK_ID = {net} ]")
    restricted = rpc.ok("one.template.allocate", "NAME = r CPU = 1 MEMORY = 1 CPU_COST = 1")
    for tid in (with_image, with_net, restricted):
        rpc.ok("one.template.chmod", tid, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    rpc.ok("one.image.chmod", image, -1, -1, -1, -1, -1, -1, 0, -1, -1)
    _, bob = _user(rpc, "bob")
    assert f"IMAGE [{image}]" in bob.fails("one.template.instantiate", with_image, code=AUTHORIZATION)
    assert "NET" in bob.fails("one.template.instantiate", with_net, code=AUTHORIZATION)
    # the owner's restricted attributes pass; the caller may not add new ones
    assert bob.ok("one.template.instantiate", restricted) >= 0
    assert "restricted attribute" in bob.fails("one.template.instantiate", restricted, "", False,
                                               "CPU_COST = 2", False,
                                               code=AUTHORIZATION)


def test_locks(rpc: Caller) -> None:
    tid = rpc.ok("one.template.allocate", WEB)
    assert rpc.ok("one.template.lock", tid, 2, False) == tid
    lock = _doc(rpc, tid).find("LOCK")
    assert (lock.findtext("LOCKED"), lock.findtext("OWNER")) == ("2", "0")
    assert "locked (MANAGE)" in rpc.fails("one.template.update", tid, "A = 1", 1, code=LOCKED)
    for method, args in (("delete", ()), ("rename", ("x",)), ("chmod", (1,) * 9),
                         ("chown", (-1, 0))):
        rpc.fails(f"one.template.{method}", tid, *args, code=LOCKED)
    assert rpc.ok("one.template.instantiate", tid) >= 0  # a MANAGE lock leaves USE
    assert "already locked" in rpc.fails("one.template.lock", tid, 1, True, code=ACTION)
    rpc.ok("one.template.lock", tid, 1, False)  # USE (and ALL) stop every operation
    rpc.fails("one.template.instantiate", tid, code=LOCKED)
    rpc.fails("one.template.clone", tid, "c", False, code=LOCKED)
    assert "Wrong lock level" in rpc.fails("one.template.lock", tid, 5, False, code=API)
    rpc.ok("one.template.unlock", tid)
    assert _doc(rpc, tid).find("LOCK") is None
    rpc.ok("one.template.delete", tid, False)


def test_clone_and_delete_recursive(rpc: Caller) -> None:
    uid, bob = _user(rpc, "bob")
    own = bob.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 1", 1)
    shared = rpc.ok("one.image.allocate", "NAME = shared TYPE = DATABLOCK SIZE = 1", 1)
    rpc.ok("one.image.chmod", shared, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    tid = bob.ok("one.template.allocate", f"{WEB} DISK = [ IMAGE = os, TARGET = vda ] "
                 f"DISK = [ IMAGE_ID = {shared} ]")
    copy = bob.ok("one.template.clone", tid, "web2", True)
    disks = _doc(rpc, copy).findall("TEMPLATE/DISK")
    new = int(disks[0].findtext("IMAGE_ID"))
    assert new not in (own, shared) and disks[0].findtext("TARGET") == "vda"
    assert disks[0].find("IMAGE") is None and disks[1].findtext("IMAGE_ID") == str(shared)
    assert etree.fromstring(rpc.ok("one.image.info", new).encode()).findtext("NAME") == "web2-disk-0"
    shallow = bob.ok("one.template.clone", tid, "web3", False)
    assert _doc(rpc, shallow).findall("TEMPLATE/DISK")[0].findtext("IMAGE") == "os"
    assert "already taken" in bob.fails("one.template.clone", tid, "web3", False, code=ALLOCATE)
    busy = bob.ok("one.template.instantiate", copy)
    assert "VMs use it" in bob.fails("one.template.delete", copy, True, code=ACTION)
    assert _doc(rpc, copy) is not None  # nothing deleted
    rpc.ok("one.vm.recover", busy, 3)
    bob.ok("one.template.delete", copy, True)
    rpc.fails("one.image.info", new, code=NO_EXISTS)
    rpc.ok("one.image.info", shared)  # not its owner's: kept
    bob.ok("one.template.delete", tid, False)
    rpc.ok("one.image.info", own)  # not recursive: kept


def test_chmod_recursive(rpc: Caller) -> None:
    image = rpc.ok("one.image.allocate", "NAME = os TYPE = DATABLOCK SIZE = 1", 1)
    tid = rpc.ok("one.template.allocate", f"{WEB} DISK = [ IMAGE_ID = {image} ]")
    rpc.ok("one.template.chmod", tid, -1, -1, -1, -1, -1, -1, 1, -1, -1, True)
    image_doc = etree.fromstring(rpc.ok("one.image.info", image).encode())
    assert image_doc.findtext("PERMISSIONS/OTHER_U") == "1"
    assert "nine values" in rpc.fails("one.template.chmod", tid, 2, 0, 0, 0, 0, 0, 0, 0, 0, code=API)
