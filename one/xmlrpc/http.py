"""A small threaded HTTP/1.1 server for XML-RPC POSTs, with keep-alive.

The standard library's http.server parses headers through the email package
and costs more than the XML-RPC call itself; this reads exactly what an
XML-RPC POST needs (request line, Content-Length, Connection, Expect).

Bodies are read in two steps: at most HEAD_LIMIT bytes, which the application
uses to authenticate the caller (`Application.admit`), and only then the
rest. An anonymous client can therefore make the server read no more than
HEAD_LIMIT bytes. Idle keep-alive connections are closed after
`idle_timeout` seconds. Requests whose length is ambiguous (several or
malformed Content-Length headers, any Transfer-Encoding) are refused, as a
proxy in front might frame them differently.
"""
from __future__ import annotations

import logging
import socket
import socketserver
from dataclasses import dataclass
from typing import Any, Protocol

HEAD_LIMIT = 64 * 1024
MAX_HEADER_LINES = 100
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Admission:
    """The application's answer to the head of a body: a reply to send at once
    (the connection then closes, the rest is never read), or a ticket to hand
    back with the whole body."""

    refusal: list[bytes] | None = None
    ticket: Any = None


class Application(Protocol):
    def admit(self, head: bytes, length: int, peer: str) -> Admission: ...

    def serve(self, body: bytes, ticket: Any) -> list[bytes]: ...


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
        name = name.strip().lower()
        if name == "content-length" and name in headers:
            raise _Request("400 Bad Request")  # duplicate: which one frames the body?
        headers[name] = value.strip()
    raise _Request("431 Request Header Fields Too Large")


class _Connection(socketserver.StreamRequestHandler):
    rbufsize = 65536
    disable_nagle_algorithm = True
    server: XmlRpcHttpServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)  # idle keep-alive limit

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
        app: Application = self.server.application
        try:
            head = _read_head(self.rfile)
            if head is None:
                return False
            method, path, version, headers = head
            close = headers.get("connection", "").lower() == "close" or (
                version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive")
            length = self._length(method, path, headers)
            first = self._read(min(length, HEAD_LIMIT))
        except _Request as refusal:
            self._send(refusal.status, [refusal.status.encode()], True, "text/plain")
            return False
        admission = app.admit(first, length, self.client_address[0])
        if admission.refusal is not None:
            self._send("200 OK", admission.refusal, True)
            return False
        body = first + self._read(length - len(first)) if length > len(first) else first
        self._send("200 OK", app.serve(body, admission.ticket), close)
        return not close

    def _length(self, method: str, path: str, headers: dict[str, str]) -> int:
        if method != "POST":
            raise _Request("405 Method Not Allowed")
        if path.split("?")[0] not in self.server.paths:
            raise _Request("404 Not Found")
        if "transfer-encoding" in headers:
            raise _Request("501 Not Implemented")
        length = headers.get("content-length")
        if length is None:
            raise _Request("411 Length Required")
        if not (length.isascii() and length.isdigit()):
            raise _Request("400 Bad Request")
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return int(length)

    def _read(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) != size:
            raise ConnectionError("client closed mid-request")
        return data


class XmlRpcHttpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One thread per connection; connections stay open between calls."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], application: Application,
                 idle_timeout: float = 15.0, paths: tuple[str, ...] = ("/RPC2", "/")) -> None:
        self.application = application
        self.idle_timeout = idle_timeout
        self.paths = paths
        super().__init__(address, _Connection)

    @property
    def port(self) -> int:
        return self.server_address[1]
