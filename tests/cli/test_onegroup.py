"""onegroup against a real oned."""
from __future__ import annotations

import json

GROUP_COLUMNS = ["ID", "NAME", "USERS"]


def test_list_create_show_delete(ok, run, unique):
    name = unique("g")
    gid = ok("onegroup", "create", name).new_id
    result = ok("onegroup", "list")
    assert result.header == GROUP_COLUMNS
    assert result.row(str(gid)) == [str(gid), name, "0"]
    out = ok("onegroup", "show", name).out
    for title in (f"GROUP {gid} INFORMATION", "GROUP TEMPLATE", "USERS"):
        assert title in out.splitlines()
    assert json.loads(ok("onegroup", "show", str(gid), "--json").out)["GROUP"]["NAME"] == name
    ok("onegroup", "delete", str(gid))
    assert run("onegroup", "show", str(gid)).code == 1


def test_users_are_counted_and_listed(ok, unique):
    group = unique("g")
    gid = ok("onegroup", "create", group).new_id
    uid = ok("oneuser", "create", unique("member"), "pw").new_id
    ok("oneuser", "chgrp", str(uid), str(gid))
    assert ok("onegroup", "list").row(str(gid))[2] == "1"
    assert f"IDS                 : {uid}" in ok("onegroup", "show", str(gid)).out
    data = json.loads(ok("onegroup", "list", "--json").out)
    assert any(g["NAME"] == group for g in data["GROUP_POOL"]["GROUP"])


def test_errors(run, ok, unique):
    name = unique("g")
    ok("onegroup", "create", name)
    duplicate = run("onegroup", "create", name)
    assert duplicate.code == 1 and duplicate.err.startswith("[one.group.allocate]")
    system = run("onegroup", "delete", "users")
    assert system.code == 1 and "cannot be deleted" in system.err
    assert run("onegroup", "create").code == 2
