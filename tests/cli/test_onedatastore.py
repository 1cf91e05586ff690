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
