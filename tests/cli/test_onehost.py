"""onehost against a real oned."""
from __future__ import annotations

import json

import pytest

from one.pool.models import Host  # bound to the in-process server's database

HOST_COLUMNS = ["ID", "NAME", "CLUSTER", "TVM", "ALLOCATED_CPU", "ALLOCATED_MEM", "STAT"]


@pytest.fixture
def host(ok, unique):
    name = unique("host")
    return ok("onehost", "create", name, "--im", "dummy", "--vm", "dummy").new_id, name


def test_list_columns_and_row(ok, host):
    hid, name = host
    result = ok("onehost", "list")
    assert result.header == HOST_COLUMNS
    assert result.row(str(hid)) == [str(hid), name, "default", "0", "-", "-", "init"]


def test_create_defaults_to_kvm_and_takes_drivers_and_cluster(ok, run, unique):
    # kvm is asked for by default; a server without the kvm drivers refuses it by name.
    default = run("onehost", "create", unique("h"))
    if default.code:
        assert "Unknown IM driver 'kvm'" in default.err
    else:
        shown = ok("onehost", "show", str(default.new_id))
        assert (shown.field("IM_MAD"), shown.field("VM_MAD")) == ("kvm", "kvm")
    other = ok("onehost", "create", unique("h"), "--im", "dummy", "--vm", "dummy",
               "--cluster", "default").new_id
    out = ok("onehost", "show", str(other)).out
    assert "IM_MAD              : dummy" in out and "CLUSTER             : default" in out
    for title in (f"HOST {other} INFORMATION", "HOST SHARES", "MONITORING INFORMATION",
                  "VIRTUAL MACHINES"):
        assert title in out.splitlines()


def test_create_takes_opennebulas_short_options(ok, unique):
    hid = ok("onehost", "create", unique("h"), "-i", "dummy", "-v", "dummy").new_id
    shown = ok("onehost", "show", str(hid))
    assert (shown.field("IM_MAD"), shown.field("VM_MAD")) == ("dummy", "dummy")
    # -v stays --verbose where the command has no -v of its own
    assert ok("onehost", "disable", "-v", str(hid)).out == f"HOST {hid}: disable\n"


def test_status_changes(ok, host):
    hid, name = host
    ok("onehost", "disable", name)
    assert ok("onehost", "list").row(str(hid))[-1] == "dsbl"  # OpenNebula's short word
    assert "STATE               : DISABLED" in ok("onehost", "show", str(hid)).out
    ok("onehost", "offline", str(hid))
    assert ok("onehost", "list").row(str(hid))[-1] == "off"
    assert "STATE               : OFFLINE" in ok("onehost", "show", str(hid)).out
    ok("onehost", "enable", str(hid))
    assert ok("onehost", "list").row(str(hid))[-1] == "init"


def test_update_rename_delete(ok, run, host, tmp_path):
    hid, name = host
    template = tmp_path / "host.tpl"
    template.write_text("RACK = 12\n")
    ok("onehost", "update", str(hid), str(template))
    assert 'RACK="12"' in ok("onehost", "show", str(hid)).out
    ok("onehost", "rename", str(hid), f"{name}-new")
    assert ok("onehost", "list").row(str(hid))[1] == f"{name}-new"
    ok("onehost", "delete", f"{name}-new")
    gone = run("onehost", "show", str(hid))
    assert gone.code == 1 and gone.err.startswith("[one.host.info]")


def test_json_lists_hosts(ok, host):
    hid, name = host
    data = json.loads(ok("onehost", "list", "--json").out)
    assert {"ID": str(hid), "NAME": name}.items() <= next(
        h for h in data["HOST_POOL"]["HOST"] if h["ID"] == str(hid)).items()
    assert json.loads(ok("onehost", "show", str(hid), "-j").out)["HOST"]["IM_MAD"] == "dummy"


def test_errors(run, host):
    _, name = host
    duplicate = run("onehost", "create", name, "--im", "dummy", "--vm", "dummy")
    assert duplicate.code == 1 and duplicate.err.startswith("[one.host.allocate]")
    cluster = run("onehost", "create", "x-host", "--cluster", "no-cluster")
    assert cluster.code == 1 and "CLUSTER named no-cluster not found." in cluster.err
    assert run("onehost", "delete", "987654").code == 1
    assert run("onehost", "enable").code == 2


def test_monitored_host_shows_real_shares(ok, running, reach):
    vid, hid, name = running
    assert ok("onehost", "list").row(str(hid)) == [
        str(hid), name, "default", "1", "50", "/", "800", "(6%)", "256M", "/", "16G", "(1%)", "on"]
    shown = ok("onehost", "show", name)
    expected = {"STATE": "MONITORED", "RUNNING VMS": "1", "TOTAL MEM": "16G",
                "USED MEM (REAL)": "0K", "ALLOCATED MEM": "256M / 16G (1%)", "TOTAL CPU": "800",
                "USED CPU (REAL)": "0", "ALLOCATED CPU": "50 / 800 (6%)", "IDS": str(vid)}
    assert {label: shown.field(label) for label in expected} == expected
    assert shown.field("LAST MONITORING TIME") != "-" and 'HYPERVISOR="dummy"' in shown.lines()
    ok("onevm", "terminate", str(vid))
    reach(vid, "done")
    freed = ok("onehost", "list").row(str(hid))
    assert freed[3:] == ["0", "0", "/", "800", "(0%)", "0K", "/", "16G", "(0%)", "on"]
    assert ok("onehost", "show", str(hid)).field("IDS") == "-"


def test_sync_repairs_and_says_what(ok, host):
    hid, name = host
    Host.update(vms=[4242]).where(Host.oid == hid).execute()  # a phantom VM behind oned's back
    assert f"host {hid} ({name}): VMS [], removed [4242]" in ok("onehost", "sync").lines()
    assert not any(line.startswith(f"host {hid} ") for line in ok("onehost", "sync").lines())
    ok("onehost", "delete", str(hid))
