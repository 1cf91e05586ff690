"""HTTP/1.1 keep-alive and introspection."""
from __future__ import annotations

import http.client
import socket
import xmlrpc.client
from urllib.parse import urlparse

from conftest import ADMIN
from one.daemon import Oned


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
