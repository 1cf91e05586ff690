"""onevm against a live oned (engine, monitor and scheduler running, dummy drivers).

Placement, every life-cycle verb, failures and their recovery, top and log:
what needs the VM to really move, so each test polls until it has.
"""
from __future__ import annotations

import re

import pytest
from lxml import etree

# (verb, the STAT it leads to); stop and undeploy come back through the scheduler.
ROUND_TRIP = (
    (["poweroff"], "poff"), (["resume"], "runn"), (["poweroff", "--hard"], "poff"),
    (["resume"], "runn"), (["reboot"], "runn"), (["reboot", "--hard"], "runn"),
    (["suspend"], "susp"), (["resume"], "runn"), (["stop"], "stop"), (["resume"], "runn"),
    (["undeploy"], "unde"), (["resume"], "runn"), (["undeploy", "--hard"], "unde"),
    (["resume"], "runn"),
)


def history(ok, vid: int) -> list[list[str]]:
    """The VIRTUAL MACHINE HISTORY rows, split into cells."""
    lines = ok("onevm", "show", str(vid)).lines()
    return [line.split() for line in lines[lines.index("VIRTUAL MACHINE HISTORY") + 2:]]


def drawings(lines: list[str], first: str) -> list[list[str]]:
    """The table rows (or headers, with "ID") whose first cell is `first`, split."""
    return [line.split() for line in lines if line.split()[:1] == [first]]


@pytest.fixture
def show_when(ok, eventually):
    """`show_when(vid, label)`: `onevm show` once it has a `label : value` line."""
    def wait(vid: int, label: str, value: str | None = None):
        def check():
            shown = ok("onevm", "show", str(vid))
            found = shown.field(label)
            return shown if found is not None and value in (None, found) else None
        return eventually(check, f"{label} in onevm show {vid}")
    return wait


def test_deploy_by_host_name_then_monitoring(ok, running, show_when):
    vid, _, host = running
    assert ok("onevm", "list").row(str(vid))[4:8] == ["runn", "0.5", "256M", host]
    shown = show_when(vid, "MEMORY", "256M")
    assert shown.field("CPU") == "1.0" and shown.field("DEPLOY ID") == f"one-{vid}"
    assert shown.field("HOST") == host and shown.field("LCM_STATE") == "RUNNING"
    assert shown.field("NETRX").endswith("K") and shown.field("NETTX").endswith("K")
    assert shown.field("ERROR") is None and shown.field("SCHED_MESSAGE") is None
    (record,) = history(ok, vid)
    assert record[:3] == ["0", host, "deploy"] and re.fullmatch(r"0h00m\d\ds", record[-1])


def test_migrate_live_then_cold(ok, run, new_host, reach, vm_text, eventually):
    (first, a), (second, b) = new_host(), new_host()
    vid = ok("onevm", "create", "--hold", "--template-text", vm_text(first, second)).new_id
    ok("onevm", "deploy", str(vid), str(first))
    reach(vid, "runn")
    ok("onevm", "migrate", str(vid), b, "--live")
    eventually(lambda: ok("onevm", "list").row(str(vid))[4:8:3] == ["runn", b], "live migration")
    assert ok("onehost", "list").row(str(second))[3] == "1"
    assert ok("onehost", "list").row(str(first))[3:5] == ["0", "0"]
    ok("onevm", "migrate", str(vid), a)
    eventually(lambda: ok("onevm", "list").row(str(vid))[4:8:3] == ["runn", a], "cold migration")
    assert [r[:3] for r in history(ok, vid)] == [
        ["0", a, "live-migrate"], ["1", b, "migrate"], ["2", a, "none"]]
    same = run("onevm", "migrate", str(vid), a)
    assert same.code == 1
    assert same.err.strip() == f"[one.vm.migrate] VM [{vid}] is already on host [{first}]."
    ok("onevm", "terminate", "--hard", str(vid))
    reach(vid, "done")


def test_every_action_round_trip(ok, running, reach, show_when):
    vid, _, host = running
    for verb, stat in ROUND_TRIP:
        ok("onevm", *verb, str(vid))
        reach(vid, stat)
    actions = [record[2] for record in history(ok, vid)]
    assert actions == ["stop", "undeploy", "undeploy-hard", "deploy"]
    ok("onevm", "resched", str(vid))  # no other host suits it: the flag stays, with a reason
    assert show_when(vid, "SCHED_MESSAGE").field("RESCHED") == "Yes"
    ok("onevm", "unresched", str(vid))
    assert ok("onevm", "show", str(vid)).field("RESCHED") == "No"
    ok("onevm", "terminate", str(vid))
    reach(vid, "done")
    assert history(ok, vid)[-1][:3] == ["3", host, "terminate"]


def test_failures_show_error_and_recover(ok, new_host, reach, vm_text, tmp_path):
    hid, host = new_host()
    vid = ok("onevm", "create", "--hold", "--template-text",
             vm_text(hid, extra="DUMMY_FAIL=execute")).new_id
    ok("onevm", "deploy", str(vid), host)
    reach(vid, "fail")
    error = ok("onevm", "show", str(vid)).field("ERROR")
    assert error.endswith("prolog failed: dummy: injected failure of execute")
    knob = tmp_path / "knob.tpl"
    knob.write_text('DUMMY_FAIL = ""\n')
    ok("onevm", "update", str(vid), str(knob), "--append")
    ok("onevm", "recover", "--retry", str(vid))
    reach(vid, "runn")
    broken = ok("onevm", "create", "--hold", "--template-text",
                vm_text(hid, extra="DUMMY_FAIL=deploy")).new_id
    ok("onevm", "deploy", str(broken), str(hid))
    reach(broken, "fail")
    ok("onevm", "recover", "--success", str(broken))
    reach(broken, "runn")
    ok("onevm", "recover", "--delete", str(broken))
    reach(broken, "done")


def test_recover_failure_recreate_and_delete_db(ok, new_host, reach, vm_text, tmp_path,
                                                show_when):
    hid, host = new_host()
    vid = ok("onevm", "create", "--hold", "--template-text",
             vm_text(-5, extra="DUMMY_DELAY=1")).new_id  # no host suits it: never scheduled
    ok("onevm", "deploy", str(vid), host)
    ok("onevm", "recover", "--failure", str(vid))
    reach(vid, "fail")
    assert "recovered by the administrator" in ok("onevm", "show", str(vid)).field("ERROR")
    knob = tmp_path / "knob.tpl"
    knob.write_text("DUMMY_DELAY = 0\n")
    ok("onevm", "update", str(vid), str(knob), "--append")
    ok("onevm", "recover", "--recreate", str(vid))
    reach(vid, "pend")
    assert "SCHED_REQUIREMENTS" in show_when(vid, "SCHED_MESSAGE").field("SCHED_MESSAGE")
    ok("onevm", "recover", "--delete-db", str(vid))
    reach(vid, "done")


def test_deploy_and_migrate_refusals(ok, run, running, vm_text):
    vid, hid, host = running
    held = ok("onevm", "create", "--hold", "--template-text", vm_text(hid)).new_id
    unknown = run("onevm", "deploy", str(held), "no-such-host")
    assert unknown.code == 1 and unknown.err.strip() == "HOST named no-such-host not found."
    missing = run("onevm", "deploy", str(held), "987654")
    assert missing.code == 1 and missing.err.startswith("[one.vm.deploy]")
    again = run("onevm", "deploy", str(vid), host)
    assert again.code == 1 and "Wrong state to deploy" in again.err
    queued = run("onevm", "migrate", str(held), host, "--live")
    assert queued.code == 1 and "Wrong state to migrate" in queued.err
    assert run("onevm", "deploy", str(held)).code == 2
    assert ok("onevm", "list").row(str(held))[4] == "hold"


def test_top_refreshes_the_list(ok, running):
    vid, hid, host = running
    out = ok("onevm", "top", "--count", "2", "--delay", "0").lines()
    assert len(drawings(out, "ID")) == 2 and "" in out
    rows = drawings(out, str(vid))
    assert len(rows) == 2 and rows[0][4:7] == ["runn", "0.5", "256M"]
    assert rows[0][7] in (host, host[:9] + "…")  # cut to the column once the suite made 100 names
    hosts = drawings(ok("onehost", "top", "-n", "2", "-d", "0").lines(), str(hid))
    assert len(hosts) == 2 and hosts[0][3:] == ["1", "50", "/", "800", "(6%)", "256M", "/",
                                                 "16G", "(1%)", "on"]
    assert len(drawings(ok("onevm", "top", "-d", "0").lines(), "ID")) == 1  # a pipe: once


@pytest.mark.parametrize(("args", "message"), [
    (["--delay", "x"], "argument -d/--delay: expected a number of seconds, not 'x'"),
    (["--delay", "-1"], "argument -d/--delay: expected a number of seconds, not '-1'"),
    (["--delay", "nan"], "expected a number of seconds, not 'nan'"),
    (["--count", "0"], "argument -n/--count: expected a whole number above 0, not '0'"),
])
def test_top_bad_options_are_usage_errors(run, args, message):
    for tool in ("onevm", "onehost"):
        result = run(tool, "top", *args)
        assert result.code == 2 and message in result.err and result.out == ""


def test_log_prints_the_vm_log(ok, run, running, live):
    vid, _, _ = running
    name = ok("onevm", "list").row(str(vid))[3]
    for token in (str(vid), name):
        text = ok("onevm", "log", token).out
        assert "[LCM][I]: New state is RUNNING" in text and f"VM {vid} runs as one-{vid}" in text
    missing = run("onevm", "log", "987654")
    path = live.var / "vms" / "987654" / "vm.log"
    assert missing.code == 1 and missing.err.strip() == (
        f"Cannot read file {path}: No such file or directory")


def test_disk_saveas_names_the_new_image(ok, run, new_host, reach, vm_text, unique):
    """OpenNebula's `onevm disk-saveas VMID DISKID NAME`: the image waits LOCKED for the epilog."""
    hid, _ = new_host()
    base = ok("oneimage", "create", "--name", unique("base"), "--type", "datablock",
              "--size", "1").new_id
    vid = ok("onevm", "create", "--template-text",
             vm_text(hid, extra=f"DISK=[IMAGE_ID={base}]")).new_id
    reach(vid, "runn")
    name = unique("saved")
    unknown = run("onevm", "disk-saveas", str(vid), "0", name, "--snapshot", "3")
    assert unknown.code == 1 and "Snapshot does not exist" in unknown.err
    assert "Traceback" not in unknown.err
    saved = ok("onevm", "disk-saveas", str(vid), "0", name, "--type", "datablock")
    assert saved.out.startswith("Image ID: ")
    iid = int(saved.out.split()[-1])
    shown = ok("oneimage", "show", str(iid))
    assert (shown.field("NAME"), shown.field("STATE"), shown.field("TYPE")) == (
        name, "LOCKED", "DATABLOCK")
    again = run("onevm", "disk-saveas", str(vid), "0", unique("again"))
    assert again.code == 1 and f"already saved as image {iid}" in again.err
    assert run("onevm", "disk-saveas", str(vid), "zero", "x").code == 2
    ok("onevm", "terminate", "--hard", str(vid))


def test_monitoring_plots_and_tables(ok, run, running, eventually):
    vid, hid, host = running

    def samples(tool: str, oid: int) -> int | None:
        found = len(etree.fromstring(ok(tool, "monitoring", str(oid), "--xml").out.encode()))
        return found if found >= 2 else None

    eventually(lambda: samples("onevm", vid), "two VM samples")
    plotted = ok("onevm", "monitoring", str(vid)).out
    assert f"VM {vid} CPU  last" in plotted and f"VM {vid} MEMORY  last" in plotted
    assert plotted.count("┤") == 12  # two plots of six rows
    table = ok("onevm", "monitoring", str(vid), "netrx", "--table").out.splitlines()
    assert table[0].split() == ["TIME", "NETRX"] and len(table) >= 3
    eventually(lambda: samples("onehost", hid), "two host samples")
    assert f"HOST {hid} USED_CPU" in ok("onehost", "monitoring", host, "--width", "20").out
    for argv, words in ((("onevm", "monitoring", "987654"), "Error getting"),
                        (("onevm", "monitoring", str(vid), "--width", "3"), "--width"),
                        (("onehost", "monitoring", "no-such-host"), "not found")):
        refused = run(*argv)
        assert refused.code != 0 and words in refused.err and "Traceback" not in refused.err
