"""XML-RPC plumbing shared by the load phase and the timed requests.

oned answers `[ok, value, code]` with HTTP 200 even on failure, so a reply is
only a success once its first element says so.
"""
from __future__ import annotations

import xml.sax.saxutils
import xmlrpc.client
from typing import Any

SESSION = "oneadmin:benchpw"
_SUCCESS = b"<boolean>1</boolean>"  # the first element of a success reply ...
_HEAD = 200                         # ... within this many bytes of its start


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


def as_reply(reply: object) -> list[Any]:
    """`reply` as oned's `[ok, value, code]` list, which xmlrpc.client types as any value
    XML-RPC can carry; BenchError if it is something else."""
    if not isinstance(reply, list):
        raise BenchError(f"not an oned reply: {reply!r:.200}")
    return reply


def reply_value(method: str, body: bytes) -> Any:
    """The value of an `[true, value, ...]` reply; BenchError otherwise, as a fast error
    would flatter the figures."""
    (raw,), _ = xmlrpc.client.loads(body)
    reply = as_reply(raw)
    if not reply[0]:
        raise BenchError(f"{method} answered an error: {reply[1]}")
    return reply[1]


def succeeded(method: str, body: bytes) -> bytes:
    """`body` if it is a success reply, found without decoding it: polling a listing of
    megabytes must not cost the client the CPU the server needs. Failures are decoded,
    so that the error raised carries the server's message."""
    if _SUCCESS not in body[:_HEAD]:
        reply_value(method, body)
    return body


def escaped(fragment: str) -> bytes:
    """`fragment` as a raw reply holds it: oned's documents travel as escaped strings.

    Counting these bytes spares decoding megabytes of XML just to count elements.
    """
    return xml.sax.saxutils.escape(fragment).encode()
