"""HTTP/1.1 keep-alive, introspection, and what the transport refuses (issue 10 item 6)."""
from __future__ import annotations

import http.client
import socket
import xmlrpc.client
from pathlib import Path
from urllib.parse import urlparse

from conftest import ADMIN, Caller, start_oned
from one.daemon import Oned
from one.xmlrpc.http import HEAD_LIMIT


def _call(method: str, *params) -> bytes:
    return xmlrpc.client.dumps((ADMIN, *params), method).encode()


def test_keep_alive_serves_many_calls_on_one_connection(oned: Oned) -> None:
    url = urlparse(oned.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    for _ in range(5):
        conn.request("POST", "/RPC2", body=_call("one.system.version"))
        response = conn.getresponse()
        assert response.getheader("Connection") == "keep-alive"
        assert xmlrpc.client.loads(response.read())[0][0] == [True, "7.4.0", 0]
    conn.close()


def test_http10_closes_and_expect_continue_is_answered(oned: Oned) -> None:
    url = urlparse(oned.endpoint)
    body = _call("one.system.version")
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        assert b"7.4.0" in sock.recv(4096)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"POST /RPC2 HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        assert b"Connection: close" in data and b"7.4.0" in data


def test_introspection(oned: Oned) -> None:
    proxy = xmlrpc.client.ServerProxy(oned.endpoint)
    methods = proxy.system.listMethods()
    assert {"one.vm.allocate", "one.vmpool.info", "one.host.enable", "system.methodHelp"} <= set(methods)
    assert "hold" in proxy.system.methodHelp("one.vm.allocate")
    assert ["array", "string", "int"] in [s[:3] for s in proxy.system.methodSignature("one.vm.info")]


def _raw(oned: Oned, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes, read until the server closes the connection."""
    url = urlparse(oned.endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_ambiguous_lengths_are_refused(oned: Oned) -> None:
    body = _call("one.system.version")
    for headers in (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body)),
                    b"Content-Length: %d\r\nContent-Length: 5\r\n" % len(body),
                    b"Content-Length: %d, %d\r\n" % (len(body), len(body)),
                    b"Content-Length: \xb2\r\n"):
        reply = _raw(oned, b"POST /RPC2 HTTP/1.1\r\n" + headers + b"\r\n" + body)
        assert reply.startswith(b"HTTP/1.1 400 Bad Request"), (headers, reply)
    chunked = _raw(oned, b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert chunked.startswith(b"HTTP/1.1 501")


def test_idle_connections_are_closed(tmp_path: Path) -> None:
    oned = start_oned(tmp_path, config_text="KEEPALIVE_TIMEOUT = 1\n")
    try:
        body = _call("one.system.version")
        request = b"POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        reply = _raw(oned, request)  # returns only because the server hangs up when idle
        assert reply.count(b"HTTP/1.1 200 OK") == 1 and b"keep-alive" in reply
    finally:
        oned.stop()


def _head_only(oned: Oned, session: str | int, length: int, method: str = "one.vm.update") -> bytes:
    """A call claiming `length` bytes of which only the first 64 KiB are sent."""
    head = xmlrpc.client.dumps((session, 0, "A=" + "x" * HEAD_LIMIT), method).encode()
    return _raw(oned, b"POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % length
                + head[:HEAD_LIMIT])


def test_anonymous_bodies_are_refused_before_they_are_read(oned: Oned) -> None:
    reply = _head_only(oned, "oneadmin:wrong", 100 * 1024 * 1024)
    assert b"Connection: close" in reply and b"couldn't be authenticated" in reply
    assert b"<i4>256</i4>" in reply  # AUTHENTICATION
    unknown = _head_only(oned, "oneadmin:wrong", 100 * 1024 * 1024, method="one.no.such")
    assert b"Method 'one.no.such' not defined" in unknown
    nameless = _raw(oned, b"POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (10 * HEAD_LIMIT)
                    + b"<?xml version='1.0'?><methodCall>" + b" " * HEAD_LIMIT)
    assert b"must start with its methodName and the session" in nameless
    unreadable = _head_only(oned, 7, 100 * 1024 * 1024)  # a session that is no string
    assert b"<boolean>0</boolean>" in unreadable and b"<i4>256</i4>" in unreadable
    assert b"[one.vm.update] User couldn't be authenticated: a request over" in unreadable


def test_authenticated_bodies_are_capped_by_message_size(tmp_path: Path) -> None:
    oned = start_oned(tmp_path, config_text=f"MESSAGE_SIZE = {3 * HEAD_LIMIT}\n")
    try:
        rpc = Caller(oned.endpoint)
        vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
        rpc.ok("one.vm.update", vid, "BIG = " + "y" * (2 * HEAD_LIMIT), 1)  # read in two steps
        assert "y" * (2 * HEAD_LIMIT) in rpc.ok("one.vm.info", vid)
        refused = rpc.fails("one.vm.update", vid, "BIG = " + "z" * (3 * HEAD_LIMIT), 1, code=0x1000)
        assert "exceeds MESSAGE_SIZE" in refused
    finally:
        oned.stop()
