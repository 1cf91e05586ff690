"""The XML-RPC connection, configured the way OpenNebula's tools are.

`ONE_XMLRPC` names the endpoint and `ONE_AUTH` a file holding
`user:password`, so the same shell setup drives both implementations.
"""
from __future__ import annotations

import http.client
import os
import urllib.parse
import xmlrpc.client
from pathlib import Path
from typing import Any, Mapping

from one.cli.errors import UNREACHABLE, CliError, ServerError
from one.cli.files import read_file

DEFAULT_ENDPOINT = "http://localhost:2633/RPC2"
DEFAULT_AUTH = "~/.one/one_auth"


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
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise CliError(f"Cannot connect to {self.endpoint}: {reason}",
                           UNREACHABLE) from None
        except xmlrpc.client.ResponseError as exc:
            raise CliError(f"Bad reply from {self.endpoint}: {exc}", UNREACHABLE) from None
