"""The `one-web` console script, as `make run` starts it."""
from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

from one.web.config import WebConfig
from web.conftest import Console, Http

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


def test_the_vm_log_directory_is_an_option(console: Console, tmp_path: Path) -> None:
    vid = console.rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 32", True)
    (tmp_path / "logs" / str(vid)).mkdir(parents=True)
    (tmp_path / "logs" / str(vid) / "vm.log").write_text("[Z0][LCM][I]: from the option\n")
    process = subprocess.Popen([str(ONE_WEB), "--port", "0", "--vm-log-dir",
                                str(tmp_path / "logs")], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={"ONE_XMLRPC": console.oned.endpoint, "PATH": "/usr/bin",
                                    "ONE_WEB_VM_LOGS": str(tmp_path / "not-this")})
    try:
        line = process.stdout.readline() if process.stdout else ""
        http = Http(line.split()[-1].rstrip("/"))
        http.sign_in()
        assert "[LCM][I]: from the option" in http.request(f"/vms/{vid}")[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_where_the_vm_logs_are_read_from() -> None:
    assert WebConfig.from_env({}).vm_log_dir == Path.home() / ".one" / "var" / "vms"
    assert WebConfig.from_env({"ONE_VAR": "/srv/one"}).vm_log_dir == Path("/srv/one/vms")
    assert WebConfig.from_env({"ONE_VAR": "/srv/one", "ONE_WEB_VM_LOGS": "/var/log/one"}
                              ).vm_log_dir == Path("/var/log/one")
    assert WebConfig.from_env({"ONE_WEB_NOVNC": "/opt/novnc"}).novnc_dir == Path("/opt/novnc")
