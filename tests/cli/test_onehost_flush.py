"""onehost flush and forceupdate against a live oned (dummy drivers, scheduler on)."""
from __future__ import annotations


def test_flush_disables_the_host_and_its_vms_move(ok, run, new_host, reach, vm_text,
                                                  eventually):
    (first, a), (second, b) = new_host(), new_host()
    vid = ok("onevm", "create", "--hold", "--template-text", vm_text(first, second)).new_id
    ok("onevm", "deploy", str(vid), str(first))
    reach(vid, "runn")
    held = ok("onevm", "create", "--hold", "--template-text", vm_text(first)).new_id
    assert ok("onehost", "flush", a).code == 0
    assert ok("onehost", "list").row(str(first))[-1] == "dsbl"
    eventually(lambda: ok("onevm", "list").row(str(vid))[4:8:3] == ["runn", b], "moved by flush")
    assert ok("onehost", "list").row(str(first))[3] == "0"
    assert ok("onevm", "list").row(str(held))[4] == "hold"  # not on the host: left alone
    ok("onevm", "terminate", "--hard", str(vid), str(held))


def test_flush_reports_a_vm_that_cannot_be_rescheduled(ok, run, new_host, reach, vm_text):
    hid, name = new_host()
    vid = ok("onevm", "create", "--hold", "--template-text", vm_text(hid)).new_id
    ok("onevm", "deploy", str(vid), name)
    reach(vid, "runn")
    ok("onevm", "suspend", str(vid))
    reach(vid, "susp")
    flushed = run("onehost", "flush", str(hid))
    assert flushed.code == 1 and f"VM [{vid}]" in flushed.err and "Traceback" not in flushed.err
    assert ok("onehost", "list").row(str(hid))[-1] == "dsbl"  # the host is disabled all the same
    assert ok("onevm", "show", str(vid)).field("RESCHED") == "No"
    ok("onevm", "terminate", "--hard", str(vid))


def test_forceupdate_probes_the_host_again(ok, run, new_host, eventually):
    hid, name = new_host()
    ok("onehost", "disable", name)
    assert ok("onehost", "forceupdate", name).code == 0
    eventually(lambda: ok("onehost", "list").row(str(hid))[-1] == "on", "monitored again")
    unknown = run("onehost", "forceupdate", "no-such-host")
    assert unknown.code != 0 and "no-such-host" in unknown.err and "Traceback" not in unknown.err
