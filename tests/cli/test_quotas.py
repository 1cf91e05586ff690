"""oneuser/onegroup quota, defaultquota and the usage tables of show, against a real oned."""
from __future__ import annotations

import io
import os
import sys

import pytest

from one.cli import onegroup, oneuser


@pytest.fixture
def account(ok, unique):
    name = unique("q")
    return ok("oneuser", "create", name, "pw").new_id, name


def _vm_as(monkeypatch, tmp_path, ok, name: str, template: str) -> None:
    """A VM of the user's own, created with its credentials."""
    admin = os.environ["ONE_AUTH"]
    auth = tmp_path / f"{name}.auth"
    auth.write_text(f"{name}:pw\n")
    monkeypatch.setenv("ONE_AUTH", str(auth))
    (tmp_path / "vm.tpl").write_text(template)
    ok("onevm", "create", str(tmp_path / "vm.tpl"))
    monkeypatch.setenv("ONE_AUTH", admin)


def test_quota_from_a_file_shows_in_the_usage_tables(ok, account, tmp_path, monkeypatch):
    uid, name = account
    quota = tmp_path / "quota"
    quota.write_text("VM = [ VMS = 10, MEMORY = 2048, CPU = 4 ]\n"
                     "DATASTORE = [ ID = 1, SIZE = 1000 ]\n")
    ok("oneuser", "quota", name, str(quota))
    _vm_as(monkeypatch, tmp_path, ok, name, "CPU = 1 MEMORY = 512")
    out = ok("oneuser", "show", name).out
    lines = out.splitlines()
    vms = lines.index("VMS USAGE & QUOTAS")
    assert lines[vms + 1].split() == ["VMS", "MEMORY", "CPU", "DISK", "SIZE"]
    assert lines[vms + 2].split() == ["1", "/", "10", "512M", "/", "2G", "1.00", "/", "4.00",
                                      "0M", "/", "-"]
    running = lines.index("VMS USAGE & QUOTAS - RUNNING")
    assert lines[running + 2].split() == ["1", "/", "-", "512M", "/", "-", "1.00", "/", "-"]
    datastores = lines.index("DATASTORE USAGE & QUOTAS")
    assert lines[datastores + 2].split() == ["1", "0", "/", "-", "0M", "/", "1000M"]


def test_quota_from_stdin_and_from_the_editor(ok, account, tmp_path, monkeypatch):
    uid, name = account
    monkeypatch.setattr(sys, "stdin", io.StringIO("VM = [ VMS = 7 ]"))
    ok("oneuser", "quota", name, "-")
    assert "0 / 7" in ok("oneuser", "show", name).out
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\ngrep -q "VMS=7" "$1" && sed -i "s/VMS=7/VMS=9/" "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    ok("oneuser", "quota", name)
    assert "0 / 9" in ok("oneuser", "show", name).out


def test_group_quota_and_default_quotas(ok, run, unique, tmp_path):
    group = unique("g")
    gid = ok("onegroup", "create", group).new_id
    quota = tmp_path / "quota"
    quota.write_text("NETWORK = [ ID = 5, LEASES = 3 ]")
    ok("onegroup", "quota", group, str(quota))
    out = ok("onegroup", "show", str(gid)).out
    lines = out.splitlines()
    nets = lines.index("NETWORK USAGE & QUOTAS")
    assert lines[nets + 2].split() == ["5", "0", "/", "3"]
    quota.write_text("DATASTORE = [ ID = 999, IMAGES = 4 ]")    # a datastore no test uses
    try:
        ok("oneuser", "defaultquota", str(quota))
        ok("onegroup", "defaultquota", str(quota))
        users = run("oneuser", "show", "0", "--xml").out
        assert "<DEFAULT_USER_QUOTAS><DATASTORE_QUOTA><DATASTORE><ID>999</ID><IMAGES>4" in users
    finally:
        quota.write_text("DATASTORE = [ ID = 999 ]")              # back to no default
        ok("oneuser", "defaultquota", str(quota))
        ok("onegroup", "defaultquota", str(quota))
    assert "<ID>999</ID>" not in run("oneuser", "show", "0", "--xml").out


@pytest.mark.parametrize("text, words", [
    ("VM = [ VMS = -4 ]", "Negative limits or bad format in quota VM"),
    ("VM = [ VMS = ten ]", "Negative limits or bad format in quota VM"),
    ("VM = [ VMS = 1, DISKS = 2 ]", "Unknown attribute DISKS in quota VM"),
    ("LEASES = 3", "Unknown quota LEASES"),
])
def test_bad_quota_files_fail_with_a_message(run, account, tmp_path, text, words):
    _, name = account
    quota = tmp_path / "quota"
    quota.write_text(text)
    result = run("oneuser", "quota", name, str(quota))
    assert result.code == 1 and words in result.err and "Traceback" not in result.err
    assert "VMS USAGE" in run("oneuser", "show", name).out


def test_quota_without_file_or_editor_and_with_a_missing_file(run, account, tmp_path,
                                                              monkeypatch):
    _, name = account
    monkeypatch.delenv("EDITOR", raising=False)
    result = run("oneuser", "quota", name)
    assert result.code == 1 and "EDITOR is not set" in result.err
    result = run("onegroup", "defaultquota", str(tmp_path / "absent"))
    assert result.code == 1 and "Cannot read quota file" in result.err


def test_the_tools_declare_the_quota_verbs():
    for tool in (oneuser.TOOL, onegroup.TOOL):
        names = {command.name for command in tool.commands}
        assert {"quota", "defaultquota"} <= names
