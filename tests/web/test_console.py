"""The VNC console: a real VNC server (QEMU's, on loopback) behind a dummy-driver VM on
a host named 127.0.0.1, reached through one-web's WebSocket proxy by an independent
WebSocket client (websocket-client) and by noVNC in headless chromium."""
from __future__ import annotations

import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any, Iterator

import pytest
import websocket
from lxml import etree
from selenium.webdriver.common.by import By

from conftest import Caller
from web.conftest import Console, Http, sign_in, wait
from web.vnc import connect, console_socket, free, refusal, running_vm

QEMU = "qemu-system-x86_64"


@pytest.fixture
def vnc_port() -> Iterator[int]:
    """QEMU with no machine at all, its VNC server on 127.0.0.1 (640x480, named QEMU)."""
    assert shutil.which(QEMU), f"{QEMU} is needed (make system-deps installs it)"
    port = next(p for p in range(6000, 6900) if free(p))
    qemu = subprocess.Popen([QEMU, "-nodefaults", "-machine", "none",
                             "-vnc", f"127.0.0.1:{port - 5900}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: qemu.poll() is not None or not free(port))
        assert qemu.poll() is None, "QEMU ended"
        yield port
    finally:
        qemu.terminate()
        qemu.wait(10)


class Rfb:
    """The bytes of an RFB session, whatever WebSocket messages carry them."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws, self.buffer = ws, b""

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            message = self.ws.recv()
            assert isinstance(message, bytes), "RFB comes in binary messages"
            self.buffer += message
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def test_a_websocket_client_speaks_rfb_through_the_proxy(console: Console, http: Http,
                                                         vnc_port: int) -> None:
    vid = running_vm(console, vnc_port)
    http.sign_in()
    ws = connect(console_socket(console, http, vid))
    assert ws.getsubprotocol() == "binary"
    rfb = Rfb(ws)
    assert rfb.read(12) == b"RFB 003.008\n"
    ws.send_binary(b"RFB 003.008\n")
    count = rfb.read(1)[0]
    assert 1 in rfb.read(count)          # security type None: QEMU has no password here
    ws.send_binary(b"\x01")
    assert rfb.read(4) == b"\0\0\0\0"    # SecurityResult OK
    ws.send_binary(b"\x01")              # ClientInit, shared
    width, height = int.from_bytes(rfb.read(2), "big"), int.from_bytes(rfb.read(2), "big")
    rfb.read(16)                         # pixel format
    name = rfb.read(int.from_bytes(rfb.read(4), "big"))
    assert (width, height, name) == (640, 480, b"QEMU")
    ws.ping(b"still there?")
    ws.close()


def test_novnc_in_chromium_shows_the_vms_screen(console: Console, browser: Any,
                                                vnc_port: int, tmp_path: Path) -> None:
    vid = running_vm(console, vnc_port)
    sign_in(browser, console.url)
    wait(lambda: browser.find_elements(By.ID, "whoami"))
    browser.get(f"{console.url}/vms/{vid}")
    browser.find_element(By.ID, "open-console").click()
    status = wait(lambda: browser.find_elements(By.CSS_SELECTOR,
                                                '#console-status[data-state="connected"]'))
    assert status[0].text == "connected"
    size = wait(lambda: browser.execute_script(
        "const c = document.querySelector('#console-screen canvas');"
        "return c && c.width > 0 ? [c.width, c.height] : null;"))
    assert size == [640, 480]
    browser.save_screenshot(str(tmp_path / "console.png"))


def test_the_proxy_refuses_what_it_must(console: Console, http: Http, vnc_port: int) -> None:
    vid = running_vm(console, vnc_port)
    http.sign_in()
    target = console_socket(console, http, vid)
    assert refusal(target, cookie="") == (401, "Not signed in.")
    assert refusal(target, cookie="one_session=forged") == (401, "Not signed in.")
    assert refusal(target, origin="http://elsewhere.example") == (
        403, "Origin 'http://elsewhere.example' is not this console's.")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(target.url).query)["token"][0]
    bad = target.url.replace(token, "x" + token[1:])
    code, body = refusal(target, url=bad)
    assert code == 403 and "token is wrong, used or expired" in body
    other = target.url.replace(f"/vms/{vid}/", f"/vms/{vid + 1}/")  # a token is for one VM
    assert refusal(target, url=other)[0] == 403
    connect(console_socket(console, http, vid)).close()   # a fresh token works...
    assert refusal(target)[0] == 403                        # ...each only once


def test_another_users_vm_has_no_console(console: Console, http: Http, vnc_port: int) -> None:
    admins = running_vm(console, vnc_port)
    alice = Caller(console.oned.endpoint, "alice:alicepw")
    hers = running_vm(console, vnc_port, alice)
    http.sign_in("alice", "alicepw")
    status, page = http.request(f"/vms/{admins}/console")
    assert status == 403 and "not authorized" in page.lower() and "data-socket" not in page
    target = console_socket(console, http, hers)
    console.rpc.ok("one.vm.chown", hers, 0, 0)  # no longer hers when the socket opens
    code, body = refusal(target)
    assert code == 403 and body.startswith("oned:") and "not authorized" in body.lower()


def test_a_vm_without_vnc_or_a_server_has_no_console(console: Console, http: Http,
                                                     vnc_port: int) -> None:
    plain = console.rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 32", True)
    http.sign_in()
    status, page = http.request(f"/vms/{plain}/console")
    assert status == 409 and "has no VNC console" in page and "Traceback" not in page
    assert 'id="open-console"' not in http.request(f"/vms/{plain}")[1]
    vid = running_vm(console, vnc_port)
    target = console_socket(console, http, vid)
    gone = running_vm(console, next(p for p in range(6900, 7000) if free(p)))
    code, body = refusal(console_socket(console, http, gone))
    assert code == 502 and body.startswith(f"Cannot reach VM {gone}'s VNC server at 127.0.0.1:")
    assert http.request(f"/vms/{vid}/vnc")[0] == 426   # not a WebSocket request
    connect(target).close()


def test_the_console_page_says_how_to_install_novnc(console: Console, http: Http,
                                                    vnc_port: int, tmp_path: Path) -> None:
    vid = running_vm(console, vnc_port)
    http.sign_in()
    status, script = http.request("/novnc/core/rfb.js")
    assert status == 200 and "export default class RFB" in script
    for path in ("/novnc/../config.py", "/novnc/core/../../../one/web/config.py",
                 "/novnc/package.json", "/novnc/core/missing.js"):
        assert http.request(path)[0] == 404, path
    console.config.novnc_dir = tmp_path / "no-novnc"
    status, page = http.request(f"/vms/{vid}/console")
    assert status == 200 and 'id="novnc-missing"' in page and "make install" in page
    assert "data-socket" not in page


def test_a_vm_no_longer_on_a_host_has_no_console(console: Console, http: Http,
                                                 vnc_port: int) -> None:
    """oned is asked again when the socket opens: a token got while the VM ran is no use
    once it is powered off."""
    vid = running_vm(console, vnc_port)
    http.sign_in()
    target = console_socket(console, http, vid)
    console.rpc.ok("one.vm.action", "poweroff", vid)
    wait(lambda: etree.fromstring(console.rpc.ok("one.vm.info", vid)).findtext("STATE") == "8")
    assert refusal(target) == (409, f"VM {vid} is not active on a host: no console to open.")
    status, page = http.request(f"/vms/{vid}/console")
    assert status == 409 and "not active on a host" in page
