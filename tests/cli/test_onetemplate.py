"""onetemplate, and the template options onevm create shares, against a real oned."""
from __future__ import annotations

import argparse
import json

from one.cli.vm_options import template_text

TEMPLATE_COLUMNS = ["ID", "USER", "GROUP", "NAME", "REGTIME"]


def _vm(ok, vid: int) -> dict:
    return json.loads(ok("onevm", "show", str(vid), "--json").out)["VM"]


def _template(ok, tid: int) -> dict:
    return json.loads(ok("onetemplate", "show", str(tid), "--json").out)["VMTEMPLATE"]


def test_create_list_show_update(ok, unique, tmp_path):
    name = unique("tpl")
    tid = ok("onetemplate", "create", "--name", name, "--cpu", "0.5", "--memory", "1g",
             "--vcpu", "2").new_id
    listed = ok("onetemplate", "list")
    assert listed.header == TEMPLATE_COLUMNS and listed.row(str(tid))[3] == name
    shown = ok("onetemplate", "show", str(tid))
    assert shown.field("NAME") == name and shown.field("LOCK") == "None"
    assert 'MEMORY="1024"' in shown.out and 'CPU="0.5"' in shown.out and 'VCPU="2"' in shown.out
    extra = tmp_path / "extra.tpl"
    extra.write_text("DESCRIPTION = web\n")
    ok("onetemplate", "update", name, str(extra), "--append")
    assert _template(ok, tid)["TEMPLATE"]["DESCRIPTION"] == "web"
    ok("onetemplate", "rename", str(tid), name + "x")
    ok("onetemplate", "chmod", str(tid), "644")
    assert _template(ok, tid)["PERMISSIONS"]["OTHER_U"] == "1"


def test_instantiate_with_options(ok, unique):
    net, image = unique("net"), unique("img")
    ok("onevnet", "create", "--template-text",
       f"NAME={net} VN_MAD=dummy AR=[TYPE=IP4, IP=10.7.0.1, SIZE=20]")
    iid = ok("oneimage", "create", "--name", image, "--type", "DATABLOCK", "--size", "1",
             "--wait").new_id
    tid = ok("onetemplate", "create", "--template-text",
             f"NAME={unique('t')} CPU=1 MEMORY=64 NIC=[NETWORK_ID=0]").new_id
    out = ok("onetemplate", "instantiate", str(tid), "--multiple", "2", "--name", "web-%i",
             "--hold", "--memory", "512m", "--nic", net, "--disk", f"{iid}:target=vdb").out
    vids = [int(line.split()[-1]) for line in out.splitlines()]
    assert len(vids) == 2
    vms = [_vm(ok, vid) for vid in vids]
    assert [vm["NAME"] for vm in vms] == ["web-0", "web-1"]
    assert all(vm["STATE"] == "2" for vm in vms)  # on hold
    first = vms[0]["TEMPLATE"]
    assert (first["MEMORY"], first["TEMPLATE_ID"]) == ("512", str(tid))
    assert first["NIC"]["NETWORK"] == net and first["NIC"]["IP"].startswith("10.7.0.")
    assert (first["DISK"]["IMAGE_ID"], first["DISK"]["TARGET"]) == (str(iid), "vdb")


def test_clone_delete_lock(ok, run, unique):
    tid = ok("onetemplate", "create", "--template-text", f"NAME={unique('t')} CPU=1 MEMORY=8").new_id
    copy = ok("onetemplate", "clone", str(tid), unique("copy"), "--recursive").new_id
    private = unique("private")
    vid = int(ok("onetemplate", "instantiate", str(tid), "--persistent", "--name", private
                 ).out.split()[-1])
    assert _vm(ok, vid)["TEMPLATE"]["CLONING_TEMPLATE_ID"] == str(tid)
    assert ok("onetemplate", "list").row(_vm(ok, vid)["TEMPLATE"]["TEMPLATE_ID"])[3] == private
    assert copy > tid
    ok("onetemplate", "lock", str(copy), "--manage")
    assert _template(ok, copy)["LOCK"]["LOCKED"] == "2"
    refused = run("onetemplate", "delete", str(copy))
    assert refused.code != 0 and "is locked (MANAGE)" in refused.err
    assert "Traceback" not in refused.err
    ok("onetemplate", "unlock", str(copy))
    ok("onetemplate", "delete", str(copy), "--recursive")
    gone = run("onetemplate", "show", str(copy))
    assert gone.code != 0 and f"Error getting VM template [{copy}]" in gone.err


def test_bad_input(run, unique):
    missing = run("onetemplate", "instantiate", unique("none"))
    assert missing.code != 0 and "not found" in missing.err
    bad = run("onetemplate", "create", "--name", "x", "--memory", "lots")
    assert bad.code != 0 and "expected a size" in bad.err
    item = run("onevm", "create", "--cpu", "1", "--memory", "8", "--disk", "a]b")
    assert item.code != 0 and "Wrong --disk item" in item.err
    attr = run("onevm", "create", "--cpu", "1", "--memory", "8", "--nic", "lan:mtu")
    assert attr.code != 0 and "KEY=VALUE" in attr.err
    cpu = run("onevm", "create", "--cpu", "0", "--memory", "8")
    assert cpu.code != 0 and "above 0" in cpu.err
    for result in (missing, bad, item, attr, cpu):
        assert "Traceback" not in result.err


def test_onevm_create_from_options(ok, unique):
    name, net = unique("vm"), unique("net")
    ok("onevnet", "create", "--template-text",
       f"NAME={net} VN_MAD=dummy AR=[TYPE=IP4, IP=10.8.0.1, SIZE=10]")
    out = ok("onevm", "create", "--name", name, "--cpu", "1", "--memory", "2g", "--vcpu", "2",
             "--nic", f"oneadmin[{net}]:model=virtio,auto", "-m", "2").out
    vids = [int(line.split()[-1]) for line in out.splitlines()]
    assert len(vids) == 2
    vm = _vm(ok, vids[0])
    assert (vm["NAME"], vm["TEMPLATE"]["MEMORY"], vm["TEMPLATE"]["VCPU"]) == (name, "2048", "2")
    nics = vm["TEMPLATE"]["NIC"]
    assert (nics[0]["NETWORK"], nics[0]["MODEL"]) == (net, "virtio")
    assert nics[1]["NETWORK_MODE"] == "auto"


def test_options_become_opennebula_template_text():
    ns = argparse.Namespace(name="web", cpu="0.5", vcpu=2, memory=2048,
                            disk="3,alice[base]:size=4096:cache=none", nic="lan,auto,7")
    assert template_text(ns).splitlines() == [
        'NAME="web"', 'CPU="0.5"', 'VCPU="2"', 'MEMORY="2048"',
        'DISK=[IMAGE_ID="3"]', 'DISK=[IMAGE="base", IMAGE_UNAME="alice", SIZE="4096", CACHE="none"]',
        'NIC=[NETWORK="lan"]', 'NIC=[NETWORK_MODE="auto"]', 'NIC=[NETWORK_ID="7"]']
    assert template_text(ns, name=False).splitlines()[0] == 'CPU="0.5"'
    empty = argparse.Namespace(name=None, cpu=None, vcpu=None, memory=None, disk=None, nic=None)
    assert template_text(empty) is None
