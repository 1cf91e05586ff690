"""The OneFlow REST connection of `oneflow` and `oneflow-template`.

ONEFLOW_URL names the server (default http://127.0.0.1:2474); the credentials
are ONEFLOW_USER / ONEFLOW_PASSWORD, else the `user:password` of ONE_AUTH, as
OpenNebula's own tools take them. A refusal becomes a ServerError whose code is
the HTTP status and whose message is OneFlow's {"error": {"message": ...}}.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import urllib.parse
from typing import Any, Mapping

from one.cli.client import DEFAULT_AUTH, read_session
from one.cli.errors import UNREACHABLE, CliError, ServerError

DEFAULT_URL = "http://127.0.0.1:2474"
TIMEOUT = 60


class FlowClient:
    def __init__(self, url: str, session: str) -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CliError(f"ONEFLOW_URL '{url}' is not a URL such as {DEFAULT_URL}")
        self.parts, self.url = parts, url
        self.auth = "Basic " + base64.b64encode(session.encode()).decode()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FlowClient:
        env = os.environ if environ is None else environ
        if env.get("ONEFLOW_USER"):
            session = f"{env['ONEFLOW_USER']}:{env.get('ONEFLOW_PASSWORD', '')}"
        else:
            session = read_session(env.get("ONE_AUTH") or DEFAULT_AUTH)
        return cls(env.get("ONEFLOW_URL") or DEFAULT_URL, session)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The reply's JSON (None when it has none); an error status raises."""
        kind = http.client.HTTPSConnection if self.parts.scheme == "https" else \
            http.client.HTTPConnection
        base = self.parts.path.rstrip("/")
        try:
            conn = kind(self.parts.hostname or "", self.parts.port, timeout=TIMEOUT)
            conn.request(method, base + path, None if body is None else json.dumps(body),
                         {"Authorization": self.auth, "Content-Type": "application/json"})
            reply = conn.getresponse()
            text = reply.read()
            conn.close()
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise CliError(f"Cannot connect to {self.url}: {reason}", UNREACHABLE) from None
        try:
            data = json.loads(text) if text else None
        except ValueError:
            raise CliError(f"{self.url} is not a OneFlow server (HTTP {reply.status})",
                           UNREACHABLE) from None
        if reply.status >= 400:
            message = (data or {}).get("error", {}).get("message") if isinstance(data, dict) \
                else None
            raise ServerError(message or f"HTTP {reply.status}", reply.status)
        return data
