"""onevnet against a real oned: networks, address ranges, leases."""
from __future__ import annotations

import json

import pytest

VNET_COLUMNS = ["ID", "USER", "GROUP", "NAME", "CLUSTERS", "BRIDGE", "STATE", "LEASES"]


@pytest.fixture
def vnet(ok, unique, tmp_path):
    """A bridged network with one IPv4 range of 10 at 10.20.0.1: (id, name)."""
    name = unique("net")
    template = tmp_path / "net.tpl"
    template.write_text(f'NAME = "{name}"\nVN_MAD = bridge\nBRIDGE = brx\n'
                        "AR = [ TYPE = IP4, IP = 10.20.0.1, SIZE = 10 ]\n")
    return ok("onevnet", "create", str(template)).new_id, name


def section(out: str, title: str) -> list[list[str]]:
    """Rows of the table under `title` (header excluded), up to the blank line."""
    lines = out.splitlines()
    start = lines.index(title) + 2
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return [line.split() for line in lines[start:end]]


def test_list_columns_and_row(ok, vnet):
    nid, name = vnet
    result = ok("onevnet", "list")
    assert result.header == VNET_COLUMNS
    assert result.row(str(nid)) == [str(nid), "oneadmin", "oneadmin", name, "0", "brx", "rdy", "0"]
    data = json.loads(ok("onevnet", "list", "--json").out)
    assert name in {v["NAME"] for v in data["VNET_POOL"]["VNET"]}
    assert str(nid) in ok("onevnet", "list", "mine").out


def test_show_ranges_and_leases(ok, vnet):
    nid, name = vnet
    ok("onevnet", "hold", name, "10.20.0.5")
    out = ok("onevnet", "show", str(nid)).out
    for title in (f"VIRTUAL NETWORK {nid} INFORMATION", "PERMISSIONS", "VIRTUAL NETWORK TEMPLATE",
                  "ADDRESS RANGE POOL", "LEASES"):
        assert title in out.splitlines()
    assert section(out, "ADDRESS RANGE POOL") == [
        ["0", "IP4", "10", "1", "02:00:0a:14:00:01", "10.20.0.1", "10.20.0.10"]]
    assert section(out, "LEASES") == [["0", "V:-1", "02:00:0a:14:00:05", "10.20.0.5"]]
    ok("onevnet", "release", str(nid), "10.20.0.5")
    assert section(ok("onevnet", "show", str(nid)).out, "LEASES") == []


def test_addar_from_flags_and_file_then_rmar(ok, run, vnet, tmp_path):
    nid, _ = vnet
    ok("onevnet", "addar", str(nid), "--ip", "10.30.0.1", "--size", "5")
    ok("onevnet", "addar", str(nid), "--mac", "02:00:00:00:01:01", "--size", "3")
    ar_file = tmp_path / "ar.tpl"
    ar_file.write_text("AR = [ TYPE = IP4, IP = 10.40.0.1, SIZE = 2 ]\n")
    ok("onevnet", "addar", str(nid), "--file", str(ar_file))
    ranges = section(ok("onevnet", "show", str(nid)).out, "ADDRESS RANGE POOL")
    assert [r[:3] for r in ranges] == [["0", "IP4", "10"], ["1", "IP4", "5"], ["2", "ETHER", "3"],
                                       ["3", "IP4", "2"]]
    assert ranges[2][4] == "02:00:00:00:01:01"
    ok("onevnet", "rmar", str(nid), "2")
    ranges = section(ok("onevnet", "show", str(nid)).out, "ADDRESS RANGE POOL")
    assert [r[0] for r in ranges] == ["0", "1", "3"]
    missing = run("onevnet", "rmar", str(nid), "9")
    assert missing.code == 1 and missing.err.startswith("[one.vn.rm_ar]")
    assert run("onevnet", "addar", str(nid), "--ip", "10.50.0.1").code == 2
    assert run("onevnet", "rmar", str(nid), "x").code == 2


def test_reserve_creates_a_network_holding_the_leases(ok, run, vnet, unique):
    nid, _ = vnet
    name = unique("res")
    result = ok("onevnet", "reserve", str(nid), "--name", name, "--size", "2")
    rid = int(result.out.split(":")[1])
    assert ok("onevnet", "list").row(str(rid))[3] == name
    owners = {row[1] for row in section(ok("onevnet", "show", str(nid)).out, "LEASES")}
    assert owners == {f"N:{rid}"}
    assert run("onevnet", "reserve", str(nid), "--size", "2").code == 2


def test_hold_errors(run, vnet):
    nid, _ = vnet
    result = run("onevnet", "hold", str(nid), "192.168.99.99")
    assert result.code == 1 and result.err.startswith("[one.vn.hold]")


def test_ownership_and_edits(ok, vnet, tmp_path):
    nid, name = vnet
    ok("onevnet", "chmod", str(nid), "604")
    out = ok("onevnet", "show", str(nid)).out
    assert "GROUP               : ---" in out and "OTHER               : u--" in out
    ok("onevnet", "chgrp", str(nid), "users")
    ok("onevnet", "chown", str(nid), "oneadmin")
    assert ok("onevnet", "list").row(str(nid))[1:3] == ["oneadmin", "users"]
    template = tmp_path / "upd.tpl"
    template.write_text("GATEWAY = 10.20.0.254\n")
    ok("onevnet", "update", str(nid), str(template), "--append")
    assert 'GATEWAY="10.20.0.254"' in ok("onevnet", "show", str(nid)).out
    ok("onevnet", "rename", str(nid), f"{name}-b")
    assert ok("onevnet", "list").row(str(nid))[3] == f"{name}-b"


def test_delete_and_create_errors(ok, run, vnet, tmp_path):
    nid, _ = vnet
    ok("onevnet", "delete", str(nid))
    assert run("onevnet", "show", str(nid)).code == 1
    missing = run("onevnet", "create", str(tmp_path / "none.tpl"))
    assert missing.code == 1 and "Cannot read file" in missing.err
    bad = run("onevnet", "create", "--template-text", 'NAME="x" AR=[TYPE=IP4,')
    assert bad.code == 1 and bad.err.startswith("[one.vn.allocate]")
