"""A restart loses nothing; the first start bootstraps oneadmin."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ADMIN, Caller, backend_url, database, start_oned, stored_bytes
from one.config import Config
from one.daemon import build
from one.errors import OneError

DOCS = (("one.vm.info", 0), ("one.vm.info", 1), ("one.vn.info", 0), ("one.host.info", 0),
        ("one.user.info", 1), ("one.vmpool.infoextended", -2, -1, -1, -2), ("one.userpool.info",))


def test_restart_keeps_every_object(tmp_path: Path) -> None:
    first = start_oned(tmp_path)
    rpc = Caller(first.endpoint)
    rpc.ok("one.host.allocate", "node", "dummy", "dummy", -1)
    rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 9 ]", -1)
    rpc.ok("one.user.allocate", "carol", "pw", "core", [])
    rpc.ok("one.vm.allocate", "CPU = 1 NAME = a MEMORY = 8 NIC = [ NETWORK = n ]", False)
    rpc.ok("one.vm.allocate", "CPU = 1 NAME = b MEMORY = 8 NIC = [ NETWORK = n ]", True)
    rpc.ok("one.vm.action", "terminate", 0)
    before = [rpc.ok(*call) for call in DOCS]
    first.stop()

    second = start_oned(tmp_path)
    rpc = Caller(second.endpoint)
    try:
        assert [rpc.ok(*call) for call in DOCS] == before
        assert rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 8 NIC = [ NETWORK = n ]", False) == 2
        assert "10.0.0.3" in rpc.ok("one.vm.info", 2)  # .1 was freed at DONE, cursor moved on
        rpc.as_user("carol:pw").ok("one.user.info", -1)
    finally:
        second.stop()


def test_schema_version_mismatch_is_refused(tmp_path: Path) -> None:
    start_oned(tmp_path).stop()
    with database(tmp_path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RuntimeError, match="schema version 99"):
        build(Config(var_location=str(tmp_path), port=0, db=backend_url(tmp_path)),
              tmp_path / "one_auth")


def test_bootstrap_writes_a_random_password(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    auth = tmp_path / "dot-one" / "one_auth"
    oned = build(Config(var_location=str(tmp_path), port=0), auth)
    oned.serve_in_thread()
    try:
        assert str(auth) in capsys.readouterr().out
        assert stat.S_IMODE(auth.stat().st_mode) == 0o600
        name, _, password = auth.read_text().strip().partition(":")
        assert name == "oneadmin" and len(password) >= 16
        assert Caller(oned.endpoint, f"oneadmin:{password}").ok("one.user.info", -1)
        assert "<PASSWORD>" in Caller(oned.endpoint, f"oneadmin:{password}").ok("one.user.info", 0)
    finally:
        oned.stop()


def test_bad_one_auth_file_is_refused(tmp_path: Path) -> None:
    auth = tmp_path / "one_auth"
    auth.write_text("no password here\n")
    with pytest.raises(OneError, match="user:password"):
        build(Config(var_location=str(tmp_path), port=0), auth)


def test_passwords_are_never_stored_plain(tmp_path: Path) -> None:
    oned = start_oned(tmp_path)
    Caller(oned.endpoint).ok("one.user.allocate", "dave", "hunter2-plain", "core", [])
    oned.stop()
    assert b"hunter2-plain" not in stored_bytes(tmp_path)


def test_oned_command_line(tmp_path: Path) -> None:
    """`oned -f --port 0` prints its endpoint and serves; SIGTERM stops it."""
    (tmp_path / "one_auth").write_text(ADMIN + "\n")
    env = dict(os.environ, ONE_AUTH=str(tmp_path / "one_auth"))
    proc = subprocess.Popen([sys.executable, "-m", "one.daemon", "-f", "--port", "0",
                             "--var", str(tmp_path), "--db", backend_url(tmp_path)],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("oned listening on http://127.0.0.1:")
        assert Caller(line.split()[-1]).ok("one.system.version") == "7.4.0"
        assert (tmp_path / "oned.pid").read_text().strip() == str(proc.pid)
    finally:
        proc.terminate()
    assert proc.wait(timeout=10) == 0


def test_oned_rejects_bad_config(tmp_path: Path) -> None:
    conf = tmp_path / "oned.conf"
    conf.write_text("PORT = notanumber\n")
    result = subprocess.run([sys.executable, "-m", "one.daemon", "-f", "--config", str(conf)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "PORT" in result.stderr
