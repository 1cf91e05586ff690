"""The server side of RFC 6455 WebSockets, as much as a byte relay needs.

The console's VNC proxy carries RFB bytes in binary messages; this module does the
opening handshake (section 4.2), reads the browser's masked frames and writes
unmasked ones (section 5), answers pings and closes (5.5). It works on the plain
socket files wsgiref's request handler has, so no second server or event loop is
needed: a dozen lines of framing are less to keep than a dependency for them.
"""
from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from typing import BinaryIO

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455, 1.3
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_PAYLOAD = 1 << 20     # a browser's frame larger than this ends the connection
CHUNK = 1 << 16           # bytes read from the TCP side at once


class ProtocolError(Exception):
    """The peer broke RFC 6455 (unmasked frame, oversized payload, early end)."""

    def __init__(self, message: str, status: int = 1002) -> None:
        super().__init__(message)
        self.status = status   # the close frame's code: 1002 protocol error, 1009 too big


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for the client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key.strip().encode() + GUID).digest()).decode()


def handshake_reply(key: str, protocol: str = "") -> bytes:
    """101 Switching Protocols, with the subprotocol chosen ("" for none)."""
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_key(key)}"]
    if protocol:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frame(opcode: int, payload: bytes = b"") -> bytes:
    """One final, unmasked frame (a server never masks)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    """(opcode, unmasked payload) of the next frame from the browser."""
    first, second = _exactly(stream, 2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _exactly(stream, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _exactly(stream, 8))[0]
    if not second & 0x80:
        raise ProtocolError("a client's frame must be masked")
    if size > MAX_PAYLOAD:
        raise ProtocolError(f"frame of {size} bytes", 1009)
    mask = _exactly(stream, 4)
    data = _exactly(stream, size)
    return first & 0x0F, _unmask(data, mask)


def _unmask(data: bytes, mask: bytes) -> bytes:
    """XOR with the repeated 4-byte mask, as one big integer (not byte by byte)."""
    key = (mask * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(len(data), "big")


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise ProtocolError("connection closed inside a frame")
    return data


class Relay:
    """Binary messages from the browser to a TCP peer and the peer's bytes back, until
    either side closes; one thread each way."""

    def __init__(self, rfile: BinaryIO, client: socket.socket, peer: socket.socket) -> None:
        self.rfile, self.client, self.peer = rfile, client, peer
        self._send = threading.Lock()   # frames from both threads never interleave
        self._closed = False            # a close frame went out: nothing may follow it

    def run(self) -> None:
        back = threading.Thread(target=self._peer_to_client, daemon=True, name="ws-relay")
        back.start()
        try:
            self._client_to_peer()
        finally:
            _shutdown(self.peer)   # wakes the other thread's recv
            back.join()
            self.peer.close()

    def _client_to_peer(self) -> None:
        try:
            while True:
                opcode, payload = read_frame(self.rfile)
                if opcode in (BINARY, CONTINUATION):
                    self.peer.sendall(payload)
                elif opcode == PING:
                    self._write(frame(PONG, payload))
                elif opcode == CLOSE:
                    self._close(payload[:2])
                    return
                elif opcode == TEXT:   # RFB is binary (no base64 subprotocol here)
                    self._close(struct.pack("!H", 1003))
                    return
        except ProtocolError as error:
            self._close(struct.pack("!H", error.status))
        except OSError:
            return

    def _peer_to_client(self) -> None:
        try:
            while data := self.peer.recv(CHUNK):
                self._write(frame(BINARY, data))
            self._close(struct.pack("!H", 1000))
        except OSError:
            pass
        finally:
            _shutdown(self.client, socket.SHUT_RD)   # ends the read of the browser's side

    def _write(self, data: bytes, last: bool = False) -> None:
        with self._send:
            if not self._closed:
                self.client.sendall(data)
            self._closed = self._closed or last

    def _close(self, status: bytes) -> None:
        self._write(frame(CLOSE, status), last=True)


def _shutdown(sock: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    try:
        sock.shutdown(how)
    except OSError:   # already closed by the other side
        pass
