"""XML-RPC on the wire: requests parsed by the standard library, replies
written by hand.

Replies are OpenNebula's `[ok, value, code]` triples; writing them directly is
much faster than `xmlrpc.client.dumps` for multi-megabyte pool documents.
"""
from __future__ import annotations

import xmlrpc.client
from typing import Any

_HEAD = '<?xml version="1.0"?><methodResponse><params><param><value>'
_TAIL = "</value></param></params></methodResponse>"


class Escaped(list[bytes]):
    """A string value given as UTF-8 chunks already escaped for XML (stored
    documents): sent as they are, never joined or copied."""


class WireError(Exception):
    """The request body is not an XML-RPC call."""


def parse_request(body: bytes) -> tuple[str, tuple[Any, ...]]:
    try:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    except Exception as exc:  # expat and the unmarshaller raise many kinds
        raise WireError(f"Malformed XML-RPC request: {exc}") from None
    if not method:
        raise WireError("Malformed XML-RPC request: no methodName")
    return method, params


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def value_xml(value: Any) -> str:
    """One XML-RPC <value> body; ints beyond 32 bits become <i8>."""
    if value is True or value is False:
        return f"<boolean>{int(value)}</boolean>"
    if isinstance(value, int):
        tag = "i4" if -2**31 <= value < 2**31 else "i8"
        return f"<{tag}>{value}</{tag}>"
    if isinstance(value, str):
        return f"<string>{_escape(value)}</string>"
    if isinstance(value, float):
        return f"<double>{value!r}</double>"
    if isinstance(value, (list, tuple)):
        items = "".join(f"<value>{value_xml(v)}</value>" for v in value)
        return f"<array><data>{items}</data></array>"
    if isinstance(value, dict):
        members = "".join(f"<member><name>{_escape(str(k))}</name><value>{value_xml(v)}</value></member>"
                          for k, v in value.items())
        return f"<struct>{members}</struct>"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def reply(ok: bool, value: Any, code: int) -> list[bytes]:
    """`[ok, value, code]`, exactly three elements, as every client can read."""
    head = f"{_HEAD}<array><data><value><boolean>{int(ok)}</boolean></value><value>"
    tail = f"</value><value><i4>{code}</i4></value></data></array>{_TAIL}"
    if isinstance(value, Escaped):
        return [f"{head}<string>".encode(), *value, f"</string>{tail}".encode()]
    return [f"{head}{value_xml(value)}{tail}".encode()]


def raw_reply(value: Any) -> list[bytes]:
    """A bare value, for the `system.*` introspection methods."""
    return [f"{_HEAD}{value_xml(value)}{_TAIL}".encode()]


def fault(code: int, message: str) -> list[bytes]:
    struct = value_xml({"faultCode": code, "faultString": message})
    return [(f'<?xml version="1.0"?><methodResponse><fault><value>{struct}</value>'
             f"</fault></methodResponse>").encode()]
