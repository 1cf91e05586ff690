"""The little HTTP the console needs on top of WSGI: requests, responses, cookies."""
from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Mapping

MAX_FORM = 1 << 16
SESSION_COOKIE = "one_session"
LOGIN_CSRF_COOKIE = "one_login_csrf"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Request:
        form: dict[str, str] = {}
        if environ.get("REQUEST_METHOD") == "POST":
            size = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_FORM)
            form = _pairs(environ["wsgi.input"].read(size).decode("utf-8", "replace"))
        cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        return cls(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO") or "/",
                   _pairs(environ.get("QUERY_STRING", "")), form,
                   {key: morsel.value for key, morsel in cookies.items()})


def _pairs(text: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


@dataclass
class Response:
    body: bytes = b""
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def cookie(self, name: str, value: str, max_age: int | None = None) -> Response:
        """HttpOnly and SameSite=Strict: scripts cannot read it, other sites cannot send it."""
        text = f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"
        if max_age is not None:
            text += f"; Max-Age={max_age}"
        self.headers.append(("Set-Cookie", text))
        return self

    def wsgi_headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))),
                ("X-Frame-Options", "DENY"), ("Cache-Control", "no-store"), *self.headers]


def redirect(location: str) -> Response:
    return Response(status="303 See Other", headers=[("Location", location)])


def json_reply(value: Any) -> Response:
    return Response(json.dumps(value).encode(), content_type="application/json")
