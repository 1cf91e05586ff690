"""The `one-web` console script, as `make run` starts it."""
from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

from web.conftest import Console

ONE_WEB = Path(sys.executable).parent / "one-web"


def test_one_web_serves_the_sign_in_page(console: Console) -> None:
    process = subprocess.Popen([str(ONE_WEB), "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={"ONE_XMLRPC": console.oned.endpoint, "PATH": "/usr/bin"})
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("one-web listening on http://127.0.0.1:")
        with urllib.request.urlopen(line.split()[-1] + "login", timeout=10) as reply:
            page = reply.read().decode()
        assert reply.status == 200 and 'id="signin"' in page
        cookie = reply.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_bad_endpoint_is_a_message_not_a_traceback() -> None:
    done = subprocess.run([str(ONE_WEB)], capture_output=True, text=True, timeout=30,
                          env={"ONE_XMLRPC": "ftp://x", "PATH": "/usr/bin"})
    assert done.returncode == 1 and done.stderr.startswith("one-web: ONE_XMLRPC")
    assert "Traceback" not in done.stderr
