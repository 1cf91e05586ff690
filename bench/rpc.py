"""XML-RPC plumbing shared by the load phase and the timed requests.

oned answers `[ok, value, code]` with HTTP 200 even on failure, so a reply is
only a success once its first element says so.
"""
from __future__ import annotations

import xmlrpc.client
from typing import Any

SESSION = "oneadmin:benchpw"


class BenchError(RuntimeError):
    """The benchmark cannot go on: the server failed or answered an error."""


def call(proxy: xmlrpc.client.ServerProxy, method: str, *params: Any) -> Any:
    """Call `method` with the session prepended; the value, or BenchError on an error reply."""
    ok, value, *_ = getattr(proxy, method)(SESSION, *params)
    if not ok:
        raise BenchError(f"{method}{params!r:.200} failed: {value}")
    return value


def request_body(method: str, *params: Any) -> bytes:
    """The POST body of one call, as `ab` and the raw timer send it."""
    return xmlrpc.client.dumps((SESSION, *params), methodname=method).encode()


def check_success(method: str, body: bytes) -> None:
    """Raise unless `body` is an `[true, ...]` reply: a fast error would flatter the figures."""
    (reply,), _ = xmlrpc.client.loads(body)
    if not reply[0]:
        raise BenchError(f"{method} answered an error: {reply[1]}")
