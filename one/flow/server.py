"""`oneflow-server`: the REST API on 2474 and the reconcile loop on a timer.

It talks to oned only as an XML-RPC client (ONE_XMLRPC, and ONE_AUTH naming an
administrator's `user:password` for the loop), so it can run on another machine.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from one.cli.client import DEFAULT_AUTH, DEFAULT_ENDPOINT, Client, endpoint, read_session
from one.cli.errors import CliError
from one.flow.api import App, Request
from one.flow.lifecycle import Reconciler
from one.flow.routes import build_app
from one.serving import exit_with
from one.states import ServiceState

log = logging.getLogger(__name__)
DEFAULT_PORT = 2474
MAX_BODY = 1 << 20


def handler_for(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            if size > MAX_BODY:
                self.send_error(413)
                return
            data = self.rfile.read(size) if size > 0 else b""
            reply = app.handle(Request(self.command, self.path,
                                       self.headers.get("Authorization"), data))
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            if reply.status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="OneFlow"')
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    return Handler


class FlowServer:
    """The HTTP server and the loop over one oned; `step()` is the loop's one pass."""

    def __init__(self, one_endpoint: str, session: str, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, clock: Callable[[], float] | None = None) -> None:
        self.loop = Reconciler(Client(one_endpoint, session), *(() if clock is None else (clock,)))
        self.app = build_app(one_endpoint, self.loop)
        self.http = ThreadingHTTPServer((host, port), handler_for(self.app))
        self.http.daemon_threads = True
        self.url = f"http://{host}:{self.http.server_address[1]}"
        self._stop = threading.Event()

    def step(self) -> dict[int, ServiceState]:
        return self.loop.step()

    def serve_in_thread(self) -> None:
        threading.Thread(target=self.http.serve_forever, daemon=True, name="oneflow-http").start()

    def run_loop(self, interval: float) -> None:
        """A pass every `interval` seconds, or at once when a request wakes the loop, until
        stopped; a failed pass is logged, not fatal."""
        while not self._stop.is_set():
            self.loop.sleep(interval)
            if self._stop.is_set():
                return
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the loop must outlive one bad pass
                log.exception("reconcile step failed")

    def stop(self) -> None:
        self._stop.set()
        self.loop.wake()
        self.http.shutdown()
        self.http.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneflow-server", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("ONEFLOW_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ONEFLOW_PORT",
                                                                        DEFAULT_PORT)))
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between two passes of the reconcile loop")
    parser.add_argument("--wait-auth", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for ONE_AUTH to exist (oned writes it on its "
                             "first start)")
    parser.add_argument("--exit-with", type=int, metavar="PID", help="stop when process PID ends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        one = endpoint(os.environ.get("ONE_XMLRPC") or DEFAULT_ENDPOINT)
        auth = os.environ.get("ONE_AUTH") or DEFAULT_AUTH
        deadline = time.monotonic() + args.wait_auth
        while not Path(auth).expanduser().exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        server = FlowServer(one, read_session(auth), args.host, args.port)
    except (CliError, OSError) as error:
        parser.exit(1, f"oneflow-server: {error}\n")
    server.serve_in_thread()
    if args.exit_with:
        exit_with(args.exit_with, server.stop)
    log.info("oneflow-server on %s, oned at %s", server.url, one)
    try:
        server.run_loop(args.interval)
    except KeyboardInterrupt:
        server.stop()
    return 0
