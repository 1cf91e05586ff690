"""oneacct and oneshowback against a real oned whose history clock the test holds."""
from __future__ import annotations

import time

import pytest

from one.core.lifecycle import records
from one.daemon import Oned

START = int(time.mktime((2026, 3, 5, 8, 0, 0, 0, 0, -1)))
TEMPLATE = ("CPU = 2 MEMORY = 1024 CPU_COST = 1.5 MEMORY_COST = 0.01 DISK_COST = 0.001 "
            "DISK = [ SOURCE = /img/a, TYPE = fs, SIZE = 100 ]")


@pytest.fixture
def history(env: Oned, ok, unique, monkeypatch: pytest.MonkeyPatch):
    """A user's VM that ran 10 hours on 5 March 2026 on a fresh host: (user, uid, vid)."""
    clock = [START]
    monkeypatch.setattr(records, "now", lambda: clock[0])
    user = unique("payer")
    uid = ok("oneuser", "create", user, "pw").new_id
    hid = ok("onehost", "create", unique("acct"), "--im", "dummy", "--vm", "dummy").new_id
    env.managers.monitor.cycle()
    vid = ok("onevm", "create", "--template-text", TEMPLATE).new_id  # costs: oneadmin's to set
    ok("onevm", "chown", str(vid), user)
    ok("onevm", "deploy", str(vid), str(hid))
    env.managers.lifecycle.drain()
    clock[0] += 10 * 3600
    ok("onevm", "terminate", "--hard", str(vid))
    env.managers.lifecycle.drain()
    return user, uid, vid


def test_oneacct_groups_by_user_with_cpu_and_memory_hours(ok, history) -> None:
    user, uid, vid = history
    out = ok("oneacct", "-u", user).out
    lines = out.splitlines()
    assert lines[0] == f"# User {uid}"
    assert lines[2].split() == ["VID", "HOSTNAME", "ACTION", "START_TIME", "END_TIME",
                                "MEMORY", "CPU", "NETRX", "NETTX", "DISK", "HOURS", "CPU_HOURS",
                                "MEM_HOURS"]
    row = lines[3].split()
    assert row[0] == str(vid) and row[2] == "terminate-hard"
    assert row[-8:] == ["1024M", "2", "0K", "0K", "100M", "10", "20", "10240"]
    assert "Total: 1 VM, 10 hours, 20 CPU-hours, 10240 memory MB-hours" in lines


def test_oneacct_period_csv_and_documents(ok, history) -> None:
    user, uid, vid = history
    clipped = ok("oneacct", "-u", user, "-s", "2026-03-05 10:00", "-e", "2026-03-05 14:00",
                 "--csv").out.splitlines()
    assert clipped[0].startswith("UID,VID,SEQ,HOSTNAME,ACTION")
    assert clipped[1].split(",")[-3:] == ["4", "8", "4096"]
    assert ok("oneacct", "-u", user, "-s", "2026-03-06", "--csv").out.splitlines()[1:] == []
    assert f"<OID>{vid}</OID>" in ok("oneacct", "-u", user, "--xml").out
    assert '"HISTORY": [' in ok("oneacct", "-u", user, "--json").out


def test_oneacct_bad_input(run) -> None:
    wrong = run("oneacct", "-s", "yesterday")
    assert wrong.code == 2 and "expected a date" in wrong.err and "Traceback" not in wrong.err
    nobody = run("oneacct", "-u", "nobody-at-all")
    assert nobody.code == 1 and "not found" in nobody.err


def test_oneshowback_calculate_and_list(ok, run, history, auth_file) -> None:
    user, uid, vid = history
    ok("oneshowback", "calculate", "-s", "3/2026", "-e", "2026-03")
    out = ok("oneshowback", "list", "-u", user, "-s", "3/2026", "-e", "3/2026").out.splitlines()
    assert out[0] == "# Showback for 3/2026"
    assert out[2].split() == ["USER_NAME", "GROUP_NAME", "VM_ID", "VM_NAME", "MONTH", "YEAR",
                              "HOURS", "RUNNING_HOURS", "COST"]
    assert out[3].split()[2:] == [str(vid), f"one-{vid}", "3", "2026", "10", "10", "133.4"]
    assert f"Total for {user}: 133.4" in out
    csv = ok("oneshowback", "list", "-u", user, "--csv").out.splitlines()
    assert csv[1].split(",")[-1] == "133.4"
    auth_file.write_text(f"{user}:pw\n")
    own = ok("oneshowback", "list").out.splitlines()
    assert len(own) == 6 and own[3].split()[2] == str(vid)   # a user lists their VMs only
    refused = run("oneshowback", "calculate")
    assert refused.code == 1 and "Not authorized" in refused.err


def test_oneshowback_bad_months(run) -> None:
    usage = run("oneshowback", "list", "-s", "March")
    assert usage.code == 2 and "expected a month" in usage.err
    server = run("oneshowback", "calculate", "-s", "13/2026")
    assert server.code == 1 and "Wrong first month/year: 13/2026" in server.err
