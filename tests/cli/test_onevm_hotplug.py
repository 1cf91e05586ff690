"""onevm disk-attach|disk-detach|nic-attach|nic-detach against a live oned, and the VM
DISKS / VM NICS sections of onevm show (each only when the VM has some)."""
from __future__ import annotations


def _section(lines: list[str], title: str) -> list[list[str]]:
    """The rows of a show table, split into cells (the header dropped)."""
    start = lines.index(title) + 2
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return [line.split() for line in lines[start:end]]


def _settled(ok, eventually, vid: int) -> list[str]:
    """`onevm show` once the VM is back to RUNNING after a hotplug."""
    return eventually(lambda: (lambda s: s.lines() if s.field("LCM_STATE") == "RUNNING" else None)(
        ok("onevm", "show", str(vid))), f"VM {vid} RUNNING")


def test_disks_and_nics_come_and_go(ok, running, unique, eventually, tmp_path):
    vid = running[0]
    lines = ok("onevm", "show", str(vid)).lines()
    assert "VM DISKS" not in lines and "VM NICS" not in lines   # none: no empty tables
    image = unique("img")
    ok("oneimage", "create", "--template-text",
       f'NAME={image} SOURCE=/srv/{image} SIZE=100 TYPE=DATABLOCK', "-d", "1")
    net = unique("net")
    ok("onevnet", "create", "--template-text",
       f"NAME={net} VN_MAD=dummy BRIDGE=br7 AR=[TYPE=IP4, IP=10.7.0.1, SIZE=4]")

    ok("onevm", "disk-attach", str(vid), "--image", image)
    lines = _settled(ok, eventually, vid)
    assert _section(lines, "VM DISKS") == [["0", "default", "hde", image, "-/100M", "file", "NO"]]
    ok("onevm", "disk-attach", str(vid), "--size", "2048", "--type", "swap", "--prefix", "vd")
    _settled(ok, eventually, vid)
    (tmp_path / "disk.tmpl").write_text("DISK = [ TYPE = fs, SIZE = 10, FORMAT = qcow2 ]\n")
    ok("onevm", "disk-attach", str(vid), "--file", str(tmp_path / "disk.tmpl"))
    lines = _settled(ok, eventually, vid)
    assert _section(lines, "VM DISKS")[1:] == [
        ["1", "-", "vda", "2G", "-", "swap", "-/2G", "swap", "NO"],
        ["2", "-", "hda", "qcow2", "-", "10M", "-/10M", "fs", "NO"]]

    ok("onevm", "nic-attach", str(vid), "--network", net, "--ip", "10.7.0.3")
    lines = _settled(ok, eventually, vid)
    assert _section(lines, "VM NICS") == [["0", net, "br7", "10.7.0.3", "02:00:0a:07:00:03"]]

    ok("onevm", "nic-detach", str(vid), "0")
    for disk_id in ("0", "1", "2"):
        _settled(ok, eventually, vid)
        ok("onevm", "disk-detach", str(vid), disk_id)
    lines = _settled(ok, eventually, vid)
    assert "VM DISKS" not in lines and "VM NICS" not in lines
    actions = [line.split()[2] for line in lines[lines.index("VIRTUAL MACHINE HISTORY") + 2:]]
    assert actions[:6] == ["disk-attach"] * 3 + ["nic-attach", "nic-detach", "disk-detach"]


def test_the_context_cdrom_is_a_disk_row(ok, vm_text, new_host, reach):
    hid, _ = new_host()
    vid = ok("onevm", "create", "--template-text",
             vm_text(hid, extra='DISK=[TYPE=fs, SIZE=5] CONTEXT=[A="1"]')).new_id
    reach(vid, "runn")
    rows = _section(ok("onevm", "show", str(vid)).lines(), "VM DISKS")
    assert rows == [["0", "-", "-", "raw", "-", "5M", "-/5M", "fs", "NO"],
                    ["1", "-", "-", "CONTEXT", "-", "-", "-"]]


def test_errors_say_why_and_exit_non_zero(run, ok, running, unique):
    vid = str(running[0])
    for args, message in (
            (("disk-attach", vid), "disk-attach: give one of --image, --file or --size"),
            (("disk-attach", vid, "--image", "1", "--size", "1"),
             "disk-attach: give one of --image, --file or --size"),
            (("disk-attach", vid, "--image", unique("nope")), "named"),
            (("disk-attach", vid, "--file", "/nonexistent/disk.tmpl"), "/nonexistent/disk.tmpl"),
            (("disk-detach", vid, "9"), "Could not detach disk with DISK_ID 9, it does not exist."),
            (("nic-attach", vid, "--network", unique("nonet")), "named"),
            (("nic-detach", vid, "4"), "Could not detach NIC with NIC_ID 4, it does not exist."),
            (("disk-detach", "9999", "0"), "9999")):
        result = run("onevm", *args)
        assert result.code != 0 and message in result.err, (args, result.err)
        assert "Traceback" not in result.err
    ok("onevm", "poweroff", "--hard", vid)
    held = ok("onevm", "create", "--hold", "--template-text", f"NAME={unique('h')} CPU=1 MEMORY=1").new_id
    result = run("onevm", "disk-attach", str(held), "--size", "1")
    assert result.code == 1
    assert result.err.strip() == (f"[one.vm.attach] Could not attach a new disk to VM {held}, "
                                  "wrong state HOLD.")
