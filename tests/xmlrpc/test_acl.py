"""ACL rules: the model both ways, the methods and their errors, and what rules grant."""
from __future__ import annotations

from pathlib import Path

import pyone
import pytest
from lxml import etree

from conftest import Caller, database, start_oned, validate
from one.acl_syntax import parse, rule_text
from one.acl_syntax import TYPES
from one.core.acl_rules import Request, Rule, RuleSet, malformed

DEFAULTS = ["@1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VMGROUP+BACKUPJOB/* CREATE *",
            "* ZONE/* USE *", "* MARKETPLACE+MARKETPLACEAPP/* USE *"]


def _hex(text: str) -> list[str]:
    return [f"{n:x}" for n in parse(text)]


def _rules(rpc: Caller) -> dict[int, str]:
    root = validate(rpc.ok("one.acl.info"), "acl_pool.xsd")
    return {int(a.findtext("ID")): a.findtext("STRING") for a in root.iter("ACL")}


def _add(rpc: Caller, text: str) -> int:
    return rpc.ok("one.acl.addrule", *_hex(text))


def _user(rpc: Caller, name: str, groups: list[int] | None = None) -> tuple[int, Caller]:
    uid = rpc.ok("one.user.allocate", name, "pw", "core", groups or [])
    return uid, rpc.as_user(f"{name}:pw")


# -- the model ------------------------------------------------------------------------
@pytest.mark.parametrize("text, numbers", [
    ("@1 VM+NET/* CREATE", (0x200000001, 0x5400000000, 0x8, 0x100000000)),
    ("#3 HOST/#2 USE+MANAGE #0", (0x100000003, 0x2100000002, 0x3, 0x100000000)),
    ("* NET+DATASTORE/%100 ADMIN *", (0x400000000, 0x104800000064, 0x4, 0x400000000)),
    ("@105 IMAGE+TEMPLATE/@103 USE+MANAGE+ADMIN+CREATE #0",
     (0x200000069, 0x28200000067, 0xF, 0x100000000)),
])
def test_rule_strings_and_numbers_both_ways(text: str, numbers: tuple[int, ...]) -> None:
    assert parse(text) == numbers
    assert rule_text(*numbers) == (text if len(text.split()) == 4 else f"{text} #0")
    assert malformed(*numbers) == ""


@pytest.mark.parametrize("text, error", [
    ("@1 VM/*", "three components"),
    ("@x VM/* USE", "ID string '@x' malformed"),
    ("@1 FOO/* USE", "Resource 'FOO' does not exist"),
    ("@1 VM USE", "Resource 'VM' malformed"),
    ("@1 VM/* DELETE", "Right 'DELETE' does not exist"),
])
def test_bad_rule_strings(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse(text)


@pytest.mark.parametrize("text, error", [
    ("#3 HOST/#2 USE *", "INDIVIDUAL(#) selector cannot be applied to ALL zones"),
    ("@1 VM/%0 USE", "CLUSTER(%) selector can be applied only to DATASTORE, HOST and NET"),
    ("@1 HOST/@0 USE", "GROUP(@) selector cannot be applied to HOST"),
    ("@1 VM/* USE @0", "[zone] GROUP (@) bit is not supported"),
])
def test_malformed_rules_in_oneds_words(text: str, error: str) -> None:
    assert error in malformed(*parse(text))


def test_rule_set_matching() -> None:
    rules = RuleSet(Rule(n, *parse(text)) for n, text in enumerate([
        "#5 NET/#7 USE+MANAGE", "@1 HOST/%2 ADMIN", "* IMAGE/@3 USE *", "@1 VM/* USE #1"]))
    net, host, image, vm = (TYPES[k] for k in ("NET", "HOST", "IMAGE", "VM"))
    assert rules.grants(5, set(), Request(net, 0x2, oid=7))          # a subset of the rights
    assert not rules.grants(5, set(), Request(net, 0x4, oid=7))      # not ADMIN
    assert not rules.grants(6, set(), Request(net, 0x1, oid=7))      # another user
    assert rules.grants(6, {1}, Request(host, 0x4, oid=9, clusters=(0, 2)))
    assert not rules.grants(6, {1}, Request(host, 0x4, oid=9, clusters=(0,)))
    assert rules.grants(8, set(), Request(image, 0x1, oid=4, gid=3))  # everyone, group 3's
    assert not rules.grants(8, {1}, Request(vm, 0x1, oid=1))          # zone #1 is not this one
    reach = rules.reach(5, {1}, net, 0x1)
    assert (reach.all, reach.oids) == (False, {7})
    assert rules.reach(6, {1}, host, 0x4).cids == {2}
    rules.remove(0)
    assert not rules.grants(5, set(), Request(net, 0x2, oid=7))
    assert [r.oid for r in rules] == [1, 3, 2]                       # by user part, then id


# -- the methods ----------------------------------------------------------------------
def test_a_new_installation_has_opennebulas_default_rules(rpc: Caller) -> None:
    assert _rules(rpc) == dict(enumerate(DEFAULTS))
    first = etree.fromstring(rpc.ok("one.aclpool.info").encode()).find("ACL")
    assert [first.findtext(t) for t in ("USER", "RESOURCE", "RIGHTS", "ZONE")] == \
        ["200000001", "121429400000000", "8", "400000000"]


def test_addrule_delrule_through_pyone(oned) -> None:
    one = pyone.OneServer(oned.endpoint, session="oneadmin:secret")
    rid = one.acl.addrule(*_hex("@1 NET/#0 USE #0"))
    assert rid == 3
    # oned lists rules by their user part (#, @, then *), then by id
    assert [r.STRING for r in one.acl.info().ACL] == [DEFAULTS[0], "@1 NET/#0 USE #0",
                                                      *DEFAULTS[1:]]
    one.acl.delrule(rid)
    assert [r.STRING for r in one.acl.info().ACL] == DEFAULTS
    assert one.acl.addrule(*_hex("@1 NET/#0 USE")) == 4  # ids are never reused


def test_zone_may_be_left_out_or_given_as_0x(rpc: Caller) -> None:
    user, resource, rights, _ = _hex("@1 HOST/* ADMIN")
    rid = rpc.ok("one.acl.addrule", user, resource, rights)
    assert _rules(rpc)[rid] == "@1 HOST/* ADMIN #0"
    rid = rpc.ok("one.acl.addrule", "0x" + user, resource.upper(), rights, "0x400000000")
    assert _rules(rpc)[rid] == "@1 HOST/* ADMIN *"


def test_errors_leave_the_rules_unchanged(rpc: Caller) -> None:
    assert "hexadecimal" in rpc.fails("one.acl.addrule", "@1", "1000000000", "1", code=0x1000)
    assert "[resource]" in rpc.fails("one.acl.addrule", "200000001", "zz", "1", code=0x1000)
    message = rpc.fails("one.acl.addrule", *_hex("#3 HOST/#2 USE *"), code=0x4000)
    assert message.endswith("Rule #3 HOST/#2 USE * is malformed: [resource] INDIVIDUAL(#) "
                            "selector cannot be applied to ALL zones, except for USER, GROUP "
                            "and ZONE types")
    assert "wrong [rights], it cannot be 0" in rpc.fails(
        "one.acl.addrule", "200000001", "1400000000", "0", code=0x4000)
    assert "already exists" in rpc.fails("one.acl.addrule", *_hex(DEFAULTS[1]), code=0x4000)
    assert "Rule 99 does not exist" in rpc.fails("one.acl.delrule", 99, code=0x400)
    assert _rules(rpc) == dict(enumerate(DEFAULTS))


def test_only_the_oneadmin_group_manages_rules_unless_a_rule_says_so(rpc: Caller) -> None:
    uid, user = _user(rpc, "ann")
    assert "Not authorized to perform MANAGE ACL" in user.fails("one.acl.info", code=0x200)
    user.fails("one.acl.addrule", *_hex("@1 HOST/* ADMIN"), code=0x200)
    user.fails("one.acl.delrule", 0, code=0x200)
    rpc.ok("one.acl.addrule", f"{0x100000000 | uid:x}", f"{0x80000000000 | 0x400000000:x}", "2")
    assert len(_rules(user)) == 4


def test_rules_are_stored_and_loaded_at_start(tmp_path: Path) -> None:
    server = start_oned(tmp_path)
    rid = _add(Caller(server.endpoint), "@1 HOST/* ADMIN")
    server.stop()
    server = start_oned(tmp_path)
    try:
        rpc = Caller(server.endpoint)
        assert _rules(rpc) == {**dict(enumerate(DEFAULTS)), rid: "@1 HOST/* ADMIN #0"}
        uid, user = _user(rpc, "ann")
        hid = rpc.ok("one.host.allocate", "node", "dummy", "dummy", -1)
        user.ok("one.host.status", hid, 1)
    finally:
        server.stop()


# -- what rules grant -------------------------------------------------------------------
def test_a_rule_grants_and_its_deletion_takes_back(rpc: Caller) -> None:
    hid = rpc.ok("one.host.allocate", "node", "dummy", "dummy", -1)
    _, user = _user(rpc, "ann")
    assert "Not authorized to perform ADMIN HOST [0]" in user.fails(
        "one.host.status", hid, 1, code=0x200)
    rid = _add(rpc, "@1 HOST/* ADMIN")
    user.ok("one.host.status", hid, 1)
    user.ok("one.host.rename", hid, "renamed")
    rpc.ok("one.acl.delrule", rid)
    user.fails("one.host.status", hid, 0, code=0x200)


def test_create_needs_a_rule_for_the_type(rpc: Caller) -> None:
    gid = rpc.ok("one.group.allocate", "team")
    _, team = _user(rpc, "tom", [gid])
    _, ann = _user(rpc, "ann")   # users group: OpenNebula's default rule
    ann.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", True)
    assert team.fails("one.vm.allocate", "CPU = 1 MEMORY = 1", True,
                      code=0x200).endswith("Not authorized to perform CREATE VM.")
    rid = _add(rpc, f"@{gid} VM/* CREATE")
    team.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", True)
    rpc.ok("one.acl.delrule", rid)
    team.fails("one.vm.allocate", "CPU = 1 MEMORY = 1", True, code=0x200)


def test_networks_need_create_and_admin_of_the_cluster(rpc: Caller) -> None:
    uid, ann = _user(rpc, "ann")
    text = 'NAME = "n" VN_MAD = "dummy" BRIDGE = "br0"'
    assert "CREATE NET" in ann.fails("one.vn.allocate", text, -1, code=0x200)
    _add(rpc, f"#{uid} NET/* CREATE")
    assert "ADMIN CLUSTER [0]" in ann.fails("one.vn.allocate", text, -1, code=0x200)
    _add(rpc, f"#{uid} CLUSTER/#0 ADMIN")
    # authorized now: what stops a user is the restricted VN_MAD, as in OpenNebula 7
    assert "restricted attribute VN_MAD" in ann.fails("one.vn.allocate", text, -1, code=0x200)


def test_cluster_rules_follow_the_objects_cluster(rpc: Caller) -> None:
    cid = rpc.ok("one.cluster.allocate", "rack")
    inside = rpc.ok("one.host.allocate", "inside", "dummy", "dummy", cid)
    outside = rpc.ok("one.host.allocate", "outside", "dummy", "dummy", -1)
    uid, ann = _user(rpc, "ann")
    _add(rpc, f"#{uid} HOST/%{cid} ADMIN")
    ann.ok("one.host.status", inside, 1)
    ann.fails("one.host.status", outside, 1, code=0x200)
    rpc.ok("one.cluster.addhost", 0, inside)  # moved out of the cluster: no longer granted
    ann.fails("one.host.status", inside, 0, code=0x200)


def _listed(caller: Caller, method: str, *args: int) -> list[int]:
    root = etree.fromstring(caller.ok(method, *args).encode())
    return [int(e.text) for e in root.findall("./*/ID") if e.getparent().tag != "QUOTAS"]


def test_listings_include_what_rules_let_the_user_use(rpc: Caller) -> None:
    net = rpc.ok("one.vn.allocate", 'NAME = "n" VN_MAD = "dummy" BRIDGE = "br0"', -1)
    image = rpc.ok("one.image.allocate", 'NAME = "i" TYPE = "DATABLOCK" SIZE = 1', 1)
    uid, ann = _user(rpc, "ann")
    assert _listed(ann, "one.vnpool.info", -2, -1, -1) == []
    ann.fails("one.vn.info", net, code=0x200)
    _add(rpc, f"#{uid} NET/#{net} USE #0")
    assert _listed(ann, "one.vnpool.info", -2, -1, -1) == [net]
    ann.ok("one.vn.info", net)
    assert _listed(ann, "one.imagepool.info", -2, -1, -1) == []
    _add(rpc, "@1 IMAGE/@0 USE")   # the objects of group oneadmin
    assert _listed(ann, "one.imagepool.info", -2, -1, -1) == [image]
    assert _listed(ann, "one.imagepool.info", -3, -1, -1) == []  # mine only: still none


def test_cluster_rules_list_networks_of_the_cluster(rpc: Caller) -> None:
    cid = rpc.ok("one.cluster.allocate", "rack")
    inside = rpc.ok("one.vn.allocate", 'NAME = "a" VN_MAD = "dummy" BRIDGE = "br0"', cid)
    rpc.ok("one.vn.allocate", 'NAME = "b" VN_MAD = "dummy" BRIDGE = "br0"', -1)
    uid, ann = _user(rpc, "ann")
    _add(rpc, f"#{uid} NET/%{cid} USE")
    assert _listed(ann, "one.vnpool.info", -2, -1, -1) == [inside]


def test_deleting_a_user_or_group_deletes_its_rules(rpc: Caller) -> None:
    gid = rpc.ok("one.group.allocate", "team")
    uid, _ = _user(rpc, "ann")
    _add(rpc, f"#{uid} HOST/* ADMIN")
    _add(rpc, f"@{gid} VM/* CREATE")
    _add(rpc, f"@1 IMAGE/@{gid} USE")
    rpc.ok("one.user.delete", uid)
    rpc.ok("one.group.delete", gid)
    assert list(_rules(rpc).values()) == DEFAULTS


# -- group administrators -----------------------------------------------------------------
def test_group_admins(rpc: Caller) -> None:
    gid = rpc.ok("one.group.allocate", "team")
    boss_id, boss = _user(rpc, "boss", [gid])
    member_id, member = _user(rpc, "member", [gid])
    _add(rpc, f"@{gid} VM/* CREATE")
    vid = member.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", True)
    boss.fails("one.vm.info", vid, code=0x200)
    boss.fails("one.user.enable", member_id, False, code=0x200)

    assert rpc.ok("one.group.addadmin", gid, boss_id) == gid
    group = validate(rpc.ok("one.group.info", gid), "group.xsd")
    assert [int(e.text) for e in group.findall("ADMINS/ID")] == [boss_id]
    assert sorted(_rules(rpc).values())[0:4] == sorted([
        f"#{boss_id} USER/@{gid} USE+MANAGE+ADMIN+CREATE *",
        f"#{boss_id} VM+NET+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VROUTER+VMGROUP+BACKUPJOB/@{gid} "
        "USE+MANAGE *",
        f"#{boss_id} VROUTER/* CREATE *", f"#{boss_id} GROUP/#{gid} MANAGE *"])
    boss.ok("one.vm.info", vid)                      # the group's VMs
    assert _listed(boss, "one.vmpool.info", -2, -1, -1, -1) == [vid]
    boss.ok("one.user.enable", member_id, False)     # the group's users
    new = boss.ok("one.user.allocate", "recruit", "pw", "core", [])
    assert validate(rpc.ok("one.user.info", new), "user.xsd").findtext("GID") == str(gid)
    assert sorted(_listed(boss, "one.userpool.info")) == sorted([boss_id, member_id, new])
    boss.ok("one.group.update", gid, 'NOTE = "mine"', 1)
    boss.fails("one.group.delete", gid, code=0x200)  # MANAGE, not ADMIN, of the group

    rpc.ok("one.group.deladmin", gid, boss_id)
    assert validate(rpc.ok("one.group.info", gid), "group.xsd").find("ADMINS/ID") is None
    boss.fails("one.vm.info", vid, code=0x200)
    assert not any(s.startswith(f"#{boss_id} ") for s in _rules(rpc).values())


def test_group_admin_errors(rpc: Caller) -> None:
    gid = rpc.ok("one.group.allocate", "team")
    uid, user = _user(rpc, "ann")
    assert rpc.fails("one.group.addadmin", gid, uid, code=0x2000).endswith(
        f"Cannot edit group. User {uid} is not part of Group {gid}.")
    rpc.ok("one.user.addgroup", uid, gid)
    rpc.ok("one.group.addadmin", gid, uid)
    assert "already an administrator" in rpc.fails("one.group.addadmin", gid, uid, code=0x2000)
    user.fails("one.group.deladmin", gid, uid, code=0x200)
    rpc.fails("one.group.addadmin", 99, uid, code=0x400)
    rpc.fails("one.group.addadmin", gid, 99, code=0x400)
    rpc.ok("one.user.delgroup", uid, gid)            # leaving the group ends the role
    assert validate(rpc.ok("one.group.info", gid), "group.xsd").find("ADMINS/ID") is None
    assert "not an administrator" in rpc.fails("one.group.deladmin", gid, uid, code=0x2000)
    assert list(_rules(rpc).values()) == DEFAULTS


def test_deploying_on_a_host_needs_manage_of_the_host(rpc: Caller) -> None:
    hid = rpc.ok("one.host.allocate", "node", "dummy", "dummy", -1)
    uid, ann = _user(rpc, "ann")
    vid = ann.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    assert "ADMIN VM" in ann.fails("one.vm.deploy", vid, hid, False, -1, code=0x200)
    _add(rpc, f"#{uid} VM/* ADMIN")
    assert "MANAGE HOST [0]" in ann.fails("one.vm.deploy", vid, hid, False, -1, code=0x200)
    _add(rpc, "@1 HOST/* MANAGE")   # the rule OpenNebula's guide gives for this
    ann.ok("one.vm.deploy", vid, hid, False, -1)


def test_group_admins_through_pyone(oned) -> None:
    one = pyone.OneServer(oned.endpoint, session="oneadmin:secret")
    gid = one.group.allocate("team")
    uid = one.user.allocate("boss", "pw", "core", [gid])
    assert one.group.addadmin(gid, uid) == gid
    assert one.group.info(gid).ADMINS.ID == [uid]
    assert one.group.deladmin(gid, uid) == gid
    assert one.group.info(gid).ADMINS.ID == []


def test_a_database_from_before_acls_gets_the_default_rules(tmp_path: Path) -> None:
    start_oned(tmp_path).stop()
    with database(tmp_path) as db:
        db.execute("DROP TABLE acl")
        db.execute("DELETE FROM pool_control WHERE pool = 'acl'")
    server = start_oned(tmp_path)
    try:
        assert list(_rules(Caller(server.endpoint)).values()) == DEFAULTS
    finally:
        server.stop()
