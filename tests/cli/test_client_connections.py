"""Client's keep-alive connections: one connection for many calls, a connection the server
closed while idle replaced without the caller noticing, threads sharing one Client, and
credentials in the endpoint URL sent as HTTP Basic (as xmlrpc.client's ServerProxy does)."""
from __future__ import annotations

import base64
import threading
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from conftest import ADMIN
from one.cli.client import Client
from one.daemon import Oned

REPLY = xmlrpc.client.dumps(([True, "<USER><ID>7</ID></USER>", 0],), methodresponse=True).encode()


class FakeOned(ThreadingHTTPServer):
    """Answers every XML-RPC POST with one reply; counts its connections and keeps the
    Authorization headers it got. `hang_up`: closes each connection after its reply
    without saying so, as a server whose idle keep-alive limit passed does."""

    daemon_threads = True

    def __init__(self, hang_up: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hang_up, self.connections, self.authorizations = hang_up, 0, []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/RPC2"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeOned

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.authorizations.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)
        self.close_connection = self.server.hang_up

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[False, True], ids=["keep-alive", "hang-up"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeOned]:
    server = FakeOned(hang_up=request.param)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_calls_share_one_connection_or_replace_a_closed_one(fake: FakeOned) -> None:
    client = Client(fake.url, "oneadmin:pw")
    for _ in range(5):
        assert client.call("one.user.info", -1) == "<USER><ID>7</ID></USER>"
        assert client.document("one.user.info", -1).findtext("ID") == "7"
    assert fake.connections == (10 if fake.hang_up else 1)


def test_credentials_in_the_endpoint_go_as_http_basic(fake: FakeOned) -> None:
    url = fake.url.replace("http://", "http://agent:s%40cret@")
    Client(url, "oneadmin:pw").call("one.user.info", -1)
    assert fake.authorizations == ["Basic " + base64.b64encode(b"agent:s@cret").decode()]


def test_threads_share_one_client(server: Oned) -> None:
    """On the CLI package's server: a process holds one database at a time."""
    client = Client(server.endpoint, ADMIN)

    def user(index: int) -> str | None:
        if index % 2:
            return client.document("one.user.info", 0).findtext("NAME")
        return "oneadmin" if "<NAME>oneadmin</NAME>" in client.call("one.user.info", 0) else None

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(user, range(200))) == {"oneadmin"}
