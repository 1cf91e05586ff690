"""oneuser against a real oned: accounts, passwords, tokens, groups."""
from __future__ import annotations

import json
import re

import pytest

USER_COLUMNS = ["ID", "NAME", "ENABLED", "GROUP", "AUTH"]


@pytest.fixture
def account(ok, unique):
    name = unique("u")
    return ok("oneuser", "create", name, "pw1").new_id, name


def as_user(monkeypatch, tmp_path, name: str, secret: str) -> None:
    auth = tmp_path / f"{name}.auth"
    auth.write_text(f"{name}:{secret}\n")
    monkeypatch.setenv("ONE_AUTH", str(auth))


def test_list_columns_and_row(ok, account):
    uid, name = account
    result = ok("oneuser", "list")
    assert result.header == USER_COLUMNS
    assert result.row(str(uid)) == [str(uid), name, "yes", "users", "core"]
    data = json.loads(ok("oneuser", "list", "--json").out)
    assert name in {u["NAME"] for u in data["USER_POOL"]["USER"]}


def test_create_with_driver_and_show(ok, unique):
    name = unique("ext")
    uid = ok("oneuser", "create", name, "x", "--driver", "public").new_id
    out = ok("oneuser", "show", name).out
    assert f"USER {uid} INFORMATION" in out and "AUTH_DRIVER         : public" in out
    assert json.loads(ok("oneuser", "show", str(uid), "--json").out)["USER"]["NAME"] == name


def test_passwd_and_login_token(ok, run, account, monkeypatch, tmp_path):
    uid, name = account
    ok("oneuser", "passwd", str(uid), "pw2")
    as_user(monkeypatch, tmp_path, name, "pw1")
    assert run("oneuser", "show", str(uid)).code == 1
    as_user(monkeypatch, tmp_path, name, "pw2")
    token = ok("oneuser", "login", name, "--time", "600").out.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    as_user(monkeypatch, tmp_path, name, token)
    assert f"NAME                : {name}" in ok("oneuser", "show", str(uid)).out


def test_enable_disable(ok, run, account, monkeypatch, tmp_path):
    uid, name = account
    ok("oneuser", "disable", name)
    assert ok("oneuser", "list").row(str(uid))[2] == "no"
    as_user(monkeypatch, tmp_path, name, "pw1")
    refused = run("oneuser", "show", str(uid))
    assert refused.code == 1 and "couldn't be authenticated" in refused.err


def test_enable_again(ok, account):
    uid, name = account
    ok("oneuser", "disable", str(uid))
    ok("oneuser", "enable", str(uid))
    assert ok("oneuser", "list").row(str(uid))[2] == "yes"


def test_chgrp_update_delete(ok, run, account, unique, tmp_path):
    uid, name = account
    group = unique("grp")
    ok("onegroup", "create", group)
    ok("oneuser", "chgrp", name, group)
    assert ok("oneuser", "list").row(str(uid))[3] == group
    template = tmp_path / "u.tpl"
    template.write_text('SSH_PUBLIC_KEY = "ssh-ed25519 AAAA me@host"\n')
    ok("oneuser", "update", str(uid), str(template))
    assert 'SSH_PUBLIC_KEY="ssh-ed25519 AAAA me@host"' in ok("oneuser", "show", str(uid)).out
    ok("oneuser", "delete", str(uid))
    assert run("oneuser", "show", str(uid)).code == 1


def test_errors(run, account):
    _, name = account
    duplicate = run("oneuser", "create", name, "pw")
    assert duplicate.code == 1 and duplicate.err.startswith("[one.user.allocate]")
    assert run("oneuser", "chgrp", name, "no-group").code == 1
    assert run("oneuser", "login", "no-such-user").code == 1
    assert run("oneuser", "passwd", "987654", "x").code == 1
    assert run("oneuser", "login", name, "--time", "soon").code == 2
