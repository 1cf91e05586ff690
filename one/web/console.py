"""A VM's VNC console: the page (noVNC, from npm), and the WebSocket-to-VNC proxy.

As Sunstone's: the browser opens a WebSocket to one-web, which connects to the VNC
server of the VM's GRAPHICS on the host oned says the VM runs on, and relays the RFB
bytes. Only for a user oned lets read the VM (one.vm.info as that user, USE), asked
when the page is made and again when the socket opens; the socket must bring the
session cookie, the one-time token the page got for that VM, and the console's Origin.
"""
from __future__ import annotations

import re
import socket
import urllib.parse
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from typing import BinaryIO

from lxml import etree

from one.cli.client import Client
from one.cli.errors import CliError, ServerError
from one.states import VmState
from one.web.app import HTTP_STATUS, Page, Refused, Route, WebApp
from one.web.http import SESSION_COOKIE, Response
from one.web.websocket import Relay, handshake_reply

CONNECT_SECONDS = 5.0
SOCKET = re.compile(r"^/vms/(\d+)/vnc$")
NOVNC_FILE = re.compile(r"^(core|vendor)(/[\w.-]+)+\.js$")


@dataclass(frozen=True)
class Graphics:
    host: str
    port: int


def graphics(vm: etree._Element) -> Graphics:
    """Where the VM's VNC server listens: its GRAPHICS PORT on its current host."""
    vid = vm.findtext("ID", "")
    if vm.findtext("TEMPLATE/GRAPHICS/TYPE", "").upper() != "VNC":
        raise Refused(f"VM {vid} has no VNC console (its template has no GRAPHICS of "
                      "TYPE = VNC).", "409 Conflict")
    port = vm.findtext("TEMPLATE/GRAPHICS/PORT", "")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise Refused(f"VM {vid}'s GRAPHICS has no valid PORT ('{port}').", "409 Conflict")
    records = vm.findall("HISTORY_RECORDS/HISTORY")
    if vm.findtext("STATE") != str(int(VmState.ACTIVE)) or not records:
        raise Refused(f"VM {vid} is not active on a host: no console to open.", "409 Conflict")
    return Graphics(records[-1].findtext("HOSTNAME", ""), int(port))


def console_page(page: Page, vid: str) -> Response:
    vm = page.client.document("one.vm.info", int(vid), False)
    target = graphics(vm)
    installed = (page.app.config.novnc_dir / "core" / "rfb.js").is_file()
    token = page.app.console_tokens.issue(page.request.cookies.get(SESSION_COOKIE, ""),
                                          int(vid)) if installed else ""
    return page.render("console.html", vm=vm, target=target, installed=installed,
                       socket=f"/vms/{int(vid)}/vnc?token={token}",
                       novnc_dir=page.app.config.novnc_dir)


def not_a_socket(page: Page, vid: str) -> Response:
    raise Refused(f"This is VM {vid}'s console WebSocket: open /vms/{vid}/console.",
                  "426 Upgrade Required")


def novnc_file(page: Page, name: str) -> Response:
    """noVNC's ES modules, from the package npm installed (nothing of it is in the repo)."""
    root = page.app.config.novnc_dir.resolve()
    file = (root / name).resolve()
    if not NOVNC_FILE.match(name) or ".." in name or not file.is_relative_to(root) \
            or not file.is_file():
        return Response(b"not found", "404 Not Found", "text/plain")
    return Response(file.read_bytes(), content_type="text/javascript")


def websocket(app: WebApp, target: str, headers: Message, rfile: BinaryIO,
              client: socket.socket) -> int:
    """Serves one WebSocket request on the console's connection; returns its status."""
    try:
        peer, protocol = open_vnc(app, target, headers)
    except Refused as refused:
        body = f"{refused.message}\n".encode()
        client.sendall(f"HTTP/1.1 {refused.status}\r\nContent-Type: text/plain; charset=utf-8"
                       f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                       + body)
        return int(refused.status[:3])
    client.sendall(handshake_reply(headers.get("Sec-WebSocket-Key", ""), protocol))
    Relay(rfile, client, peer).run()
    return 101


def open_vnc(app: WebApp, target: str, headers: Message) -> tuple[socket.socket, str]:
    """The TCP connection to the VM's VNC server, once everything checked out, and the
    subprotocol to answer; Refused with the reason otherwise."""
    url = urllib.parse.urlsplit(target)
    match = SOCKET.match(url.path)
    if match is None:
        raise Refused("No WebSocket here.", "404 Not Found")
    if headers.get("Sec-WebSocket-Version") != "13" or not headers.get("Sec-WebSocket-Key"):
        raise Refused("A WebSocket (RFC 6455, version 13) handshake is needed.")
    origin = headers.get("Origin", "")
    if not origin or urllib.parse.urlsplit(origin).netloc != headers.get("Host", ""):
        raise Refused(f"Origin '{origin}' is not this console's.", "403 Forbidden")
    vid = int(match.group(1))
    vm = _vm_of(app, headers, vid, urllib.parse.parse_qs(url.query).get("token", [""])[0])
    where = graphics(vm)
    try:
        peer = socket.create_connection((where.host, where.port), timeout=CONNECT_SECONDS)
    except OSError as error:
        raise Refused(f"Cannot reach VM {vid}'s VNC server at {where.host}:{where.port}: "
                      f"{error.strerror or error}.", "502 Bad Gateway") from None
    peer.settimeout(None)
    offered = [part.strip() for part in headers.get("Sec-WebSocket-Protocol", "").split(",")]
    return peer, "binary" if "binary" in offered else ""


def _vm_of(app: WebApp, headers: Message, vid: int, token: str) -> etree._Element:
    """The VM as oned shows it to the cookie's login, which holds a token for it."""
    cookie = SimpleCookie(headers.get("Cookie", ""))
    sid = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else ""
    login = app.sessions.get(sid)
    if login is None:
        raise Refused("Not signed in.", "401 Unauthorized")
    if not app.console_tokens.take(token, sid, vid):
        raise Refused("The console's token is wrong, used or expired: reopen the console "
                      "page.", "403 Forbidden")
    try:
        return Client(app.config.one_xmlrpc, login.session).document("one.vm.info", vid, False)
    except ServerError as error:
        raise Refused(f"oned: {error.message}",
                      HTTP_STATUS.get(error.code, "400 Bad Request")) from None
    except CliError as error:
        raise Refused(error.message, "502 Bad Gateway") from None


ROUTES = [
    Route("GET", r"/vms/(\d+)/console", console_page),
    Route("GET", r"/vms/(\d+)/vnc", not_a_socket),
    Route("GET", r"/novnc/(.+)", novnc_file, public=True),
]
