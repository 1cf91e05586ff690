"""Quotas through the real server: setting them, the documents that show them,
every place they stop a request, and the counters they keep."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pyone
import pytest
from lxml import etree

from conftest import ADMIN, Caller, validate
from one.daemon import Oned

AUTHORIZATION, NO_EXISTS, ACTION = 0x200, 0x400, 0x800


def _user(rpc: Caller, name: str) -> tuple[int, Caller]:
    uid = rpc.ok("one.user.allocate", name, "pw", "core", [])
    return uid, rpc.as_user(f"{name}:pw")


def _vm_quota(rpc: Caller, uid: int, owner: str = "user") -> dict[str, str]:
    doc = etree.fromstring(rpc.ok(f"one.{owner}.info", uid).encode())
    vm = doc.find("VM_QUOTA/VM")
    return {} if vm is None else {child.tag: child.text or "" for child in vm}


def _entry(rpc: Caller, uid: int, path: str, qid: int) -> dict[str, str]:
    doc = etree.fromstring(rpc.ok("one.user.info", uid).encode())
    for entry in doc.iterfind(path):
        if entry.findtext("ID") == str(qid):
            return {child.tag: child.text or "" for child in entry}
    return {}


def _image(rpc: Caller, uid: int, name: str = "base", size: int = 10) -> int:
    """A READY image of the user's (SOURCE is the administrator's to write)."""
    iid = rpc.ok("one.image.allocate", f'NAME = "{name}" SOURCE = "/srv/{name}" SIZE = {size}', 1)
    rpc.ok("one.image.chown", iid, uid, 1)
    return iid


def _vnet(rpc: Caller, size: int = 8) -> int:
    nid = rpc.ok("one.vn.allocate", f'NAME = "lan" VN_MAD = "dummy" '
                                    f'AR = [ TYPE = "IP4", IP = "10.9.0.1", SIZE = "{size}" ]', -1)
    rpc.ok("one.vn.chmod", nid, -1, -1, -1, 1, -1, -1, 1, -1, -1)
    return nid


# -- limits stop allocations -------------------------------------------------------------
def test_a_user_vm_quota_stops_the_next_vm_and_names_the_numbers(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    assert rpc.ok("one.user.quota", uid, "VM = [ VMS = 2, CPU = 4, MEMORY = 1024 ]") == uid
    for _ in range(2):
        alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 128", False)
    message = alice.fails("one.vm.allocate", "CPU = 1 MEMORY = 128", False, code=AUTHORIZATION)
    assert f"User [{uid}] limit of 2 reached for VMS quota in VM" in message
    assert "Requested: 1, Limit: 2, Used: 2" in message
    assert len(etree.fromstring(rpc.ok("one.vmpool.info", -2, -1, -1, -1).encode())) == 2
    used = _vm_quota(rpc, uid)
    assert (used["VMS"], used["VMS_USED"], used["CPU_USED"], used["MEMORY_USED"]) == (
        "2", "2", "2", "256")
    assert (used["RUNNING_VMS_USED"], used["RUNNING_MEMORY_USED"]) == ("2", "256")


def test_a_group_quota_counts_every_member(rpc: Caller) -> None:
    _, alice = _user(rpc, "alice")
    _, bob = _user(rpc, "bob")
    rpc.ok("one.group.quota", 1, "VM = [ CPU = 1.5 ]")
    alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    message = bob.fails("one.vm.allocate", "CPU = 1 MEMORY = 64", False, code=AUTHORIZATION)
    assert "Group [1] limit of 1.5 reached for CPU quota in VM" in message
    bob.ok("one.vm.allocate", "CPU = 0.5 MEMORY = 64", False)
    assert _vm_quota(rpc, 1, "group")["CPU_USED"] == "1.5"


def test_default_quotas_apply_until_a_user_has_its_own(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    xml = rpc.ok("one.userquota.update", "VM = [ MEMORY = 256 ]")
    assert etree.fromstring(xml).findtext("VM_QUOTA/VM/MEMORY") == "256"
    assert etree.fromstring(xml).findtext("VM_QUOTA/VM/VMS") == "-2"
    alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 256", False)
    assert "limit of 256 reached for MEMORY" in alice.fails(
        "one.vm.allocate", "CPU = 1 MEMORY = 1", False, code=AUTHORIZATION)
    assert _vm_quota(rpc, uid)["MEMORY"] == "-1"      # -1: the default applies
    rpc.ok("one.user.quota", uid, "VM = [ MEMORY = -2 ]")  # -2: unlimited
    alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 4096", False)
    assert etree.fromstring(rpc.ok("one.userquota.info")).findtext("VM_QUOTA/VM/MEMORY") == "256"


def test_the_oneadmin_group_is_neither_limited_nor_counted(rpc: Caller) -> None:
    rpc.ok("one.userquota.update", "VM = [ VMS = 0 ]")
    rpc.ok("one.groupquota.update", "VM = [ VMS = 0 ]")
    rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    assert _vm_quota(rpc, 0) == {} and _vm_quota(rpc, 0, "group") == {}
    uid, alice = _user(rpc, "alice")
    assert "limit of 0 reached for VMS" in alice.fails(
        "one.vm.allocate", "CPU = 1 MEMORY = 64", False, code=AUTHORIZATION)


def test_network_quota_limits_leases_per_network(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    nid = _vnet(rpc)
    rpc.ok("one.user.quota", uid, f"NETWORK = [ ID = {nid}, LEASES = 1 ]")
    vid = alice.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 NIC = [ NETWORK_ID = {nid} ]", False)
    message = alice.fails("one.vm.allocate", f"CPU = 1 MEMORY = 64 NIC = [ NETWORK_ID = {nid} ]",
                          False, code=AUTHORIZATION)
    assert f"limit of 1 reached for LEASES quota in NETWORK with ID: {nid}" in message
    assert etree.fromstring(rpc.ok("one.vn.info", nid).encode()).findtext("USED_LEASES") == "1"
    alice.ok("one.vm.action", "terminate", vid)
    assert _entry(rpc, uid, "NETWORK_QUOTA/NETWORK", nid)["LEASES_USED"] == "0"
    alice.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 NIC = [ NETWORK_ID = {nid} ]", False)


def test_a_reservation_counts_its_addresses_as_leases(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    nid = _vnet(rpc)
    rpc.ok("one.user.quota", uid, f"NETWORK = [ ID = {nid}, LEASES = 3 ]")
    alice.fails("one.vn.reserve", nid, 'NAME = "big" SIZE = 4', code=AUTHORIZATION)
    child = alice.ok("one.vn.reserve", nid, 'NAME = "mine" SIZE = 2')
    assert _entry(rpc, uid, "NETWORK_QUOTA/NETWORK", nid)["LEASES_USED"] == "2"
    alice.ok("one.vn.delete", child)
    assert _entry(rpc, uid, "NETWORK_QUOTA/NETWORK", nid)["LEASES_USED"] == "0"


def test_datastore_quota_limits_images_and_size(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    rpc.ok("one.user.quota", uid, "DATASTORE = [ ID = 1, IMAGES = 2, SIZE = 100 ]")
    block = 'NAME = "{}" TYPE = DATABLOCK SIZE = {}'
    first = alice.ok("one.image.allocate", block.format("a", 60), 1)
    message = alice.fails("one.image.allocate", block.format("b", 50), 1, code=AUTHORIZATION)
    assert "limit of 100 reached for SIZE quota in DATASTORE with ID: 1" in message
    alice.ok("one.image.allocate", block.format("c", 40), 1)
    assert "IMAGES quota" in alice.fails("one.image.allocate", block.format("d", 1), 1,
                                         code=AUTHORIZATION)
    assert "IMAGES quota" in rpc.fails("one.image.chown", _image(rpc, 0, "e"), uid, -1,
                                       code=AUTHORIZATION)
    alice.ok("one.image.delete", first)
    used = _entry(rpc, uid, "DATASTORE_QUOTA/DATASTORE", 1)
    assert (used["IMAGES_USED"], used["SIZE_USED"]) == ("1", "40")


def test_image_quota_limits_the_vms_using_an_image(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    iid = _image(rpc, uid)
    rpc.ok("one.user.quota", uid, f"IMAGE = [ ID = {iid}, RVMS = 1 ]")
    template = f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {iid} ]"
    vid = alice.ok("one.vm.allocate", template, False)
    assert f"RVMS quota in IMAGE with ID: {iid}" in alice.fails(
        "one.vm.allocate", template, False, code=AUTHORIZATION)
    assert _entry(rpc, uid, "IMAGE_QUOTA/IMAGE", iid)["RVMS_USED"] == "1"
    alice.ok("one.vm.action", "terminate", vid)
    assert _entry(rpc, uid, "IMAGE_QUOTA/IMAGE", iid)["RVMS_USED"] == "0"
    assert _vm_quota(rpc, uid) == {}                 # all back to 0: the entry is dropped


def test_system_disk_size_counts_volatile_and_cloned_disks(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    iid = _image(rpc, uid)
    rpc.ok("one.user.quota", uid, "VM = [ SYSTEM_DISK_SIZE = 100 ]")
    alice.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {iid} ] "
                                f"DISK = [ TYPE = fs, SIZE = 50 ]", False)
    assert _vm_quota(rpc, uid)["SYSTEM_DISK_SIZE_USED"] == "60"
    assert "SYSTEM_DISK_SIZE quota" in alice.fails(
        "one.vm.allocate", "CPU = 1 MEMORY = 64 DISK = [ TYPE = fs, SIZE = 41 ]", False,
        code=AUTHORIZATION)


def test_chown_moves_usage_and_is_refused_past_the_new_owners_limit(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    bob, _ = _user(rpc, "bob")
    carol, _ = _user(rpc, "carol")
    rpc.ok("one.user.quota", bob, "VM = [ VMS = 0 ]")
    vid = alice.ok("one.vm.allocate", "CPU = 2 MEMORY = 64", False)
    assert "limit of 0 reached for VMS" in rpc.fails("one.vm.chown", vid, bob, -1,
                                                     code=AUTHORIZATION)
    assert etree.fromstring(rpc.ok("one.vm.info", vid).encode()).findtext("UID") == str(uid)
    assert _vm_quota(rpc, uid)["VMS_USED"] == "1"
    rpc.ok("one.vm.chown", vid, carol, -1)
    assert _vm_quota(rpc, uid) == {}                 # nothing left: the entry is dropped
    assert (_vm_quota(rpc, carol)["VMS_USED"], _vm_quota(rpc, carol)["CPU_USED"]) == ("1", "2")
    iid = _image(rpc, uid, "i", 7)
    rpc.ok("one.image.chown", iid, carol, -1)
    assert _entry(rpc, carol, "DATASTORE_QUOTA/DATASTORE", 1)["SIZE_USED"] == "7"
    assert _entry(rpc, uid, "DATASTORE_QUOTA/DATASTORE", 1) == {}


def test_a_deleted_user_takes_its_quotas_along(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    rpc.ok("one.user.quota", uid, "VM = [ VMS = 3 ]")
    rpc.ok("one.user.delete", uid)
    again, _ = _user(rpc, "alice")
    assert again != uid and _vm_quota(rpc, again) == {}


# -- bad input: OpenNebula's codes, nothing stored ---------------------------------------
@pytest.mark.parametrize("template, words", [
    ("VM = [ VMS = -3 ]", "Negative limits or bad format in quota VM"),
    ("VM = [ CPU = many ]", "Negative limits or bad format in quota VM"),
    ("VM = [ MEMORY = nan ]", "Negative limits or bad format in quota VM"),
    ("VM = [ VMS = 1, FOO = 2 ]", "Unknown attribute FOO in quota VM"),
    ("DISKS = [ ID = 1, SIZE = 2 ]", "Unknown quota DISKS"),
    ("VMS = 4", "Unknown quota VMS"),
    ("DATASTORE = [ IMAGES = 2 ]", "Negative limits or bad format in quota DATASTORE"),
    ("NETWORK = [ ID = lan, LEASES = 2 ]", "Negative limits or bad format in quota NETWORK"),
    ("IMAGE = [ ID = 3, RUNNING_VMS = 2 ]", "Unknown attribute RUNNING_VMS in quota IMAGE"),
])
def test_bad_quota_templates_are_action_errors(rpc: Caller, template: str, words: str) -> None:
    uid, _ = _user(rpc, "alice")
    rpc.ok("one.user.quota", uid, "VM = [ VMS = 5 ]")
    assert words in rpc.fails("one.user.quota", uid, template, code=ACTION)
    assert words in rpc.fails("one.group.quota", 1, template, code=ACTION)
    assert _vm_quota(rpc, uid)["VMS"] == "5"
    assert _vm_quota(rpc, 1, "group") == {}


def test_defaults_refuse_minus_one_and_bad_values(rpc: Caller) -> None:
    assert "Negative limits" in rpc.fails("one.userquota.update", "VM = [ VMS = -1 ]", code=ACTION)
    assert "Negative limits" in rpc.fails("one.groupquota.update", "VM = [ CPU = x ]", code=ACTION)
    assert etree.fromstring(rpc.ok("one.userquota.info")).find("VM_QUOTA/VM") is None


def test_quota_setting_errors_by_code(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    assert rpc.fails("one.user.quota", 0, "VM = [ VMS = 1 ]", code=ACTION).endswith(
        "Cannot set quotas for oneadmin user")
    assert rpc.fails("one.group.quota", 0, "VM = [ VMS = 1 ]", code=ACTION).endswith(
        "Cannot set quotas for oneadmin group")
    rpc.fails("one.user.quota", 99, "VM = [ VMS = 1 ]", code=NO_EXISTS)
    rpc.fails("one.group.quota", 99, "VM = [ VMS = 1 ]", code=NO_EXISTS)
    alice.fails("one.user.quota", uid, "VM = [ VMS = 100 ]", code=AUTHORIZATION)
    alice.fails("one.userquota.update", "VM = [ VMS = 100 ]", code=AUTHORIZATION)
    alice.fails("one.groupquota.update", "VM = [ VMS = 100 ]", code=AUTHORIZATION)
    rpc.fails("one.user.quota", uid, "VM = [", code=0x2000)
    assert _vm_quota(rpc, uid) == {}


# -- documents ---------------------------------------------------------------------------
def test_documents_with_every_kind_of_quota_validate(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    nid = _vnet(rpc)
    iid = _image(rpc, uid)
    quota = (f"VM = [ VMS = 5, CPU = 2.5 ] DATASTORE = [ ID = 1, SIZE = 500 ] "
             f"NETWORK = [ ID = {nid}, LEASES = 4 ] IMAGE = [ ID = {iid}, RVMS = 2 ]")
    rpc.ok("one.user.quota", uid, quota)
    rpc.ok("one.group.quota", 1, quota)
    rpc.ok("one.userquota.update", "VM = [ VMS = 10 ] DATASTORE = [ ID = 1, IMAGES = 3 ]")
    rpc.ok("one.groupquota.update", "NETWORK = [ ID = 0, LEASES = 10 ]")
    alice.ok("one.vm.allocate", f"CPU = 0.5 MEMORY = 64 NIC = [ NETWORK_ID = {nid} ] "
                                f"DISK = [ IMAGE_ID = {iid} ]", False)
    user = validate(rpc.ok("one.user.info", uid), "user.xsd")
    assert user.findtext("VM_QUOTA/VM/CPU") == "2.5" and user.findtext("VM_QUOTA/VM/CPU_USED") == "0.5"
    assert user.findtext("DEFAULT_USER_QUOTAS/VM_QUOTA/VM/VMS") == "10"
    pool = validate(rpc.ok("one.userpool.info"), "user_pool.xsd")
    assert [q.findtext("ID") for q in pool.iterfind("QUOTAS")] == ["0", str(uid)]
    assert pool.findtext(f"QUOTAS[ID='{uid}']/IMAGE_QUOTA/IMAGE/RVMS_USED") == "1"
    assert pool.findtext("DEFAULT_USER_QUOTAS/DATASTORE_QUOTA/DATASTORE/IMAGES") == "3"
    group = validate(rpc.ok("one.group.info", 1), "group.xsd")
    assert group.findtext("NETWORK_QUOTA/NETWORK/LEASES_USED") == "1"
    groups = validate(rpc.ok("one.grouppool.info"), "group_pool.xsd")
    assert groups.findtext("QUOTAS[ID='1']/VM_QUOTA/VM/VMS_USED") == "1"
    assert alice.ok("one.user.info", -1) == rpc.ok("one.user.info", uid)


def test_a_users_document_follows_its_quota_at_once(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    before = rpc.ok("one.user.info", uid)         # cached now
    alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    after = rpc.ok("one.user.info", uid)
    assert before != after and _vm_quota(rpc, uid)["VMS_USED"] == "1"


# -- concurrency -------------------------------------------------------------------------
def test_fifty_clients_at_once_get_exactly_the_quota(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    rpc.ok("one.user.quota", uid, "VM = [ VMS = 10 ]")
    start = threading.Barrier(50)

    def allocate(_: int) -> list:
        own = alice.as_user(alice.session)        # a connection of its own
        start.wait(timeout=30)
        return own("one.vm.allocate", "CPU = 0.1 MEMORY = 16", False)

    with ThreadPoolExecutor(50) as pool:
        replies = list(pool.map(allocate, range(50)))
    assert sum(r[0] for r in replies) == 10
    assert all(r[2] == AUTHORIZATION for r in replies if not r[0])
    vms = etree.fromstring(rpc.ok("one.vmpool.info", -2, -1, -1, -1).encode())
    assert len(vms) == 10
    used = _vm_quota(rpc, uid)
    assert (used["VMS_USED"], used["CPU_USED"], used["MEMORY_USED"]) == ("10", "1", "160")


# -- a real client -----------------------------------------------------------------------
def test_pyone_sets_and_meets_quotas(oned: Oned) -> None:
    one = pyone.OneServer(oned.endpoint, session=ADMIN)
    uid = one.user.allocate("alice", "pw", "core", [])
    assert one.user.quota(uid, "VM = [ VMS = 1 ]") == uid
    assert one.user.info(uid).VM_QUOTA.VM[0].VMS == "1"
    alice = pyone.OneServer(oned.endpoint, session="alice:pw")
    alice.vm.allocate({"TEMPLATE": {"CPU": "1", "MEMORY": "64"}}, False)
    with pytest.raises(pyone.OneAuthorizationException, match="limit of 1 reached for VMS"):
        alice.vm.allocate({"TEMPLATE": {"CPU": "1", "MEMORY": "64"}}, False)
    one.user.quota(uid, "VM = [ VMS = 5 ]")
    assert one.group.quota(1, "VM = [ MEMORY = 64 ]") == 1
    with pytest.raises(pyone.OneAuthorizationException, match="Group \\[1\\] limit of 64"):
        alice.vm.allocate({"TEMPLATE": {"CPU": "1", "MEMORY": "1"}}, False)


def test_chgrp_moves_only_the_group_usage(rpc: Caller) -> None:
    uid, alice = _user(rpc, "alice")
    gid = rpc.ok("one.group.allocate", "team")
    vid = alice.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", False)
    rpc.ok("one.user.quota", uid, "VM = [ VMS = 0 ]")   # lowered below what alice holds
    rpc.ok("one.group.quota", gid, "VM = [ MEMORY = 32 ]")
    assert f"Group [{gid}] limit of 32 reached for MEMORY" in rpc.fails(
        "one.vm.chown", vid, -1, gid, code=AUTHORIZATION)
    rpc.ok("one.group.quota", gid, "VM = [ MEMORY = 64 ]")
    rpc.ok("one.vm.chown", vid, -1, gid)
    assert _vm_quota(rpc, uid)["VMS_USED"] == "1"         # alice still owns it
    assert _vm_quota(rpc, gid, "group")["MEMORY_USED"] == "64"
    assert _vm_quota(rpc, 1, "group") == {}


def test_usage_is_recounted_at_start_from_what_exists(tmp_path) -> None:
    """A database from before quotas (or drifted counters) is repaired at the next start."""
    from conftest import start_oned
    from one.pool.models import Quota

    oned = start_oned(tmp_path)
    rpc = Caller(oned.endpoint)
    uid, alice = _user(rpc, "alice")
    rpc.ok("one.user.quota", uid, "VM = [ VMS = 5 ]")
    for _ in range(2):
        alice.ok("one.vm.allocate", "CPU = 0.5 MEMORY = 64", False)
    _image(rpc, uid, "i", 30)
    expected = rpc.ok("one.user.info", uid)
    with oned.managers.pools.store.write():
        Quota.update(data={}).where(Quota.oid == 1).execute()   # group's and user's counters
    oned.stop()
    oned = start_oned(tmp_path)
    try:
        rpc = Caller(oned.endpoint)
        assert rpc.ok("one.user.info", uid) == expected.replace(
            "<VMS>5</VMS>", "<VMS>-1</VMS>")       # usage recounted; the lost limit stays lost
        assert _vm_quota(rpc, 1, "group")["MEMORY_USED"] == "128"
        assert _entry(rpc, uid, "DATASTORE_QUOTA/DATASTORE", 1)["SIZE_USED"] == "30"
    finally:
        oned.stop()
