"""The XML-RPC connection, configured the way OpenNebula's tools are.

`ONE_XMLRPC` names the endpoint and `ONE_AUTH` a file holding
`user:password`, so the same shell setup drives both implementations.
"""
from __future__ import annotations

import http.client
import os
import re
import urllib.parse
import xmlrpc.client
from pathlib import Path
from typing import Any, Mapping

from lxml import etree

from one.cli.errors import UNREACHABLE, CliError, ServerError
from one.cli.files import read_file

DEFAULT_ENDPOINT = "http://localhost:2633/RPC2"
DEFAULT_AUTH = "~/.one/one_auth"
_HUGE = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
# The start of a successful reply whose value is a string, as oned (and xmlrpc-c) write it.
_SUCCESS = re.compile(
    rb"\s*(?:<\?xml version=[\"']1\.0[\"'](?:\s+encoding=[\"'](?i:utf-8)[\"'])?\s*\?>)?\s*"
    rb"<methodResponse>\s*<params>\s*<param>\s*<value>\s*<array>\s*<data>\s*"
    rb"<value>\s*<boolean>1</boolean>\s*</value>\s*<value>\s*<string>")
_ENTITY = re.compile(rb"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {b"lt": b"<", b"gt": b">", b"amp": b"&", b"quot": b'"', b"apos": b"'"}


def read_session(path: str) -> str:
    """The first line of the auth file; oned expects exactly `user:password`."""
    file = Path(path).expanduser()
    line = read_file(file, "ONE_AUTH file").strip().splitlines()
    if not line or ":" not in line[0]:
        raise CliError(f"ONE_AUTH file {file} must contain 'user:password'")
    return line[0].strip()


def endpoint(text: str) -> str:
    """ONE_XMLRPC as an operator writes it: `host:2633/RPC2` means http://host:2633/RPC2
    (xmlrpc.client adds /RPC2 when no path is given)."""
    url = text.strip()
    if "://" not in url:
        url = f"http://{url}"
    parts = urllib.parse.urlsplit(url)
    try:
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and (
            parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number in 0-65535
        usable = False
    if not usable:
        raise CliError(f"ONE_XMLRPC '{text}' is not an XML-RPC endpoint such as "
                       f"{DEFAULT_ENDPOINT}")
    return url


class Client:
    """Calls ONE methods and turns every failure into a CliError."""

    def __init__(self, endpoint: str, session: str) -> None:
        self.endpoint = endpoint
        self.session = session
        self._proxy = xmlrpc.client.ServerProxy(endpoint)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Client:
        env = os.environ if environ is None else environ
        auth = env.get("ONE_AUTH") or DEFAULT_AUTH
        return cls(endpoint(env.get("ONE_XMLRPC") or DEFAULT_ENDPOINT), read_session(auth))

    def call(self, method: str, *args: Any) -> Any:
        """The reply's value; a `[False, ...]` reply raises ServerError."""
        reply = self._send(method, args)
        if not isinstance(reply, list) or len(reply) < 2:
            raise ServerError(f"[{method}] Unexpected reply: {reply!r}", 0)
        if reply[0] is not True:
            code = reply[2] if len(reply) > 2 and isinstance(reply[2], int) else 0
            raise ServerError(str(reply[1]), code)
        return reply[1]

    def _send(self, method: str, args: tuple[Any, ...]) -> Any:
        try:
            return getattr(self._proxy, method)(self.session, *args)
        except xmlrpc.client.Fault as fault:
            raise ServerError(f"[{method}] {fault.faultString}", fault.faultCode) from None
        except xmlrpc.client.ProtocolError as exc:
            raise CliError(f"{self.endpoint} is not an XML-RPC server: "
                           f"HTTP {exc.errcode} {exc.errmsg}", UNREACHABLE) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None
        except xmlrpc.client.ResponseError as exc:
            raise CliError(f"Bad reply from {self.endpoint}: {exc}", UNREACHABLE) from None

    def _unreachable(self, exc: Exception) -> CliError:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return CliError(f"Cannot connect to {self.endpoint}: {reason}", UNREACHABLE)

    def document(self, method: str, *args: Any) -> etree._Element:
        """`call` for a method whose value is an XML document, returned parsed.

        A listing of 10,000 VMs is megabytes, which xmlrpc.client's decoder
        takes seconds over: a successful reply's document is cut out of the
        bytes and parsed once by lxml; anything else goes through lxml twice.
        """
        parts = urllib.parse.urlsplit(self.endpoint)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname or "localhost", parts.port)
        body = xmlrpc.client.dumps((self.session, *args), methodname=method).encode()
        try:
            connection.request("POST", parts.path or "/RPC2", body, {"Content-Type": "text/xml"})
            reply = connection.getresponse()
            raw = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None
        finally:
            connection.close()
        if reply.status != 200:
            raise CliError(f"{self.endpoint} is not an XML-RPC server: HTTP {reply.status} "
                           f"{reply.reason}", UNREACHABLE)
        return _document_value(method, raw)


def _value_text(value: etree._Element | None) -> str:
    """An XML-RPC <value>: its typed child's text, or its own (an untyped string)."""
    if value is None:
        return ""
    return "".join(value.itertext())


def _unescaped(match: re.Match[bytes]) -> bytes:
    name = match.group(1)
    if name.startswith(b"#"):
        number = int(name[2:], 16) if name[1:2] == b"x" else int(name[1:])
        return chr(number).encode()
    return _NAMED[name]


def _success_document(raw: bytes) -> bytes | None:
    """The document of `[true, "<escaped XML>", ...]` taken straight from the bytes, so
    the megabytes are parsed once, not as the envelope's text and then again as XML;
    None for any other shape (a failure, a fault, markup inside the string)."""
    head, end = _SUCCESS.match(raw), raw.rfind(b"</string>")
    if head is None or end < head.end():
        return None
    text = raw[head.end():end]
    if b"<" in text:
        return None
    if b"&#" in text:
        return _ENTITY.sub(_unescaped, text)
    return (text.replace(b"&lt;", b"<").replace(b"&gt;", b">").replace(b"&quot;", b'"')
            .replace(b"&apos;", b"'").replace(b"&amp;", b"&"))


def _document_value(method: str, raw: bytes) -> etree._Element:
    try:
        document = _success_document(raw)
        if document is not None:
            return etree.fromstring(document, _HUGE)
        root = etree.fromstring(raw, _HUGE)
        values = root.findall("params/param/value/array/data/value")
        if root.find("fault") is not None or len(values) < 2:
            raise ServerError(f"[{method}] Unexpected reply", 0)
        if _value_text(values[0]).strip() not in ("1", "true"):
            code = _value_text(values[2]) if len(values) > 2 else "0"
            raise ServerError(_value_text(values[1]), int(code) if code.isdigit() else 0)
        return etree.fromstring(_value_text(values[1]).encode(), _HUGE)
    except etree.XMLSyntaxError as exc:
        raise ServerError(f"[{method}] Unreadable reply: {exc}", 0) from None
