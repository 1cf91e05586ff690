"""The console's WSGI application: routes as a table, sign-in and CSRF checks, error pages.

One app object (as datasette's): a route is (method, pattern, handler, public); a
handler gets the request's `Page` and the pattern's groups and returns a Response.
"""
from __future__ import annotations

import hmac
import logging
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from jinja2 import Environment, PackageLoader, select_autoescape

from one.cli.client import Client
from one.cli.errors import CliError, ServerError
from one.states import HistoryAction
from one.web.config import WebConfig
from one.web.http import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Request, Response, redirect
from one.web.session_file import SessionFile
from one.web.sessions import ConsoleTokens, Login, Sessions

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# oned's error codes as HTTP statuses: authentication, authorization, no such object
HTTP_STATUS = {0x100: "401 Unauthorized", 0x200: "403 Forbidden", 0x400: "404 Not Found"}
MAX_INT = 2**31 - 1  # oned's ids and offsets are XML-RPC i4


def whole(text: str) -> int | None:
    """`text` as a number oned can take (0..MAX_INT), or None: a URL's id, page, state."""
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= MAX_INT else None


class Refused(Exception):
    """A request the console itself turns down (bad form, missing CSRF token)."""

    def __init__(self, message: str, status: str = "400 Bad Request") -> None:
        super().__init__(message)
        self.message, self.status = message, status


class Page:
    """One request: who asks (None before sign-in), their oned client, rendering."""

    def __init__(self, app: WebApp, request: Request, login: Login | None) -> None:
        self.app, self.request, self.login = app, request, login
        self.client = Client(app.config.one_xmlrpc, login.session if login else "")

    def render(self, view: str, status: str = "200 OK", **values: Any) -> Response:
        body = self.app.templates.get_template(view).render(
            user=self.login.user if self.login else "", csrf=self.login.csrf if self.login else "",
            path=self.request.path, **values)
        return Response(body.encode(), status)

    def int_field(self, name: str, low: int = 0) -> int:
        text = self.request.form.get(name, "").strip()
        if not text.isdigit() or int(text) < low:
            raise Refused(f"{name} must be a whole number of at least {low}, not '{text}'")
        return int(text)


Handler = Callable[..., Response]


class Route:
    def __init__(self, method: str, pattern: str, handler: Handler, public: bool = False) -> None:
        self.method, self.handler, self.public = method, handler, public
        self.pattern = re.compile(f"^{pattern}$")


class WebApp:
    def __init__(self, config: WebConfig, routes: Iterable[Route]) -> None:
        self.config = config
        self.routes = list(routes)
        store = SessionFile(config.session_file) if config.session_file else None
        self.sessions = Sessions(config.token_seconds, store)
        self.console_tokens = ConsoleTokens()
        self.templates = Environment(loader=PackageLoader("one.web", "templates"),
                                     autoescape=select_autoescape(default=True))
        self.templates.filters.update(when=when, history_action=history_action)

    def __call__(self, environ: Mapping[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request = Request.from_environ(environ)
        response = self.handle(request)
        start_response(response.status, response.wsgi_headers())
        return [response.body]

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/static/"):
            return static(request.path[len("/static/"):])
        login = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        page = Page(self, request, login)
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match and route.method == request.method:
                return self._dispatch(page, route, match.groups())
        return page.render("error.html", "404 Not Found", message="No such page.")

    def _dispatch(self, page: Page, route: Route, groups: tuple[str, ...]) -> Response:
        if any(group.isdigit() and whole(group) is None for group in groups):
            return page.render("error.html", "404 Not Found", message="No such object.")
        try:
            if not route.public and page.login is None:
                if page.request.path.startswith("/api/"):
                    raise Refused("Not signed in.", "401 Unauthorized")
                return redirect("/login")
            if page.request.method == "POST":
                check_csrf(page)
            return route.handler(page, *groups)
        except Refused as refused:
            return page.render("error.html", refused.status, message=refused.message)
        except ServerError as error:
            status = HTTP_STATUS.get(error.code, "400 Bad Request")
            return page.render("error.html", status, message=f"oned: {error.message}")
        except CliError as error:
            log.warning("oned unreachable: %s", error.message)
            return page.render("error.html", "502 Bad Gateway", message=error.message)


def check_csrf(page: Page) -> None:
    """Every POST carries its form's token: the login's, or before sign-in the cookie's."""
    sent = page.request.form.get("csrf", "")
    if page.login is not None:
        expected = page.login.csrf
    else:
        expected = page.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Refused("The form's CSRF token is missing or wrong: reload the page and retry.",
                      "403 Forbidden")


def when(epoch: str | None) -> str:
    """oned's epoch seconds as a UTC time; 0 (not yet) as nothing."""
    seconds = int(epoch) if epoch and epoch.isdigit() else 0
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds)) if seconds else ""


def history_action(number: str | None) -> str:
    try:
        return HistoryAction(int(number or "0")).name.lower().replace("_", "-")
    except ValueError:
        return number or ""


def static(name: str) -> Response:
    file = STATIC / name
    if "/" in name or file.suffix not in STATIC_TYPES or not file.is_file():
        return Response(b"not found", "404 Not Found", "text/plain")
    return Response(file.read_bytes(), content_type=STATIC_TYPES[file.suffix])
