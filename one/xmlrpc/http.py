"""A small threaded HTTP/1.1 server for XML-RPC POSTs, with keep-alive.

The standard library's http.server parses headers through the email package
and costs more than the XML-RPC call itself; this reads exactly what an
XML-RPC POST needs (request line, Content-Length, Connection, Expect).
"""
from __future__ import annotations

import logging
import socket
import socketserver
from typing import Callable

Handler = Callable[[bytes], "list[bytes]"]
MAX_BODY = 256 * 1024 * 1024
MAX_HEADER_LINES = 100
log = logging.getLogger(__name__)


class _Request(Exception):
    """An HTTP-level refusal: status line and whether to close."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _read_head(rfile) -> tuple[str, str, str, dict[str, str]] | None:
    line = rfile.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        raise _Request("400 Bad Request")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = rfile.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            return parts[0], parts[1], parts[2], headers
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    raise _Request("431 Request Header Fields Too Large")


class _Connection(socketserver.StreamRequestHandler):
    rbufsize = 65536
    disable_nagle_algorithm = True

    def _send(self, status: str, chunks: list[bytes], close: bool, ctype: str = "text/xml") -> None:
        length = sum(len(chunk) for chunk in chunks)
        head = (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n"
                f"{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n").encode()
        # One join beats a Python loop over thousands of documents (sendmsg).
        self.connection.sendall(b"".join([head, *chunks]))

    def handle(self) -> None:
        try:
            while self._one_request():
                pass
        except (ConnectionError, socket.timeout):
            pass

    def _one_request(self) -> bool:
        try:
            head = _read_head(self.rfile)
            if head is None:
                return False
            method, path, version, headers = head
            close = headers.get("connection", "").lower() == "close" or (
                version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive")
            body = self._body(method, path, headers)
        except _Request as refusal:
            self._send(refusal.status, [refusal.status.encode()], True, "text/plain")
            return False
        self._send("200 OK", self.server.xmlrpc_handler(body), close)
        return not close

    def _body(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        if method != "POST":
            raise _Request("405 Method Not Allowed")
        if path.split("?")[0] not in self.server.paths:
            raise _Request("404 Not Found")
        length = headers.get("content-length", "")
        if not length.isdigit():
            raise _Request("411 Length Required")
        if int(length) > MAX_BODY:
            raise _Request("413 Payload Too Large")
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise ConnectionError("client closed mid-request")
        return body


class XmlRpcHttpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One thread per connection; connections stay open between calls."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: Handler,
                 paths: tuple[str, ...] = ("/RPC2", "/")) -> None:
        self.xmlrpc_handler = handler
        self.paths = paths
        super().__init__(address, _Connection)

    @property
    def port(self) -> int:
        return self.server_address[1]
