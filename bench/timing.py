"""Latency of one large reply: server time plus transfer, seen from a raw HTTP client.

The body is read whole but never parsed, so the figure is what the server
costs and not what xmlrpc.client would spend decoding megabytes of XML.
"""
from __future__ import annotations

import http.client
import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.rpc import reply_value, request_body

HEADERS = {"Content-Type": "text/xml", "Connection": "keep-alive"}


@dataclass
class Latency:
    median_ms: float
    p90_ms: float
    reply: bytes  # the checked warm-up reply, kept so callers can inspect what was timed

    @property
    def reply_mb(self) -> float:
        return len(self.reply) / 1e6


class Poster:
    """One keep-alive connection, so the timings hold no TCP handshake."""

    def __init__(self, address: tuple[str, int], path: str) -> None:
        self.connection = http.client.HTTPConnection(*address, timeout=120)
        self.path = path

    def post(self, body: bytes) -> bytes:
        try:
            self.connection.request("POST", self.path, body, HEADERS)
            reply = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # oned closes keep-alive connections idle past KEEPALIVE_TIMEOUT, as
            # xmlrpc.client's transport expects: reconnect once, as it does.
            self.connection.close()
            self.connection.request("POST", self.path, body, HEADERS)
            reply = self.connection.getresponse()
        data = reply.read()
        if reply.status != 200:
            raise http.client.HTTPException(f"HTTP {reply.status}: {data[:200]!r}")
        return data

    def checked(self, method: str, body: bytes) -> bytes:
        """One reply, verified to be a success before anything is timed on it."""
        data = self.post(body)
        reply_value(method, data)
        return data

    def call(self, method: str, *params: Any) -> Any:
        """The value of one call on this connection (the session is prepended)."""
        return reply_value(method, self.post(request_body(method, *params)))

    def close(self) -> None:
        self.connection.close()

    def latency(self, method: str, body: bytes, runs: int, warmup: int = 2) -> Latency:
        """Median and p90 of `runs` timed POSTs after `warmup` checked ones."""
        reply = self.checked(method, body)
        for _ in range(warmup - 1):
            self.post(body)
        samples = [self._timed(body) for _ in range(runs)]
        p90 = statistics.quantiles(samples, n=10)[-1] if runs > 1 else samples[0]
        return Latency(statistics.median(samples), p90, reply)

    def _timed(self, body: bytes) -> float:
        start = time.perf_counter()
        self.post(body)
        return (time.perf_counter() - start) * 1000
