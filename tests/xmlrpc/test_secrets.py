"""Secrets at rest and at the door: salted password hashes, hashed login tokens
with exact expiry, the auth cache, failed-login throttling (issue 10 item 6)."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from conftest import Caller, database, start_oned, stored_bytes, validate
from one.core.throttle import Throttle
from one.daemon import Oned
from one.errors import AuthenticationError
from one.pool.db import SCHEMA_VERSION


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _row(var: Path, name: str) -> tuple[str, str]:
    with database(var) as db:
        return db.execute('SELECT password, tokens FROM "user" WHERE name = ?', (name,)).fetchone()


def test_passwords_are_salted_slow_hashes_that_no_client_can_send(
        oned: Oned, rpc: Caller, tmp_path: Path) -> None:
    rpc.ok("one.user.allocate", "ann", "same-pw", "core", [])
    rpc.ok("one.user.allocate", "ben", "same-pw", "core", [])
    ann, ben = _row(tmp_path, "ann")[0], _row(tmp_path, "ben")[0]
    assert ann.startswith("scrypt$n=32768,r=8,p=1$") and ann != ben  # per-user salt
    stored = stored_bytes(tmp_path)
    for leaked in (_sha1("same-pw"), hashlib.sha256(b"same-pw").hexdigest(), "same-pw"):
        assert leaked.encode() not in stored
    shown = etree.fromstring(rpc.ok("one.user.info", 1).encode()).findtext("PASSWORD")
    assert shown == ann
    rpc.as_user(f"ann:{shown}").fails("one.user.info", -1, code=0x100)
    modern = rpc.as_user("ann:same-pw").ok("one.user.info", -1)
    assert "<GROUPS>" in modern
    classic = rpc.as_user(f"ann:{_sha1('same-pw')}").ok("one.user.info", -1)
    assert "<GROUPS>" not in classic  # the SHA1 session is still the classic dialect


def test_login_tokens_are_stored_hashed_and_never_shown(
        oned: Oned, rpc: Caller, tmp_path: Path) -> None:
    rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    ann = rpc.as_user("ann:pw")
    token = ann.ok("one.user.login", "ann", "", 600, -1)
    other = ann.ok("one.user.login", "ann", "", -1, -1)
    assert token not in stored_bytes(tmp_path).decode("latin-1")
    digests = [t["DIGEST"] for t in json.loads(_row(tmp_path, "ann")[1])]
    assert digests == [hashlib.sha256(t.encode()).hexdigest() for t in (token, other)]
    document = ann.ok("one.user.info", -1)
    validate(document, "user.xsd")
    assert token not in document and other not in document
    shown = [e.text for e in etree.fromstring(document.encode()).iterfind("LOGIN_TOKEN/TOKEN")]
    assert shown == [d[:16] for d in digests]
    assert token not in rpc.ok("one.userpool.info")
    rpc.as_user(f"ann:{token}").ok("one.user.info", -1)
    rpc.as_user(f"ann:{shown[0]}").fails("one.user.info", -1, code=0x100)
    ann.ok("one.user.login", "ann", shown[0], 0, -1)  # revoked by the fingerprint shown
    rpc.as_user(f"ann:{token}").fails("one.user.info", -1, code=0x100)
    rpc.as_user(f"ann:{other}").ok("one.user.info", -1)


def test_a_cached_token_session_ends_when_the_token_expires(rpc: Caller) -> None:
    rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    token = rpc.as_user("ann:pw").ok("one.user.login", "ann", "", 2, -1)
    session = rpc.as_user(f"ann:{token}")
    document = session.ok("one.user.info", -1)  # now in the auth cache
    expires = int(etree.fromstring(document.encode()).findtext("LOGIN_TOKEN/EXPIRATION_TIME"))
    while time.time() <= expires + 0.1:  # the expiry itself (the cache had 60 s before)
        time.sleep(0.05)
    session.fails("one.user.info", -1, code=0x100)


def test_password_change_and_disable_end_cached_sessions(rpc: Caller) -> None:
    uid = rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    ann = rpc.as_user("ann:pw")
    ann.ok("one.user.info", -1)
    rpc.ok("one.user.passwd", uid, "pw2")
    ann.fails("one.user.info", -1, code=0x100)
    ann2 = rpc.as_user("ann:pw2")
    ann2.ok("one.user.info", -1)
    rpc.ok("one.user.enable", uid, False)
    ann2.fails("one.user.info", -1, code=0x100)


THROTTLED = ("AUTH_USER_FAILURES = 3\nAUTH_SOURCE_FAILURES = 6\nAUTH_FAILURE_WINDOW = {window}\n"
             'AUTH_THROTTLE_EXEMPT = ""\n')


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[Oned]:
    server = start_oned(tmp_path, config_text=THROTTLED.format(window=600))
    yield server
    server.stop()


def test_failed_logins_are_throttled_per_user(throttled: Oned) -> None:
    rpc = Caller(throttled.endpoint)
    rpc.ok("one.user.allocate", "ann", "pw", "core", [])
    rpc.ok("one.user.allocate", "ben", "pw", "core", [])
    logged_in = rpc.as_user("ann:pw")
    logged_in.ok("one.user.info", -1)
    for attempt in range(3):
        assert "couldn't be authenticated" in rpc.as_user(f"ann:guess{attempt}").fails(
            "one.user.info", -1, code=0x100)
    refused = rpc.as_user("ann:pw2").fails("one.user.info", -1, code=0x100)
    assert "Too many failed logins for user ann; try again in" in refused
    rpc.ok("one.user.passwd", 1, "pw2")
    assert "Too many" in rpc.as_user("ann:pw2").fails("one.user.info", -1, code=0x100)
    rpc.as_user("ben:pw").ok("one.user.info", -1)  # other users are not affected


def test_failed_logins_are_throttled_per_source(throttled: Oned) -> None:
    rpc = Caller(throttled.endpoint)
    rpc.ok("one.user.allocate", "ben", "pw", "core", [])
    for attempt in range(6):
        rpc.as_user(f"nobody{attempt}:x").fails("one.user.info", -1, code=0x100)
    refused = rpc.as_user("ben:pw").fails("one.user.info", -1, code=0x100)
    assert "Too many failed logins from 127.0.0.1" in refused
    rpc.ok("one.user.info", 0)  # a session authenticated before is served from the cache


def test_a_lockout_ends_after_the_window(tmp_path: Path) -> None:
    server = start_oned(tmp_path, config_text=THROTTLED.format(window=1))
    try:
        rpc = Caller(server.endpoint)
        rpc.ok("one.user.allocate", "ann", "pw", "core", [])
        for attempt in range(3):
            rpc.as_user(f"ann:guess{attempt}").fails("one.user.info", -1, code=0x100)
        assert "Too many" in rpc.as_user("ann:pw").fails("one.user.info", -1, code=0x100)
        deadline = time.monotonic() + 10
        while rpc.as_user("ann:pw")("one.user.info", -1)[0] is not True:
            assert time.monotonic() < deadline, "still locked out after the window"
            time.sleep(0.1)
    finally:
        server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_window_refusals_and_exempt_sources() -> None:
    clock = Clock()
    throttle = Throttle(2, 3, 60, exempt=["10.0.0.0/8"], clock=clock)
    throttle.failed("ann", "192.0.2.1")
    throttle.failed("ann", "192.0.2.1")
    with pytest.raises(AuthenticationError, match="for user ann; try again in 60 s"):
        throttle.check("ann", "192.0.2.9")
    clock.now += 30
    for _ in range(5):  # refused attempts are not failures: they do not extend the lockout
        with pytest.raises(AuthenticationError):
            throttle.check("ann", "192.0.2.9")
    clock.now += 30
    throttle.check("ann", "192.0.2.9")
    for name in ("a", "b", "c"):
        throttle.failed(name, "10.1.2.3")  # exempt: counted per user only
    throttle.check("d", "10.1.2.3")
    for name in ("a", "b"):
        throttle.failed(name, "192.0.2.7")
    throttle.failed("c", "192.0.2.7")
    with pytest.raises(AuthenticationError, match="from 192.0.2.7"):
        throttle.check("d", "192.0.2.7")


def test_bad_throttle_exemption_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="AUTH_THROTTLE_EXEMPT"):
        start_oned(tmp_path, config_text='AUTH_THROTTLE_EXEMPT = "not-a-net"\n')


EMPTY = "''"  # SQL's empty string, on both backends


def _as_schema_1(var: Path, sha1: dict[str, str], tokens: dict[str, list[dict]]) -> None:
    """Turn a database back into schema 1: SHA1/SHA256 columns, plain tokens."""
    with database(var) as db:
        db.execute(f'ALTER TABLE "user" ADD COLUMN sha1 VARCHAR(255) NOT NULL DEFAULT {EMPTY}')
        db.execute(f'ALTER TABLE "user" ADD COLUMN sha256 VARCHAR(255) NOT NULL DEFAULT {EMPTY}')
        for name, value in sha1.items():
            db.execute('UPDATE "user" SET sha1 = ?, tokens = ?, body = ? WHERE name = ?',
                       (value, json.dumps(tokens.get(name, [])), f"<PASSWORD>{value}", name))
        db.execute('ALTER TABLE "user" DROP COLUMN password')
        db.execute("UPDATE schema_version SET version = 1")


def test_schema_1_credentials_are_converted_at_start(tmp_path: Path) -> None:
    first = start_oned(tmp_path)
    Caller(first.endpoint).ok("one.user.allocate", "ann", "ann-pw", "core", [])
    first.stop()
    token = "ab" * 20
    _as_schema_1(tmp_path, {"oneadmin": _sha1("secret"), "ann": _sha1("ann-pw")},
                 {"ann": [{"TOKEN": token, "EXPIRATION_TIME": -1, "EGID": -1}]})
    second = start_oned(tmp_path)
    try:
        rpc = Caller(second.endpoint)
        assert "<GROUPS>" in rpc.as_user("ann:ann-pw").ok("one.user.info", -1)
        assert "<GROUPS>" not in rpc.as_user(f"ann:{_sha1('ann-pw')}").ok("one.user.info", -1)
        rpc.as_user(f"ann:{token}").ok("one.user.info", -1)
        document = rpc.ok("one.user.info", 1)
        validate(document, "user.xsd")
        assert _sha1("ann-pw") not in document and token not in document
        stored = stored_bytes(tmp_path)
        assert _sha1("ann-pw").encode() not in stored and token.encode() not in stored
        with database(tmp_path) as db:
            assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
            columns = {column.name for column in db.db.get_columns("user")}
        assert "password" in columns and not {"sha1", "sha256"} & columns
    finally:
        second.stop()


@pytest.mark.sqlite_only  # the mode of one.db
def test_files_are_private_whatever_the_umask(engine, tmp_path: Path) -> None:
    """oned built in a process with a permissive umask (as here) still makes its
    database, VM directories, logs and CONTEXT CD-ROMs for its own user only."""
    previous = os.umask(0o022)
    try:
        hid = engine.host("node")
        engine.monitor()
        vid = engine.vm("CPU = 1 MEMORY = 64 CONTEXT = [ SECRET = s3cr3t ]", host=hid)
    finally:
        os.umask(previous)
    vm_dir = tmp_path / "vms" / str(vid)
    for path in (tmp_path / "one.db", vm_dir / "vm.log", vm_dir / "context.iso"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in (tmp_path / "vms", vm_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
