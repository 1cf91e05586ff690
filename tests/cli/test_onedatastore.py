"""onedatastore against a real oned: the three default datastores and template edits."""
from __future__ import annotations

import json

DATASTORE_COLUMNS = ["ID", "USER", "GROUP", "NAME", "SIZE", "AVA", "CLUSTERS", "IMAGES", "TYPE",
                     "DS", "TM", "STAT"]


def test_list_columns_and_rows(ok):
    result = ok("onedatastore", "list")
    assert result.header == DATASTORE_COLUMNS
    for dsid, name, kind in (("0", "system", "sys"), ("1", "default", "img"),
                             ("2", "files", "fil")):
        cells = result.row(dsid)
        assert cells[1:4] == ["oneadmin", "oneadmin", name]
        assert cells[4][-1] in "MGT" and cells[5].endswith("%") and cells[6] == "0"
        assert cells[8:10] == [kind, "fs"] and cells[-1] == "on"
    assert result.row("0")[7] == "0"
    data = json.loads(ok("onedatastore", "list", "--json").out)
    assert [ds["NAME"] for ds in data["DATASTORE_POOL"]["DATASTORE"]][:3] == [
        "system", "default", "files"]


def test_show_counts_the_images_it_holds(ok, unique):
    iid = ok("oneimage", "create", "--name", unique("held"), "--type", "datablock", "--size",
             "1").new_id
    shown = ok("onedatastore", "show", "default")
    for title in ("DATASTORE 1 INFORMATION", "DATASTORE CAPACITY", "PERMISSIONS",
                  "DATASTORE TEMPLATE", "IMAGES"):
        assert title in shown.lines()
    assert (shown.field("TYPE"), shown.field("STATE"), shown.field("DS_MAD")) == (
        "IMAGE", "READY", "fs")
    assert shown.field("BASE PATH").endswith("datastores/1")
    assert all(shown.field(label)[-1] in "MGT" for label in ("TOTAL", "FREE", "USED"))
    assert str(iid) in shown.field("IDS").split(",")
    listed = int(ok("onedatastore", "list").row("1")[7])
    assert listed == len(shown.field("IDS").split(","))
    assert json.loads(ok("onedatastore", "show", "1", "-j").out)["DATASTORE"]["NAME"] == "default"


def test_update_merges_and_the_server_checks_drivers(ok, run, tmp_path):
    note = tmp_path / "note.tpl"
    note.write_text("NOTE = \"shared by the CLI tests\"\n")
    ok("onedatastore", "update", "files", str(note), "--append")
    assert 'NOTE="shared by the CLI tests"' in ok("onedatastore", "show", "2").lines()
    driver = tmp_path / "driver.tpl"
    driver.write_text("TM_MAD = no-such-driver\n")
    refused = run("onedatastore", "update", "2", str(driver), "--append")
    assert refused.code == 1 and refused.err.startswith("[one.datastore.update]")
    assert ok("onedatastore", "list").row("2")[10] != "no-such-driver"


def test_errors(run):
    missing = run("onedatastore", "show", "987654")
    assert missing.code == 1 and missing.err.startswith("[one.datastore.info]")
    unknown = run("onedatastore", "show", "nowhere")
    assert unknown.code == 1 and "DATASTORE named nowhere not found." in unknown.err
    assert run("onedatastore", "update", "1").code == 2


def test_create_enable_rename_delete(ok, run, unique, tmp_path):
    cluster = unique("dscl")
    cid = ok("onecluster", "create", cluster).new_id
    name = unique("ds")
    template = tmp_path / "ds.tpl"
    template.write_text(f'NAME = "{name}"\nTYPE = SYSTEM_DS\nTM_MAD = dummy\n')
    dsid = ok("onedatastore", "create", str(template), "--cluster", cluster).new_id
    cells = ok("onedatastore", "list").row(str(dsid))
    assert cells[3] == name and cells[6] == str(cid) and cells[8:] == ["sys", "-", "dummy", "on"]
    ok("onedatastore", "disable", str(dsid))
    assert ok("onedatastore", "show", name).field("STATE") == "DISABLED"
    assert ok("onedatastore", "list").row(str(dsid))[-1] == "off"
    ok("onedatastore", "enable", name)
    refused = run("onedatastore", "disable", "1")
    assert refused.code == 1 and "Only SYSTEM_DS" in refused.err
    ok("onedatastore", "rename", str(dsid), name + "r")
    ok("onedatastore", "chmod", str(dsid), "640")
    assert ok("onedatastore", "show", str(dsid)).field("GROUP") == "oneadmin"
    ok("onedatastore", "delete", name + "r")
    assert run("onedatastore", "show", str(dsid)).code == 1


def test_create_refusals_and_a_non_empty_delete(ok, run, unique):
    bad = run("onedatastore", "create", "--template-text", f"NAME = {unique('ds')} TM_MAD = dummy")
    assert bad.code == 1 and "No DS_MAD in template." in bad.err
    unknown = run("onedatastore", "create", "--template-text", "NAME = x DS_MAD = fs TM_MAD = dummy",
                  "-c", "no-such-cluster")
    assert unknown.code == 1 and "CLUSTER named no-such-cluster not found." in unknown.err
    name = unique("ds")
    dsid = ok("onedatastore", "create", "--template-text",
              f"NAME = {name} DS_MAD = fs TM_MAD = dummy").new_id
    ok("oneimage", "create", "--name", unique("img"), "--type", "datablock", "--size", "1",
       "--datastore", str(dsid))
    full = run("onedatastore", "delete", str(dsid))
    assert full.code == 1 and "not empty" in full.err and "Traceback" not in full.err
    assert run("onedatastore", "create").code == 2
