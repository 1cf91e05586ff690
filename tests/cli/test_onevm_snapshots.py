"""onevm snapshot-*, disk-snapshot-*, disk-resize, updateconf and the show sections they
fill (SNAPSHOTS, VM DISK SNAPSHOTS), plus SCHEDULED ACTIONS and LOCK, against a live oned."""
from __future__ import annotations

import json

import pytest


@pytest.fixture
def vm_with_image(new_host, ok, reach, vm_text, unique):
    """A running VM whose disk 0 is an image (disk snapshots need one): (id, host name)."""
    hid, host = new_host()
    image = ok("oneimage", "create", "--name", unique("img"), "--type", "datablock",
               "--size", "10").new_id
    vid = ok("onevm", "create", "--hold", "--template-text",
             vm_text(hid, extra=f"DISK=[IMAGE_ID={image}]")).new_id
    ok("onevm", "deploy", str(vid), host)
    reach(vid, "runn")
    return vid, host


def _template(ok, vid: int) -> dict:
    return json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]["TEMPLATE"]


def test_show_has_no_snapshot_sections_until_there_are_some(ok, vm_with_image):
    vid, _ = vm_with_image
    out = ok("onevm", "show", str(vid)).out
    for title in ("SNAPSHOTS", "VM DISK SNAPSHOTS", "SCHEDULED ACTIONS"):
        assert f"\n{title}\n" not in out
    assert ok("onevm", "show", str(vid)).field("LOCK") is None


def test_snapshots_and_disk_snapshots(ok, reach, eventually, vm_with_image):
    vid, _ = vm_with_image
    assert ok("onevm", "snapshot-create", str(vid), "first").out == ""
    eventually(lambda: _template(ok, vid).get("SNAPSHOT", {}).get("HYPERVISOR_ID"), "snapshot")
    reach(vid, "runn")
    ok("onevm", "disk-snapshot-create", str(vid), "0", "disk-first")
    eventually(lambda: "VM DISK SNAPSHOTS" in ok("onevm", "show", str(vid)).out, "disk snap")
    reach(vid, "runn")
    out = ok("onevm", "show", str(vid)).out
    snapshots = out.split("\nSNAPSHOTS\n")[1].splitlines()
    assert snapshots[0].split() == ["ID", "TIME", "NAME", "HYPERVISOR_ID"]
    assert snapshots[1].split()[0] == "0" and snapshots[1].split()[-2:] == ["first", "snap-0"]
    disk = out.split("\nVM DISK SNAPSHOTS\n")[1].splitlines()
    assert disk[0].split() == ["AC", "ID", "DISK", "PARENT", "DATE", "SIZE", "NAME"]
    assert disk[1].split()[:4] == ["=>", "0", "0", "-1"]
    assert disk[1].split()[-2:] == ["10M", "disk-first"]
    ok("onevm", "disk-snapshot-rename", str(vid), "0", "0", "renamed")
    assert "renamed" in ok("onevm", "show", str(vid)).out
    ok("onevm", "snapshot-revert", str(vid), "0")
    reach(vid, "runn")
    ok("onevm", "snapshot-delete", str(vid), "0")
    eventually(lambda: "SNAPSHOT" not in _template(ok, vid), "snapshot deleted")


def test_disk_resize_and_updateconf(ok, reach, eventually, vm_with_image, tmp_path):
    vid, _ = vm_with_image
    ok("onevm", "disk-resize", str(vid), "0", "1G")
    eventually(lambda: _template(ok, vid)["DISK"]["SIZE"] == "1024", "disk resized")
    reach(vid, "runn")
    conf = tmp_path / "conf"
    conf.write_text('OS = [ BOOT = "disk0" ]\n')
    ok("onevm", "updateconf", str(vid), str(conf))
    assert _template(ok, vid)["OS"] == {"BOOT": "disk0"}
    ok("onevm", "updateconf", str(vid), "--append", "--template-text", 'FEATURES = [ ACPI = "no" ]')
    assert _template(ok, vid)["FEATURES"] == {"ACPI": "no"}


def test_live_resize(ok, reach, vm_with_image):
    vid, _ = vm_with_image
    ok("onevm", "resize", str(vid), "--memory", "512")
    reach(vid, "runn")
    assert _template(ok, vid)["MEMORY"] == "512"


def test_scheduled_actions_and_lock_show(ok):
    vid = ok("onevm", "create", "--hold", "--template-text", "CPU=1 MEMORY=64").new_id
    ok("onevm", "sched-add", str(vid), "poweroff", "--time", "2030-01-07 10:00", "--weekly", "1")
    ok("onevm", "lock", "--admin", str(vid))
    result = ok("onevm", "show", str(vid))
    assert result.field("LOCK") == "Admin"
    rows = result.out.split("\nSCHEDULED ACTIONS\n")[1].splitlines()
    assert rows[0].split() == ["ID", "ACTION", "SCHEDULED", "REPEAT", "DONE", "MESSAGE"]
    assert rows[1].split()[:2] == ["0", "poweroff"] and "weekly 1" in rows[1]


def test_errors_are_clear(ok, run, vm_with_image):
    vid, _ = vm_with_image
    for args, message in (
        (("snapshot-revert", str(vid), "7"), "has no snapshot 7"),
        (("disk-snapshot-delete", str(vid), "0", "3"), "has no snapshots"),
        (("disk-resize", str(vid), "0", "5"), "greater than"),
        (("disk-resize", str(vid), "0", "lots"), "lots"),
        (("disk-snapshot-create", str(vid), "x", "n"), "invalid int value"),
        (("updateconf", str(vid)), "give a template file or --template-text"),
        (("snapshot-create", "99999"), "99999"),
    ):
        result = run("onevm", *args)
        assert result.code != 0 and message in result.err, (args, result)
        assert "Traceback" not in result.err
