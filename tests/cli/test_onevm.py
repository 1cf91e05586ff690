"""onevm against a real oned: listing, show, life-cycle verbs and edits."""
from __future__ import annotations

import json

import pytest
from lxml import etree

VM = "CPU = 1 MEMORY = 64"  # what every VM must ask for
VM_COLUMNS = ["ID", "USER", "GROUP", "NAME", "STAT", "CPU", "MEM", "HOST", "TIME"]


@pytest.fixture
def vm(ok, unique):
    """A pending VM: (id, name)."""
    name = unique("vm")
    return ok("onevm", "create", "--template-text", f"NAME={name} CPU=0.5 MEMORY=1536").new_id, name


@pytest.fixture
def user(ok, unique, tmp_path):
    """A second user: (id, name, auth file)."""
    name = unique("user")
    uid = ok("oneuser", "create", name, "pw").new_id
    auth = tmp_path / f"{name}_auth"
    auth.write_text(f"{name}:pw\n")
    return uid, name, auth


def stat(ok, vid: int) -> str:
    return ok("onevm", "list").row(str(vid))[4]


def show(ok, vid: int | str) -> str:
    return ok("onevm", "show", str(vid)).out


def test_list_has_opennebula_columns_and_values(ok, vm):
    vid, name = vm
    result = ok("onevm", "list")
    assert result.header == VM_COLUMNS
    cells = result.row(str(vid))
    assert cells[1:7] == ["oneadmin", "oneadmin", name, "pend", "0.5", "1.5G"]
    assert cells[-2:] == ["0d", "00h00"]


def test_memory_in_megabytes(ok, unique):
    vid = ok("onevm", "create", "--template-text", f"NAME={unique('m')} CPU=1 MEMORY=128").new_id
    assert ok("onevm", "list").row(str(vid))[6] == "128M"


def test_list_json_and_xml(ok, vm):
    vid, name = vm
    data = json.loads(ok("onevm", "list", "--json").out)
    names = {item["ID"]: item["NAME"] for item in data["VM_POOL"]["VM"]}
    assert names[str(vid)] == name
    root = etree.fromstring(ok("onevm", "list", "--xml").out.encode())
    assert root.tag == "VM_POOL" and root.find(f"VM[ID='{vid}']") is not None


def test_list_filters(ok, vm):
    vid, _ = vm
    for word in ("a", "all", "m", "mine", "g", "group", "0", "oneadmin"):
        assert str(vid) in [line.split()[0] for line in ok("onevm", "list", word).lines()[1:]]


def test_list_by_user_name_and_id(ok, auth_file, user, monkeypatch):
    uid, uname, auth = user
    monkeypatch.setenv("ONE_AUTH", str(auth))
    theirs = ok("onevm", "create", "--template-text", "CPU = 1 MEMORY = 64 NAME=theirs").new_id
    mine = ok("onevm", "list", "m")
    assert [line.split()[0] for line in mine.lines()[1:]] == [str(theirs)]
    monkeypatch.setenv("ONE_AUTH", str(auth_file))
    for word in (uname, str(uid)):
        ids = [line.split()[0] for line in ok("onevm", "list", word).lines()[1:]]
        assert ids == [str(theirs)]


def test_list_unknown_user_name(run):
    result = run("onevm", "list", "nosuchuser")
    assert result.code == 1 and "USER named nosuchuser not found." in result.err


def test_show_sections_and_nics(ok, unique):
    net = unique("net")
    ok("onevnet", "create", "--template-text",
       f"NAME={net} VN_MAD=bridge BRIDGE=br9 AR=[TYPE=IP4, IP=10.9.0.1, SIZE=4]")
    vid = ok("onevm", "create", "--template-text",
             f"NAME={unique('nic')} CPU=1 MEMORY=64 NIC=[NETWORK={net}] COLOR=blue").new_id
    out = show(ok, vid)
    for title in (f"VIRTUAL MACHINE {vid} INFORMATION", "PERMISSIONS", "VIRTUAL MACHINE MONITORING",
                  "VM NICS", "VIRTUAL MACHINE TEMPLATE", "USER TEMPLATE",
                  "VIRTUAL MACHINE HISTORY"):
        assert title in out.splitlines()
    nic = next(line.split() for line in out.splitlines() if "10.9.0.1" in line and "br9" in line)
    assert nic == ["0", net, "br9", "10.9.0.1", "02:00:0a:09:00:01"]
    assert 'COLOR="blue"' in out and "STATE               : PENDING" in out


def test_show_json_and_xml(ok, vm):
    vid, name = vm
    data = json.loads(ok("onevm", "show", str(vid), "--json").out)
    assert data["VM"]["NAME"] == name and data["VM"]["TEMPLATE"]["MEMORY"] == "1536"
    assert etree.fromstring(ok("onevm", "show", str(vid), "-x").out.encode()).tag == "VM"


def test_show_by_name_and_unknown(ok, run, vm):
    vid, name = vm
    assert f"VIRTUAL MACHINE {vid} INFORMATION" in show(ok, name)
    result = run("onevm", "show", "987654")
    assert result.code == 1
    assert result.err.strip() == "[one.vm.info] Error getting virtual machine [987654]."
    missing = run("onevm", "show", "no-such-vm")
    assert missing.code == 1 and "VM named no-such-vm not found." in missing.err


def test_duplicate_names_are_ambiguous(ok, run, unique):
    name = unique("twin")
    for _ in range(2):
        ok("onevm", "create", "--template-text", f"CPU = 1 MEMORY = 64 NAME={name}")
    result = run("onevm", "terminate", name)
    assert result.code == 1 and f"multiple VMs with name {name}" in result.err


def test_create_hold_release_hold(ok, unique, tmp_path):
    template = tmp_path / "vm.tpl"
    template.write_text(f'NAME = "{unique("held")}"\nCPU = 1\nMEMORY = 64\n')
    vid = ok("onevm", "create", str(template), "--hold").new_id
    assert stat(ok, vid) == "hold"
    ok("onevm", "release", str(vid))
    assert stat(ok, vid) == "pend"
    ok("onevm", "hold", str(vid))
    assert stat(ok, vid) == "hold"


def test_create_errors(run, tmp_path):
    missing = run("onevm", "create", str(tmp_path / "absent.tpl"))
    assert missing.code == 1 and "Cannot read file" in missing.err and "absent.tpl" in missing.err
    bad = run("onevm", "create", "--template-text", "NAME=[")
    assert bad.code == 1 and "Parse error" in bad.err and bad.err.startswith("[one.vm.allocate]")
    assert run("onevm", "create").code == 2
    wrong = run("onevm", "create", "--template-text", "MEMORY = 64 CPU=lots")
    assert wrong.code == 1 and "CPU attribute must be a positive" in wrong.err


def test_terminate_many_with_range_and_names(ok, unique):
    ids = [ok("onevm", "create", "--template-text", f"{VM} NAME={unique('t')}").new_id
           for _ in range(3)]
    named = unique("named")
    last = ok("onevm", "create", "--template-text", f"CPU = 1 MEMORY = 64 NAME={named}").new_id
    ok("onevm", "terminate", f"{ids[0]}..{ids[1]}", str(ids[2]), named, "--hard")
    listed = [line.split()[0] for line in ok("onevm", "list").lines()[1:]]
    assert not set(map(str, ids + [last])) & set(listed)
    assert "STATE               : DONE" in show(ok, last)


def test_partial_failure_reports_each_error_and_goes_on(run, ok, vm):
    vid, _ = vm
    result = run("onevm", "terminate", "987651,987652", str(vid))
    assert result.code == 1
    assert result.err.count("Error getting virtual machine") == 2
    assert "STATE               : DONE" in show(ok, vid)


def test_bad_range_is_usage_error(run):
    result = run("onevm", "terminate", "5..2")
    assert result.code == 2 and "Wrong range '5..2'" in result.err


def test_delete_and_recover(ok, run, unique):
    first = ok("onevm", "create", "--template-text", f"{VM} NAME={unique('d')}").new_id
    ok("onevm", "delete", str(first))
    assert "STATE               : DONE" in show(ok, first)
    held = ok("onevm", "create", "--template-text", f"{VM} NAME={unique('r')}", "--hold").new_id
    ok("onevm", "recover", "--recreate", str(held))
    assert stat(ok, held) == "pend"
    refused = run("onevm", "recover", "--success", str(held))
    assert refused.code == 1 and "Wrong state to recover" in refused.err
    assert run("onevm", "recover", str(held)).code == 2
    assert run("onevm", "recover", "--success", "--retry", str(held)).code == 2
    ok("onevm", "recover", "--delete", str(held))
    assert "STATE               : DONE" in show(ok, held)


@pytest.mark.parametrize("verb", [
    ["poweroff"], ["poweroff", "--hard"], ["reboot"], ["reboot", "--hard"], ["suspend"],
    ["resume"], ["stop"], ["undeploy"], ["undeploy", "--hard"], ["resched"], ["unresched"],
])
def test_driver_actions_show_the_server_answer_cleanly(run, vm, verb):
    vid, _ = vm
    result = run("onevm", *verb, str(vid))
    assert result.code == 1 and result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[one.vm.action]")
    assert "Traceback" not in result.err


def test_rename_and_update(ok, vm, tmp_path):
    vid, name = vm
    ok("onevm", "rename", name, f"{name}-renamed")
    template = tmp_path / "user.tpl"
    template.write_text('LABEL = "web servers"\nOWNER_TEAM = ops\n')
    ok("onevm", "update", str(vid), str(template))
    out = show(ok, f"{name}-renamed")
    assert 'LABEL="web servers"' in out and 'OWNER_TEAM="ops"' in out
    template.write_text("EXTRA = 1\n")
    ok("onevm", "update", str(vid), str(template), "--append")
    out = show(ok, vid)
    assert 'EXTRA="1"' in out and 'LABEL="web servers"' in out
    ok("onevm", "update", str(vid), str(template))
    assert "LABEL=" not in show(ok, vid)


def test_update_errors(run, vm, tmp_path):
    vid, _ = vm
    missing = run("onevm", "update", str(vid), str(tmp_path / "none"))
    assert missing.code == 1 and "Cannot read file" in missing.err
    bad = tmp_path / "bad.tpl"
    bad.write_text("A = [\n")
    result = run("onevm", "update", str(vid), str(bad))
    assert result.code == 1 and "[one.vm.update]" in result.err


def test_chown_chgrp_chmod(ok, run, vm, user):
    vid, _ = vm
    uid, uname, _ = user
    ok("onevm", "chmod", str(vid), "640")
    out = show(ok, vid)
    assert "OWNER               : um-" in out and "GROUP               : u--" in out
    assert "OTHER               : ---" in out
    ok("onevm", "chgrp", str(vid), "users")
    assert ok("onevm", "list").row(str(vid))[2] == "users"
    ok("onevm", "chown", str(vid), uname, "oneadmin")
    assert ok("onevm", "list").row(str(vid))[1:3] == [uname, "oneadmin"]
    bad = run("onevm", "chmod", str(vid), "64x")
    assert bad.code == 2 and "three octal digits like 640, not '64x'" in bad.err
    nobody = run("onevm", "chown", str(vid), "nobody-here")
    assert nobody.code == 1 and "USER named nobody-here not found." in nobody.err


def test_verbose_says_what_was_done(ok, vm):
    vid, _ = vm
    assert f"VM {vid}: hold" in ok("onevm", "hold", "-v", str(vid)).out


def test_long_name_is_cut_in_the_list_and_whole_in_show(ok, unique):
    """A long name ends in … inside its column; every other column stays where it was."""
    short = ok("onevm", "create", "--template-text", f"NAME={unique('vm')} CPU=1 MEMORY=1")
    name = unique("v") + "x" * 97  # well inside the name length oned accepts
    vid = ok("onevm", "create", "--template-text", f"NAME={name} CPU=1 MEMORY=1").new_id
    lines = ok("onevm", "list").lines()
    row = next(line for line in lines if line.split()[0] == str(vid))
    other = next(line for line in lines if line.split()[0] == str(short.new_id))
    assert row.split()[3] == name[:14] + "…"
    assert len(row.rstrip()) == len(other.rstrip()) and row.index("1M") == other.index("1M")
    assert lines[0].index("STAT") == row.index(row.split()[4])
    assert ok("onevm", "show", str(vid)).field("NAME") == name


def test_lock_and_unlock(ok, run, vm):
    vid, name = vm
    ok("onevm", "lock", name, "--manage")
    shown = json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]
    assert shown["LOCK"]["LOCKED"] == "2"
    refused = run("onevm", "hold", str(vid))
    assert refused.code != 0 and f"VM [{vid}] is locked (MANAGE)" in refused.err
    assert "Traceback" not in refused.err and stat(ok, vid) == "pend"
    ok("onevm", "lock", str(vid))  # --use by default
    assert run("onevm", "chmod", str(vid), "600").code != 0
    ok("onevm", "unlock", str(vid))
    assert "LOCK" not in json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]
    ok("onevm", "hold", str(vid))
    assert stat(ok, vid) == "hold"


def test_resize(ok, run, vm):
    vid, name = vm
    ok("onevm", "resize", name, "--cpu", "2", "--memory", "1g")
    shown = json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]["TEMPLATE"]
    assert (shown["CPU"], shown["MEMORY"]) == ("2", "1024")
    ok("onevm", "resize", str(vid), "--vcpu", "3", "--enforce")
    assert json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]["TEMPLATE"]["VCPU"] == "3"
    nothing = run("onevm", "resize", str(vid))
    assert nothing.code != 0 and "give --cpu, --vcpu or --memory" in nothing.err
    bad = run("onevm", "resize", str(vid), "--cpu", "0")
    assert bad.code != 0 and "Traceback" not in bad.err


def test_scheduled_actions(ok, run, vm):
    vid, name = vm

    def actions() -> list[dict]:
        found = json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]["TEMPLATE"]
        listed = found.get("SCHED_ACTION", [])
        return listed if isinstance(listed, list) else [listed]

    added = ok("onevm", "sched-add", name, "poweroff", "--time", "2030-01-07 10:00",
               "--weekly", "1,3", "--end", "4")
    assert added.out.strip() == "Scheduled action ID: 0"
    (action,) = actions()
    assert (action["ACTION"], action["REPEAT"], action["DAYS"], action["END_TYPE"],
            action["END_VALUE"]) == ("poweroff", "0", "1,3", "1", "4")
    ok("onevm", "sched-add", str(vid), "terminate", "--time", "+3600")
    ok("onevm", "sched-update", str(vid), "0", "--action", "suspend")
    assert [a["ACTION"] for a in actions()] == ["suspend", "terminate"]
    ok("onevm", "sched-delete", str(vid), "0")
    assert [a["ID"] for a in actions()] == ["1"]
    for argv, words in ((("sched-add", str(vid), "explode", "--time", "+1"), "is not a VM action"),
                        (("sched-add", str(vid), "hold", "--time", "tomorrow"), "expected a date"),
                        (("sched-update", str(vid), "1"), "give --action"),
                        (("sched-delete", str(vid), "7"), "no scheduled action 7")):
        refused = run("onevm", *argv)
        assert refused.code != 0 and words in refused.err and "Traceback" not in refused.err
