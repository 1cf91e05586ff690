"""one-web: serves the web console (wsgiref, one thread per request) on 127.0.0.1:9869."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from wsgiref.simple_server import WSGIServer, make_server

from one.cli.errors import CliError
from one.serving import ThreadingServer, access_logged, serve
from one.web import console, login, pages, vms
from one.web.app import WebApp
from one.web.config import WebConfig


def build_app(config: WebConfig) -> WebApp:
    return WebApp(config, [*login.ROUTES, *console.ROUTES, *vms.ROUTES, *pages.ROUTES])


class Handler(access_logged("one.web.access")):  # type: ignore[misc]  # a class made at run time
    """wsgiref's handler, except that a WebSocket request (the VNC console's) is served
    on the connection itself: WSGI has no way to hand a socket over."""

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.command != "GET" or self.headers.get("Upgrade", "").lower() != "websocket":
            return True
        app = self.server.get_app()
        self.log_request(console.websocket(app, self.path, self.headers, self.rfile,
                                           self.connection))
        return False  # wsgiref goes no further with this request


def make(config: WebConfig) -> WSGIServer:
    """The server bound to config.host:port (port 0: any free one, see server_port)."""
    return make_server(config.host, config.port, build_app(config),
                       server_class=ThreadingServer, handler_class=Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="one-web", description=__doc__)
    parser.add_argument("--host", help="listen address (ONE_WEB_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (ONE_WEB_PORT, 9869)")
    parser.add_argument("--vm-log-dir", type=Path, metavar="DIR",
                        help="where oned writes VM logs (ONE_WEB_VM_LOGS, $ONE_VAR/vms)")
    parser.add_argument("--novnc-dir", type=Path, metavar="DIR",
                        help="noVNC's npm package (ONE_WEB_NOVNC, one/web/node_modules/@novnc/novnc)")
    parser.add_argument("--session-file", type=Path, metavar="FILE",
                        help="sign-ins kept across restarts, 0600 (ONE_WEB_SESSIONS, "
                             "~/.one/web_sessions.json; ONE_WEB_SESSIONS= keeps them in memory)")
    parser.add_argument("--exit-with", type=int, metavar="PID", help="stop when process PID ends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        config = WebConfig.from_env()
        config.host = args.host or config.host
        config.port = args.port if args.port is not None else config.port
        config.vm_log_dir = args.vm_log_dir or config.vm_log_dir
        config.novnc_dir = args.novnc_dir or config.novnc_dir
        config.session_file = args.session_file or config.session_file
        server = make(config)
    except (CliError, OSError, ValueError) as exc:
        print(f"one-web: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    return serve("one-web", server, config.host, args.exit_with)


if __name__ == "__main__":
    sys.exit(main())
