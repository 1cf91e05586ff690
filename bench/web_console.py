"""`python -m bench.web_console`: one-web's VNC console proxy, connect time and throughput.

One fresh oned (its own process) with a dummy host named 127.0.0.1 and one running
VM whose GRAPHICS PORT is a stand-in VNC server in this process: it greets with
"RFB 003.008\\n" and, when asked, streams MIB MiB (the direction a screen's updates
go). one-web in this process (threaded wsgiref on 127.0.0.1:0) signed in as oneadmin;
the client is websocket-client. Figures: the median over RUNS of opening a console
(its page, which gets the one-time token, then the WebSocket until the greeting), and
of the stream's rate through the proxy and straight from the server over TCP.
"""
from __future__ import annotations

import html
import http.cookiejar
import re
import socket
import statistics
import sys
import threading
import time
import xmlrpc.client
from typing import Callable

import websocket
from rich.console import Console
from rich.table import Table

from bench.report import progress
from bench.rpc import call
from bench.server import oned_conf, scratch_server
from bench.web import signed_in
from one.web.config import WebConfig
from one.web.server import make

RUNS = 20
MIB = 64
GREETING = b"RFB 003.008\n"
CONF = oned_conf(MONITORING_INTERVAL=1)


class Source:
    """A stand-in VNC server: the greeting, then MIB MiB if the client sends 's'."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        block = bytes(1 << 16)
        for _ in range(10 * RUNS):
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(GREETING)
                if conn.recv(1) == b"s":
                    for _ in range(MIB * 16):
                        conn.sendall(block)


def running_vm(rpc: xmlrpc.client.ServerProxy, port: int) -> int:
    hid = call(rpc, "one.host.allocate", "127.0.0.1", "dummy", "dummy", -1)
    _until(lambda: "<STATE>2</STATE>" in call(rpc, "one.host.info", hid))
    vid = call(rpc, "one.vm.allocate", 'NAME = desk CPU = 0.1 MEMORY = 32 GRAPHICS = '
               f'[ TYPE = "VNC", LISTEN = "127.0.0.1", PORT = "{port}" ]', True)
    call(rpc, "one.vm.deploy", vid, hid, False, -1)
    _until(lambda: "<LCM_STATE>3</LCM_STATE>" in call(rpc, "one.vm.info", vid))
    return vid


def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for oned")
        time.sleep(0.2)


class Browser:
    """What a browser does to open a console: its page (the one-time token), then the
    page's WebSocket, until the server's greeting."""

    def __init__(self, base: str, vid: int) -> None:
        self.base, self.vid = base, vid
        self.jar = http.cookiejar.CookieJar()
        self.opener = signed_in(base, self.jar)

    def open(self) -> websocket.WebSocket:
        with self.opener.open(f"{self.base}/vms/{self.vid}/console") as reply:
            found = re.search(r'data-socket="([^"]+)"', reply.read().decode())
        if found is None:
            raise RuntimeError("the console page has no WebSocket address")
        sid = next(cookie.value for cookie in self.jar if cookie.name == "one_session")
        ws = websocket.create_connection("ws" + self.base[4:] + html.unescape(found.group(1)),
                                         cookie=f"one_session={sid}", origin=self.base,
                                         subprotocols=["binary"], timeout=30)
        if ws.recv() != GREETING:
            raise RuntimeError("no RFB greeting through the proxy")
        return ws


def connect_seconds(browser: Browser) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        ws = browser.open()
        times.append(time.perf_counter() - start)
        ws.close()
    return statistics.median(times)


def proxied_rate(browser: Browser) -> float:
    """MiB/s of the stream through one-web's proxy."""
    ws = browser.open()
    start, got = time.perf_counter(), 0
    ws.send_binary(b"s")
    while got < MIB << 20:
        got += len(ws.recv())
    seconds = time.perf_counter() - start
    ws.close()
    return MIB / seconds


def direct_rate(port: int) -> float:
    """MiB/s of the same stream read straight from the server over TCP."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.recv(len(GREETING))
        start, got = time.perf_counter(), 0
        conn.sendall(b"s")
        while got < MIB << 20:
            got += len(conn.recv(1 << 16))
        return MIB / (time.perf_counter() - start)


def main() -> int:
    source = Source()
    with scratch_server(CONF) as server:
        vid = running_vm(xmlrpc.client.ServerProxy(server.url), source.port)
        web = make(WebConfig(port=0, one_xmlrpc=server.url))
        threading.Thread(target=web.serve_forever, daemon=True).start()
        try:
            browser = Browser(f"http://127.0.0.1:{web.server_port}", vid)
            progress(f"VM {vid} running; timing {RUNS} console openings, then {MIB} MiB streams")
            connect = connect_seconds(browser)
            rates = (statistics.median(proxied_rate(browser) for _ in range(3)),
                     statistics.median(direct_rate(source.port) for _ in range(3)))
        finally:
            web.shutdown()
            web.server_close()
            source.listener.close()
    table = Table(title="one-web's VNC console proxy (median)")
    for column in ("measure", "value"):
        table.add_column(column)
    table.add_row("open a console (page + WebSocket + greeting)", f"{connect * 1000:.1f} ms")
    table.add_row(f"{MIB} MiB server -> browser through the proxy", f"{rates[0]:.0f} MiB/s")
    table.add_row(f"{MIB} MiB server -> client straight over TCP", f"{rates[1]:.0f} MiB/s")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
