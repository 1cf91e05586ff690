"""What the servers beside oned (one-econe, one-web, oneflow-server) share.

They are clients of oned, so this module imports nothing of oned's own.
"""
from __future__ import annotations

import logging
import os
import socketserver
import threading
import time
from typing import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request, so a slow client holds no one up."""

    daemon_threads = True


def access_logged(name: str) -> type[WSGIRequestHandler]:
    """A request handler that writes its access lines to logger `name`, not stderr."""
    class Handler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - wsgiref's
            logging.getLogger(name).info(format, *args)
    return Handler


def exit_with(pid: int, stop: Callable[[], None]) -> None:
    """Call `stop` once process `pid` is gone: `make run` starts the servers in the
    background, where the shell ignores Ctrl-C for them, so they end with make."""
    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                stop()
                return
            except PermissionError:  # alive, owned by someone else
                continue
    threading.Thread(target=watch, daemon=True, name="exit-with").start()


def serve(name: str, server: WSGIServer, host: str, parent: int | None) -> int:
    """Announce the server on stdout and serve until Ctrl-C or the end of `parent`."""
    if parent:
        exit_with(parent, server.shutdown)
    print(f"{name} listening on http://{host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
