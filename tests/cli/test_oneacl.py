"""oneacl and onegroup addadmin/deladmin against a real oned."""
from __future__ import annotations

import json

ACL_COLUMNS = ["ID", "USER", "RES_VHNIUTGDCOZSvRMAPtB", "RID", "OPE_UMAC", "ZONE"]


def _as_user(monkeypatch, tmp_path, name: str) -> None:
    auth = tmp_path / f"{name}.auth"
    auth.write_text(f"{name}:pw\n")
    monkeypatch.setenv("ONE_AUTH", str(auth))


def test_list_shows_opennebulas_columns(ok):
    result = ok("oneacl", "list")
    assert result.header == ACL_COLUMNS
    assert result.row("0") == ["0", "@1", "V--I-T---O-S----P-B", "*", "---c", "*"]
    assert result.row("1") == ["1", "*", "----------Z--------", "*", "u---", "*"]
    rules = json.loads(ok("oneacl", "list", "--json").out)["ACL_POOL"]["ACL"]
    assert rules[-1]["STRING"] == "* MARKETPLACE+MARKETPLACEAPP/* USE *"


def test_create_from_one_string_or_parts_and_delete(ok, run, unique):
    gid = ok("onegroup", "create", unique("g")).new_id
    rid = ok("oneacl", "create", f"#{gid + 1000} HOST+NET/%0 USE+MANAGE").new_id
    assert ok("oneacl", "list").row(str(rid)) == [
        str(rid), f"#{gid + 1000}", "-HN----------------", "%0", "um--", "#0"]
    other = ok("oneacl", "create", f"@{gid}", "IMAGE/*", "USE", "*").new_id
    assert ok("oneacl", "list").row(str(other))[1:] == [f"@{gid}", "---I---------------", "*",
                                                       "u---", "*"]
    ok("oneacl", "delete", str(rid), str(other))
    ids = {line.split()[0] for line in ok("oneacl", "list").lines()[1:]}
    assert not {str(rid), str(other)} & ids
    gone = run("oneacl", "delete", str(rid))
    assert gone.code == 1 and gone.err.startswith("[one.acl.delrule]") and "does not exist" in gone.err


def test_bad_rules_are_refused_with_a_message(ok, run):
    before = ok("oneacl", "list").out
    for rule, message in ((("@1 FOO/* USE",), "Resource 'FOO' does not exist"),
                          (("@1", "VM/*"), "three components"),
                          (("#3 HOST/#2 USE *",), "is malformed")):
        result = run("oneacl", "create", *rule)
        assert result.code in (1, 2) and message in result.err, result
        assert "Traceback" not in result.err
    assert ok("oneacl", "list").out == before


def test_onegroup_create_lets_its_users_create(ok, unique):
    gid = ok("onegroup", "create", unique("team")).new_id
    assert any(line.split()[1] == f"@{gid}" for line in ok("oneacl", "list").lines()[1:])
    ok("onegroup", "delete", str(gid))
    assert not any(line.split()[1] == f"@{gid}" for line in ok("oneacl", "list").lines()[1:])


def test_group_admins(ok, run, unique, monkeypatch, tmp_path):
    group = unique("g")
    gid = ok("onegroup", "create", group).new_id
    boss, member = unique("boss"), unique("member")
    ok("oneuser", "create", boss, "pw")
    uid = ok("oneuser", "create", member, "pw").new_id
    for name in (boss, member):
        ok("oneuser", "chgrp", name, group)
    ok("onegroup", "addadmin", group, boss)
    out = ok("onegroup", "show", group).out
    assert "ADMINS" in out.splitlines()
    _as_user(monkeypatch, tmp_path, boss)
    ok("oneuser", "disable", member)             # a group admin manages its users
    ok("oneuser", "enable", str(uid))
    refused = run("oneacl", "list")
    assert refused.code == 1 and "Not authorized to perform MANAGE ACL" in refused.err


def test_deladmin_and_its_errors(ok, run, unique):
    group = unique("g")
    ok("onegroup", "create", group)
    name = unique("u")
    ok("oneuser", "create", name, "pw")
    outsider = run("onegroup", "addadmin", group, name)
    assert outsider.code == 1 and "is not part of Group" in outsider.err
    ok("oneuser", "chgrp", name, group)
    ok("onegroup", "addadmin", group, name)
    ok("onegroup", "deladmin", group, name)
    again = run("onegroup", "deladmin", group, name)
    assert again.code == 1 and "is not an administrator" in again.err
    assert run("onegroup", "addadmin", group).code == 2
