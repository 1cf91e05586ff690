"""onecluster against a real oned: members of every kind, and refusals."""
from __future__ import annotations

import json

CLUSTER_COLUMNS = ["ID", "NAME", "HOSTS", "VNETS", "DATASTORES"]


def _net(ok, unique) -> tuple[int, str]:
    name = unique("cnet")
    vid = ok("onevnet", "create", "--template-text",
             f'NAME = "{name}" VN_MAD = dummy BRIDGE = b AR = [ TYPE = IP4, IP = 10.8.0.1, SIZE = 2 ]').new_id
    return vid, name


def test_create_members_show_and_delete(ok, run, unique):
    name = unique("cl")
    cid = ok("onecluster", "create", name).new_id
    host = unique("clhost")
    hid = ok("onehost", "create", host, "--im", "dummy", "--vm", "dummy").new_id
    vid, net = _net(ok, unique)
    ok("onecluster", "addhost", name, host)
    ok("onecluster", "addvnet", str(cid), net)
    ok("onecluster", "adddatastore", name, "default", "2")
    result = ok("onecluster", "list")
    assert result.header == CLUSTER_COLUMNS
    assert result.row(str(cid)) == [str(cid), name, "1", "1", "2"]
    shown = ok("onecluster", "show", name)
    for title in (f"CLUSTER {cid} INFORMATION", "CLUSTER TEMPLATE", "HOSTS", "VNETS", "DATASTORES"):
        assert title in shown.lines()
    assert f"IDS                 : 1,2" in shown.lines()
    assert ok("onehost", "show", str(hid)).field("CLUSTER") == name
    refused = run("onecluster", "delete", name)
    assert refused.code == 1 and "is not empty, it contains 1 hosts" in refused.err
    for verb, ids in (("delhost", [str(hid)]), ("delvnet", [str(vid)]), ("deldatastore", ["1", "2"])):
        ok("onecluster", verb, name, *ids)
    assert ok("onecluster", "list").row(str(cid)) == [str(cid), name, "0", "0", "0"]
    assert ok("onehost", "show", str(hid)).field("CLUSTER") == "default"
    ok("onecluster", "rename", str(cid), name + "x")
    data = json.loads(ok("onecluster", "show", str(cid), "--json").out)
    assert data["CLUSTER"]["NAME"] == name + "x"
    ok("onecluster", "delete", str(cid))
    assert run("onecluster", "show", str(cid)).code == 1


def test_update_merges_the_template(ok, unique, tmp_path):
    cid = ok("onecluster", "create", unique("cl")).new_id
    note = tmp_path / "note.tpl"
    note.write_text('RESERVED_CPU = "10"\n')
    ok("onecluster", "update", str(cid), str(note), "--append")
    assert 'RESERVED_CPU="10"' in ok("onecluster", "show", str(cid)).lines()


def test_errors(run, ok, unique):
    name = unique("cl")
    ok("onecluster", "create", name)
    duplicate = run("onecluster", "create", name)
    assert duplicate.code == 1 and duplicate.err.startswith("[one.cluster.allocate]")
    unknown = run("onecluster", "addhost", "no-such-cluster", "0")
    assert unknown.code == 1 and "CLUSTER named no-such-cluster not found." in unknown.err
    missing = run("onecluster", "adddatastore", name, "987654")
    assert missing.code == 1 and missing.err.startswith("[one.cluster.adddatastore]")
    default = run("onecluster", "delete", "default")
    assert default.code == 1 and "cannot be deleted" in default.err
    assert run("onecluster", "addhost", name).code == 2
    assert "Traceback" not in missing.err + unknown.err


def test_deploy_enforce_keeps_a_vm_in_its_networks_clusters(ok, run, unique):
    cluster = unique("cl")
    ok("onecluster", "create", cluster)
    outside = unique("outside")
    ok("onehost", "create", outside, "--im", "dummy", "--vm", "dummy")
    vid_net, net = _net(ok, unique)
    ok("onecluster", "addvnet", cluster, str(vid_net))
    ok("onecluster", "delvnet", "default", str(vid_net))
    vid = ok("onevm", "create", "--hold", "--template-text",
             f'NAME = {unique("vm")} CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "{net}" ]').new_id
    refused = run("onevm", "deploy", str(vid), outside, "--enforce")
    assert refused.code == 1 and "VM requires to be placed on cluster" in refused.err
    assert ok("onevm", "show", str(vid)).field("STATE") == "HOLD"
