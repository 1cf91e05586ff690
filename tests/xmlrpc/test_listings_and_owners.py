"""Pool filters, id ranges and pages; rename, update, chown, chmod; users and groups."""
from __future__ import annotations

import time

from lxml import etree

from conftest import Caller
from one.acl_syntax import parse


def _ids(xml: str) -> list[int]:
    return [int(e.text) for e in etree.fromstring(xml.encode()).findall("./*/ID")]


def _setup_users(rpc: Caller) -> tuple[Caller, Caller]:
    gid = rpc.ok("one.group.allocate", "team")
    # what `onegroup create` adds: the group's users may create VMs
    rpc.ok("one.acl.addrule", *(f"{n:x}" for n in parse(f"@{gid} VM/* CREATE")))
    rpc.ok("one.user.allocate", "ann", "pw", "core", [gid])
    rpc.ok("one.user.allocate", "ben", "pw", "core", [gid])
    return rpc.as_user("ann:pw"), rpc.as_user("ben:pw")


def test_filter_flags(rpc: Caller) -> None:
    ann, ben = _setup_users(rpc)
    admin_vm = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    ann_vm = ann.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    ben_vm = ben.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    assert _ids(rpc.ok("one.vmpool.info", -2, -1, -1, -1)) == [admin_vm, ann_vm, ben_vm]
    assert _ids(rpc.ok("one.vmpool.info", 1, -1, -1, -1)) == [ann_vm]  # uid 1 is ann
    assert _ids(ann.ok("one.vmpool.info", -3, -1, -1, -1)) == [ann_vm]
    assert _ids(ann.ok("one.vmpool.info", -4, -1, -1, -1)) == [ann_vm]  # ben's VM: GROUP_U is 0
    ben.ok("one.vm.chmod", ben_vm, -1, -1, -1, 1, -1, -1, -1, -1, -1)
    assert _ids(ann.ok("one.vmpool.info", -4, -1, -1, -1)) == [ann_vm, ben_vm]
    assert _ids(ann.ok("one.vmpool.info", -1, -1, -1, -1)) == [ann_vm, ben_vm]
    assert ann.ok("one.vm.info", ben_vm)
    ann.fails("one.vm.action", "hold", ben_vm, code=0x200)  # USE is not MANAGE


def test_id_ranges_pages_and_state_filter(rpc: Caller) -> None:
    for _ in range(6):
        rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    rpc.ok("one.vm.action", "hold", 2)
    rpc.ok("one.vm.action", "terminate", 3)
    assert _ids(rpc.ok("one.vmpool.info", -2, 1, 4, -1)) == [1, 2, 4]
    assert _ids(rpc.ok("one.vmpool.info", -2, 1, 4, -2)) == [1, 2, 3, 4]
    assert _ids(rpc.ok("one.vmpool.info", -2, -1, -1, 2)) == [2]
    assert _ids(rpc.ok("one.vmpool.info", -2, -1, -1, 6)) == [3]
    assert _ids(rpc.ok("one.vmpool.info", -2, 2, -2, -2)) == [2, 3]  # page: offset 2, size 2
    assert _ids(rpc.ok("one.vmpool.infoset", "5,0,3", False)) == [0, 3, 5]


def test_rename_update_chown_chmod(rpc: Caller) -> None:
    ann, _ = _setup_users(rpc)
    vid = ann.ok("one.vm.allocate", "CPU = 1 NAME = a MEMORY = 1 LABEL = x", False)
    ann.ok("one.vm.rename", vid, "b")
    ann.ok("one.vm.update", vid, "COLOR = red", 1)
    doc = etree.fromstring(ann.ok("one.vm.info", vid).encode())
    assert doc.findtext("NAME") == "b"
    assert [e.tag for e in doc.find("USER_TEMPLATE")] == ["COLOR", "LABEL"]
    ann.ok("one.vm.update", vid, "ONLY = this", 0)
    assert [e.tag for e in etree.fromstring(ann.ok("one.vm.info", vid).encode()).find("USER_TEMPLATE")] == ["ONLY"]
    ann.fails("one.vm.chown", vid, 0, -1, code=0x200)           # only oneadmin gives VMs away
    ann.fails("one.vm.chmod", vid, -1, -1, 1, -1, -1, -1, -1, -1, -1, code=0x200)  # ADMIN bit
    ann.ok("one.vm.chmod", vid, -1, -1, -1, 1, 1, -1, -1, -1, -1)
    rpc.ok("one.vm.chown", vid, 0, 0)
    doc = etree.fromstring(rpc.ok("one.vm.info", vid).encode())
    assert (doc.findtext("UNAME"), doc.findtext("GNAME"), doc.findtext("PERMISSIONS/GROUP_M")) == (
        "oneadmin", "oneadmin", "1")
    rpc.fails("one.vm.chown", vid, 77, -1, code=0x400)


def test_passwords_tokens_and_groups(rpc: Caller) -> None:
    ann, _ = _setup_users(rpc)
    ann.ok("one.user.passwd", -1, "new-pw")
    ann.fails("one.user.info", -1, code=0x100)
    ann = rpc.as_user("ann:new-pw")
    token = ann.ok("one.user.login", "ann", "", 2, -1)
    assert rpc.as_user(f"ann:{token}").ok("one.user.info", -1)
    ann.ok("one.user.login", "ann", token, 0, -1)
    rpc.as_user(f"ann:{token}").fails("one.user.info", -1, code=0x100)
    short = ann.ok("one.user.login", "ann", "", 1, -1)
    time.sleep(1.2)
    rpc.as_user(f"ann:{short}").fails("one.user.info", -1, code=0x100)
    ann.fails("one.user.login", "ben", "", 60, -1, code=0x200)
    rpc.ok("one.user.addgroup", 1, 0)
    assert "<ID>0</ID>" in ann.ok("one.user.info", -1)
    ann.ok("one.host.allocate", "now-admin", "dummy", "dummy", -1)  # member of oneadmin
    rpc.ok("one.user.delgroup", 1, 0)
    rpc.fails("one.user.delgroup", 1, 2, code=0x800)  # primary group stays
    rpc.fails("one.group.delete", 2, code=0x800)       # not empty
    rpc.fails("one.user.delete", 0, code=0x800)
    groups = etree.fromstring(rpc.ok("one.grouppool.info").encode())
    assert [int(e.text) for e in groups.findall("GROUP/ID")] == [0, 1, 2]  # QUOTAS follow each
    assert etree.fromstring(rpc.ok("one.group.info", 2).encode()).findtext("USERS/ID") == "1"
    rpc.ok("one.user.chgrp", 1, 1)  # the old primary group is left, as in oned
    user = etree.fromstring(rpc.ok("one.user.info", 1).encode())
    assert user.findtext("GID") == "1" and [e.text for e in user.findall("GROUPS/ID")] == ["1"]


def test_hosts_status_update_rename_delete(rpc: Caller) -> None:
    hid = rpc.ok("one.host.allocate", "h", "dummy", "dummy", -1)
    rpc.ok("one.host.status", hid, 2)
    doc = etree.fromstring(rpc.ok("one.host.info", hid).encode())
    assert (doc.findtext("STATE"), doc.findtext("PREV_STATE")) == ("8", "0")
    rpc.ok("one.host.update", hid, "A = 1", 0)
    rpc.ok("one.host.update", hid, "B = 2", 1)
    rpc.ok("one.host.rename", hid, "h2")
    doc = etree.fromstring(rpc.ok("one.host.info", hid).encode())
    assert doc.findtext("NAME") == "h2" and doc.findtext("TEMPLATE/A") == "1" and doc.findtext("TEMPLATE/B") == "2"
    cid = rpc.ok("one.cluster.allocate", "c")
    rpc.ok("one.cluster.addhost", cid, hid)
    rpc.fails("one.cluster.delete", cid, code=0x800)
    assert etree.fromstring(rpc.ok("one.cluster.info", cid).encode()).findtext("HOSTS/ID") == str(hid)
    rpc.ok("one.host.delete", hid)
    rpc.ok("one.cluster.delete", cid)
