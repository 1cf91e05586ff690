"""Sign-ins survive a restart of one-web when it keeps them in a 0600 file; an unsafe
file stops it with a message, a damaged one is ignored."""
from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ADMIN_PASSWORD
from one.web.config import WebConfig
from one.web.server import make
from web.conftest import Console, Http
from web.test_server_process import ONE_WEB


@contextmanager
def serving(config: WebConfig) -> Iterator[str]:
    """one-web on the port config names (0: any); its URL."""
    server = make(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_sign_in_survives_a_restart(console: Console, tmp_path: Path) -> None:
    path = tmp_path / "one-web" / "sessions.json"
    config = replace(console.config, session_file=path)
    with serving(config) as url:
        http = Http(url)
        http.sign_in()
        assert 'id="whoami">oneadmin<' in http.request("/vms")[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ADMIN_PASSWORD not in path.read_text()  # the oned token, not the password
    with serving(config) as url:
        http.url = url  # the same browser, its cookie, a new one-web
        status, page = http.request("/vms")
        assert status == 200 and 'id="whoami">oneadmin<' in page
        assert http.post("/logout")[0] == 200  # the CSRF token of before still holds
    assert json.loads(path.read_text()) == {}
    with serving(config) as url:
        http.url = url
        assert 'id="signin"' in http.request("/vms")[1]  # signed out stays signed out


def test_without_a_file_a_restart_signs_everyone_out(console: Console) -> None:
    with serving(console.config) as url:
        http = Http(url)
        http.sign_in()
    with serving(console.config) as url:
        http.url = url
        assert 'id="signin"' in http.request("/vms")[1]


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_file_others_may_read_stops_one_web(console: Console, tmp_path: Path,
                                              mode: int) -> None:
    path = tmp_path / "sessions.json"
    path.write_text("{}")
    path.chmod(mode)
    done = subprocess.run([str(ONE_WEB), "--port", "0", "--session-file", str(path)],
                          capture_output=True, text=True, timeout=30,
                          env={"ONE_XMLRPC": console.oned.endpoint, "PATH": "/usr/bin"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"one-web: session file {path} has mode -rw-r")
    assert "make it yours and 0600" in done.stderr


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"x": {"user": "a"}}'])
def test_a_damaged_file_is_ignored(console: Console, tmp_path: Path, text: str) -> None:
    path = tmp_path / "sessions.json"
    path.write_text(text)
    path.chmod(0o600)
    with serving(replace(console.config, session_file=path)) as url:
        http = Http(url)
        assert 'id="signin"' in http.request("/vms")[1]
        http.sign_in()
        assert 'id="whoami">oneadmin<' in http.request("/vms")[1]
    assert len(json.loads(path.read_text())) == 1


def test_a_file_that_cannot_be_written_costs_the_restart_not_the_sign_in(
        console: Console, tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    (tmp_path / f".sessions.json.{os.getpid()}").mkdir()  # where the new file would go
    warnings: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("one.web.session_file").addHandler(handler)
    try:
        with serving(replace(console.config, session_file=path)) as url:
            http = Http(url)
            http.sign_in()
            assert 'id="whoami">oneadmin<' in http.request("/vms")[1]
    finally:
        logging.getLogger("one.web.session_file").removeHandler(handler)
    assert any(f"session file {path} not written" in text for text in warnings)
    assert not path.exists()


def test_an_expired_login_is_not_read_back(console: Console, tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    config = replace(console.config, session_file=path)
    with serving(config) as url:
        http = Http(url)
        http.sign_in()
    stored = json.loads(path.read_text())
    for entry in stored.values():
        entry["expires"] = 1.0  # 1970
    path.write_text(json.dumps(stored))
    with serving(config) as url:
        http.url = url
        assert 'id="signin"' in http.request("/vms")[1]
