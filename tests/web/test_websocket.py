"""The console's WebSocket framing (RFC 6455), through one-web's proxy to a TCP echo
server standing in for a VM's VNC server, with an independent client (websocket-client)."""
from __future__ import annotations

import os
import socket
import threading
from typing import Iterator

import pytest
import websocket
from websocket import ABNF

from web.conftest import Console, Http, wait
from web.vnc import connect, console_socket, running_vm

SIZES = (1, 125, 126, 65535, 65536, 300_000)   # each length encoding of RFC 6455 5.2


class Echo:
    """A TCP server on 127.0.0.1 that sends back what it gets, one connection at a time."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.ended = 0   # connections the other side has closed
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        for _ in range(50):
            try:
                conn, _ = self.listener.accept()
            except OSError:   # closed at the end of the test
                return
            with conn:
                while data := conn.recv(1 << 16):
                    conn.sendall(data)
            self.ended += 1


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.listener.close()


@pytest.fixture
def ws(console: Console, http: Http, echo: Echo) -> Iterator[websocket.WebSocket]:
    vid = running_vm(console, echo.port)
    http.sign_in()
    client = connect(console_socket(console, http, vid))
    yield client
    client.close()


def test_messages_of_every_length_go_through_both_ways(ws: websocket.WebSocket) -> None:
    for size in SIZES:
        sent = os.urandom(size)
        ws.send_binary(sent)
        got = b""
        while len(got) < size:
            got += ws.recv()
        assert got == sent, size


def test_a_ping_gets_its_pong(ws: websocket.WebSocket) -> None:
    ws.ping(b"are you there")
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert (opcode, frame.data) == (ABNF.OPCODE_PONG, b"are you there")


def closing(ws: websocket.WebSocket) -> int:
    """The status code of the close frame the proxy sends next (nothing else before it)."""
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == ABNF.OPCODE_CLOSE
    return int.from_bytes(frame.data[:2], "big")


def test_a_text_message_is_refused(ws: websocket.WebSocket, echo: Echo) -> None:
    ws.send("RFB as text")
    assert closing(ws) == 1003   # unsupported data: RFB is binary
    wait(lambda: echo.ended == 1)


@pytest.mark.parametrize("frame, status", [
    (b"\x82\x02hi", 1002),                                     # unmasked: protocol error
    (b"\x82\xff" + (2 << 20).to_bytes(8, "big") + b"mask", 1009),  # 2 MiB: too big
], ids=["unmasked", "oversized"])
def test_a_broken_frame_ends_the_connection(ws: websocket.WebSocket, echo: Echo,
                                            frame: bytes, status: int) -> None:
    ws.sock.sendall(frame)
    assert closing(ws) == status   # nothing of the frame relayed: no echo came first
    wait(lambda: echo.ended == 1)


def test_a_close_from_the_browser_closes_the_vnc_connection(ws: websocket.WebSocket,
                                                            echo: Echo) -> None:
    ws.send_binary(b"bye")
    assert ws.recv() == b"bye"
    ws.send_close()
    assert closing(ws) == 1000
    wait(lambda: echo.ended == 1)
