"""oneimage against a real oned: registering from files, URLs and nothing, and the verbs."""
from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
from functools import partial
from pathlib import Path
from typing import Iterator

import pytest

IMAGE_COLUMNS = ["ID", "USER", "GROUP", "NAME", "DATASTORE", "SIZE", "TYPE", "PER", "STAT", "RVMS"]
MB = 2**20
SLOW = 0.5  # seconds the live server's download of ?delay=... takes at least


class _Files(http.server.SimpleHTTPRequestHandler):
    """Serves a folder quietly; `?delay=0.5` answers that much later, a slow download."""

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        time.sleep(float(query.get("delay", ["0"])[0]))
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`http.server` on 127.0.0.1:0 serving a folder: (base URL, folder)."""
    folder = tmp_path_factory.mktemp("web")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(_Files, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    """A 1.5 MB file to register: 2M once rounded up to whole megabytes."""
    path = tmp_path / "disk.raw"
    path.write_bytes(b"\1" * (3 * MB // 2))
    return path


@pytest.fixture
def image(ok, unique, disk) -> tuple[int, str]:
    """A READY image copied from a file: (id, name)."""
    name = unique("img")
    return ok("oneimage", "create", "--name", name, "--path", str(disk), "--wait").new_id, name


def row(ok, iid: int) -> list[str]:
    return ok("oneimage", "list").row(str(iid))


def test_create_from_a_file_then_list_and_show(ok, image, disk):
    iid, name = image
    result = ok("oneimage", "list")
    assert result.header == IMAGE_COLUMNS
    assert result.row(str(iid)) == [str(iid), "oneadmin", "oneadmin", name, "default", "2M",
                                    "OS", "No", "rdy", "0"]
    shown = ok("oneimage", "show", name)
    for title in (f"IMAGE {iid} INFORMATION", "PERMISSIONS", "IMAGE TEMPLATE",
                  "VIRTUAL MACHINES"):
        assert title in shown.lines()
    expected = {"NAME": name, "DATASTORE": "default", "TYPE": "OS", "PERSISTENT": "No",
                "PATH": str(disk), "SIZE": "2M", "STATE": "READY", "RUNNING_VMS": "0",
                "ERROR": None, "IDS": "-"}
    assert {label: shown.field(label) for label in expected} == expected
    data = json.loads(ok("oneimage", "list", "--json").out)
    assert name in {item["NAME"] for item in data["IMAGE_POOL"]["IMAGE"]}
    assert str(iid) in ok("oneimage", "list", "mine").out


def test_create_from_an_http_url(ok, unique, web):
    base, folder = web
    (folder / "web.img").write_bytes(b"\2" * (MB + 1))
    iid = ok("oneimage", "create", "--name", unique("web"), "--path", f"{base}/web.img",
             "--wait").new_id
    assert row(ok, iid)[5:9] == ["2M", "OS", "No", "rdy"]
    assert ok("oneimage", "show", str(iid)).field("PATH") == f"{base}/web.img"


def test_empty_datablock_from_options(ok, unique):
    name = unique("blank")
    iid = ok("oneimage", "create", "--name", name, "--type", "datablock", "--size", "8",
             "--fs", "ext4", "--persistent", "--description", 'scratch, "fast"').new_id
    assert row(ok, iid)[5:] == ["8M", "DB", "Yes", "rdy", "0"]
    shown = ok("oneimage", "show", str(iid))
    assert (shown.field("FSTYPE"), shown.field("PERSISTENT")) == ("ext4", "Yes")
    assert r'DESCRIPTION="scratch, \"fast\""' in shown.lines()


def test_create_from_a_template_into_a_datastore_by_id(ok, unique, tmp_path):
    name = unique("tpl")
    template = tmp_path / "image.tpl"
    template.write_text(f'NAME = "{name}"\nTYPE = DATABLOCK\nSIZE = 1\nDEV_PREFIX = vd\n')
    iid = ok("oneimage", "create", str(template), "-d", "1").new_id
    assert row(ok, iid)[3:7] == [name, "default", "1M", "DB"]
    assert 'DEV_PREFIX="vd"' in ok("oneimage", "show", str(iid)).lines()
    inline = ok("oneimage", "create", "--template-text", f"NAME={name}-b TYPE=DATABLOCK SIZE=1")
    assert row(ok, inline.new_id)[3] == f"{name}-b"


def test_wait_follows_the_copy_on_a_live_server(ok, live, eventually, unique, web, disk):
    base, folder = web
    (folder / "slow.img").write_bytes(disk.read_bytes())
    url = f"{base}/slow.img?delay={SLOW}"
    pending = ok("oneimage", "create", "--name", unique("slow"), "--path", url).new_id
    assert row(ok, pending)[8] == "lock"
    started = time.monotonic()
    waited = ok("oneimage", "create", "--name", unique("slow"), "--path", url, "--wait")
    assert time.monotonic() - started >= SLOW
    assert row(ok, waited.new_id)[8] == "rdy" and waited.err == ""
    eventually(lambda: row(ok, pending)[8] == "rdy", f"image {pending} READY")


def test_state_and_type_verbs(ok, image):
    iid, name = image
    ok("oneimage", "disable", name)
    assert row(ok, iid)[8] == "disa"
    ok("oneimage", "enable", str(iid))
    assert row(ok, iid)[8] == "rdy"
    ok("oneimage", "persistent", str(iid))
    assert row(ok, iid)[7] == "Yes"
    ok("oneimage", "nonpersistent", str(iid))
    assert row(ok, iid)[7] == "No"
    ok("oneimage", "chtype", str(iid), "cdrom")
    assert row(ok, iid)[6] == "CD"
    assert ok("oneimage", "show", str(iid)).field("TYPE") == "CDROM"


def test_ownership_and_edits(ok, image, tmp_path):
    iid, name = image
    ok("oneimage", "chmod", str(iid), "640")
    lines = ok("oneimage", "show", str(iid)).lines()
    permissions = lines[lines.index("PERMISSIONS") + 1:][:3]
    assert [line.split()[-1] for line in permissions] == ["um-", "u--", "---"]
    ok("oneimage", "chgrp", str(iid), "users")
    assert row(ok, iid)[1:3] == ["oneadmin", "users"]
    ok("oneimage", "chown", str(iid), "oneadmin", "oneadmin")
    assert row(ok, iid)[1:3] == ["oneadmin", "oneadmin"]
    template = tmp_path / "upd.tpl"
    template.write_text("DEV_PREFIX = sd\n")
    ok("oneimage", "update", str(iid), str(template), "--append")
    assert 'DEV_PREFIX="sd"' in ok("oneimage", "show", str(iid)).lines()
    ok("oneimage", "rename", str(iid), f"{name}-new")
    assert row(ok, iid)[3] == f"{name}-new"


def test_clone_and_delete(ok, run, image, unique):
    iid, _ = image
    copy = unique("copy")
    cid = ok("oneimage", "clone", str(iid), copy, "--wait").new_id
    assert row(ok, cid)[3:9] == [copy, "default", "2M", "OS", "No", "rdy"]
    ok("oneimage", "delete", str(cid), str(iid))
    gone = run("oneimage", "show", str(cid))
    assert gone.code == 1 and gone.err.startswith("[one.image.info]")
    assert str(iid) not in [line.split()[0] for line in ok("oneimage", "list").lines()[1:]]


def test_vms_using_an_image_are_shown(ok, run, image, unique):
    iid, name = image
    vid = ok("onevm", "create", "--template-text",
             f"NAME={unique('vm')} CPU=0.1 MEMORY=64 DISK=[IMAGE_ID={iid}]").new_id
    assert row(ok, iid)[8:] == ["used", "1"]
    assert ok("oneimage", "show", name).field("IDS") == str(vid)
    busy = run("oneimage", "delete", str(iid))
    assert busy.code == 1 and busy.err.startswith("[one.image.delete]")
    ok("onevm", "terminate", "--hard", str(vid))
    assert row(ok, iid)[8:] == ["rdy", "0"]


def test_failed_copy_with_wait_exits_1_with_the_reason(ok, run, unique, web):
    base, _ = web
    failed = run("oneimage", "create", "--name", unique("lost"), "--path", f"{base}/absent.img",
                 "--wait")
    assert failed.code == 1
    iid = failed.new_id
    assert f"IMAGE {iid} ERROR: Error copying image: HTTP Error 404" in failed.err
    assert row(ok, iid)[8] == "err"
    assert "HTTP Error 404" in ok("oneimage", "show", str(iid)).field("ERROR")


def test_server_refusals_exit_1(run, unique, tmp_path):
    no_path = run("oneimage", "create", "--name", unique("none"))
    assert no_path.code == 1
    assert no_path.err.startswith("[one.image.allocate] An image needs PATH")
    unreadable = run("oneimage", "create", "--name", unique("x"), "--path",
                     str(tmp_path / "absent.raw"))
    assert unreadable.code == 1 and "Cannot read PATH" in unreadable.err
    system = run("oneimage", "create", "--name", unique("x"), "--size", "1", "--type",
                 "datablock", "-d", "system")
    assert system.code == 1 and "system datastore" in system.err
    assert run("oneimage", "show", "987654").err.startswith("[one.image.info]")


def test_bad_datastore_and_type(run, image, disk):
    iid, name = image
    unknown = run("oneimage", "create", "--name", f"{name}-x", "--path", str(disk), "-d", "nope")
    assert unknown.code == 1 and "DATASTORE named nope not found." in unknown.err
    bad = run("oneimage", "chtype", str(iid), "floppy")
    assert bad.code == 1 and bad.err.startswith("[one.image.chtype] Unknown image TYPE 'FLOPPY'")
    wrong_store = run("oneimage", "chtype", str(iid), "KERNEL")
    assert wrong_store.code == 1 and "does not belong" in wrong_store.err


def test_usage_errors_exit_2(run, tmp_path):
    template = tmp_path / "image.tpl"
    template.write_text("NAME = x\n")
    both = run("oneimage", "create", str(template), "--name", "y")
    assert both.code == 2 and "template file, --template-text or the template options" in both.err
    assert run("oneimage", "create").code == 2
    size = run("oneimage", "create", "--name", "x", "--size", "lots")
    assert size.code == 2 and "expected a size" in size.err
    assert run("oneimage", "chtype", "1").code == 2
