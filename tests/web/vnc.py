"""What the console tests share: a VM whose GRAPHICS points at a local TCP server (QEMU's
VNC server, or an echo server) on a dummy host named 127.0.0.1, and a WebSocket to it
through one-web, opened as a console page's script would."""
from __future__ import annotations

import html
import re
import socket
from dataclasses import dataclass

import pytest
import websocket
from lxml import etree

from conftest import Caller
from web.conftest import Console, Http, wait


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def running_vm(console: Console, port: int, rpc: Caller | None = None) -> int:
    """A VM whose GRAPHICS is the VNC server on `port`, running on the host 127.0.0.1."""
    hosts = etree.fromstring(console.rpc.ok("one.hostpool.info"))
    found = hosts.xpath("HOST[NAME='127.0.0.1']/ID/text()")
    hid = int(found[0]) if found else console.rpc.ok("one.host.allocate", "127.0.0.1", "dummy",
                                                      "dummy", -1)
    wait(lambda: etree.fromstring(console.rpc.ok("one.host.info", hid)).findtext("STATE") == "2")
    vid = (rpc or console.rpc).ok("one.vm.allocate", 'NAME = desk CPU = 0.1 MEMORY = 32 GRAPHICS = '
                                  f'[ TYPE = "VNC", LISTEN = "127.0.0.1", PORT = "{port}" ]', True)
    console.rpc.ok("one.vm.deploy", vid, hid, False, -1)
    wait(lambda: etree.fromstring(console.rpc.ok("one.vm.info", vid)).findtext("LCM_STATE") == "3")
    return vid


@dataclass
class Socket:
    """What a console page hands its script: the WebSocket's address, with the cookie."""
    url: str
    cookie: str
    origin: str


def console_socket(console: Console, http: Http, vid: int) -> Socket:
    status, page = http.request(f"/vms/{vid}/console")
    assert status == 200, page
    path = html.unescape(re.search(r'data-socket="([^"]+)"', page).group(1))
    sid = next(c.value for c in http.jar if c.name == "one_session")
    return Socket("ws" + console.url[4:] + path, f"one_session={sid}", console.url)


def connect(target: Socket, **change: str) -> websocket.WebSocket:
    options = {"cookie": target.cookie, "origin": target.origin, "url": target.url, **change}
    return websocket.create_connection(options.pop("url"), subprotocols=["binary"], timeout=10,
                                       **{k: v for k, v in options.items() if v})


def refusal(target: Socket, **change: str) -> tuple[int, str]:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(target, **change)
    body = (refused.value.resp_body or b"").decode()
    assert "Traceback" not in body
    return refused.value.status_code, body.strip()
