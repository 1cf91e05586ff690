"""The XML-RPC connection, configured the way OpenNebula's tools are.

`ONE_XMLRPC` names the endpoint and `ONE_AUTH` a file holding
`user:password`, so the same shell setup drives both implementations.
"""
from __future__ import annotations

import base64
import http.client
import os
import re
import threading
import urllib.parse
import xmlrpc.client
from pathlib import Path
from typing import Any, Mapping
from xml.parsers.expat import ExpatError

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
# Idle keep-alive connections a Client keeps; what a pooled one may fail with when the
# server closed it while it was idle (oned does after 15 s).
POOLED = 8
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError,
          BrokenPipeError)
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
    """Calls ONE methods and turns every failure into a CliError.

    Calls go over keep-alive connections kept in a small pool, so a server that
    makes many calls (oneflow-server, one-web) pays no TCP set-up nor a new oned
    connection thread per call, and threads may share one Client.
    """

    def __init__(self, endpoint: str, session: str) -> None:
        self.endpoint = endpoint
        self.session = session
        self._parts = urllib.parse.urlsplit(endpoint)
        self._headers = {"Content-Type": "text/xml"}
        if self._parts.username is not None:  # http://user:pass@host/, as ServerProxy takes it
            credentials = urllib.parse.unquote(self._parts.netloc.rpartition("@")[0])
            self._headers["Authorization"] = "Basic " + base64.b64encode(
                credentials.encode()).decode()
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

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
        raw = self._post(method, args)
        try:
            values, _ = xmlrpc.client.loads(raw)
        except xmlrpc.client.Fault as fault:
            raise ServerError(f"[{method}] {fault.faultString}", fault.faultCode) from None
        except (xmlrpc.client.ResponseError, ExpatError) as exc:
            raise CliError(f"Bad reply from {self.endpoint}: {exc}", UNREACHABLE) from None
        return values[0] if len(values) == 1 else values

    def _unreachable(self, exc: Exception) -> CliError:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return CliError(f"Cannot connect to {self.endpoint}: {reason}", UNREACHABLE)

    def document(self, method: str, *args: Any) -> etree._Element:
        """`call` for a method whose value is an XML document, returned parsed.

        A listing of 10,000 VMs is megabytes, which xmlrpc.client's decoder
        takes seconds over: a successful reply's document is cut out of the
        bytes and parsed once by lxml; anything else goes through lxml twice.
        """
        return _document_value(method, self._post(method, args))

    def _post(self, method: str, args: tuple[Any, ...]) -> bytes:
        """The reply's bytes. Should a pooled connection turn out closed by the server
        while idle (oned closes them after 15 s), the idle ones are dropped and the call
        sent once more on a new one, as xmlrpc.client's transport does."""
        body = xmlrpc.client.dumps((self.session, *args), methodname=method).encode(
            "utf-8", "xmlcharrefreplace")
        retry = True
        while True:
            connection, reused = self._connection()
            try:
                connection.request("POST", self._parts.path or "/RPC2", body, self._headers)
                reply = connection.getresponse()
                raw = reply.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if reused and retry and isinstance(exc, _STALE):
                    retry = False
                    self._drop_idle()
                    continue
                raise self._unreachable(exc) from None
            if reply.status != 200:
                connection.close()
                raise CliError(f"{self.endpoint} is not an XML-RPC server: HTTP {reply.status} "
                               f"{reply.reason}", UNREACHABLE)
            self._release(connection, reply.will_close)
            return raw

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle pooled connection (True: reused), else a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        kind = (http.client.HTTPSConnection if self._parts.scheme == "https"
                else http.client.HTTPConnection)
        return kind(self._parts.hostname or "localhost", self._parts.port), False

    def _release(self, connection: http.client.HTTPConnection, closing: bool) -> None:
        with self._lock:
            if not closing and len(self._idle) < POOLED:
                self._idle.append(connection)
                return
        connection.close()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


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
