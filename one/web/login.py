"""Sign-in with an OpenNebula user and password, sign-out.

The password is used once, to ask oned for a login token (`one.user.login`);
the console then acts with `user:token`, kept server-side in `Sessions`.
"""
from __future__ import annotations

import secrets

from one.cli.client import Client
from one.cli.errors import ServerError
from one.web.app import Page, Route
from one.web.http import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Response, redirect

AUTHENTICATION = 0x100


def login_form(page: Page, message: str = "", status: str = "200 OK") -> Response:
    token = secrets.token_urlsafe(32)
    response = page.render("login.html", status, login_csrf=token, message=message)
    return response.cookie(LOGIN_CSRF_COOKIE, token)


def sign_in(page: Page) -> Response:
    user = page.request.form.get("username", "").strip()
    password = page.request.form.get("password", "")
    if not user or not password or ":" in user:
        return login_form(page, "Give a user name and a password.", "400 Bad Request")
    client = Client(page.app.config.one_xmlrpc, f"{user}:{password}")
    try:
        token = client.call("one.user.login", user, "", page.app.config.token_seconds, -1)
    except ServerError as error:
        if error.code != AUTHENTICATION:
            raise
        return login_form(page, "Wrong user name or password.", "401 Unauthorized")
    sid = page.app.sessions.open(user, str(token))
    return redirect("/").cookie(SESSION_COOKIE, sid).cookie(LOGIN_CSRF_COOKIE, "", 0)


def sign_out(page: Page) -> Response:
    """Forgets the browser's login and revokes its token in oned (valid = 0)."""
    login = page.app.sessions.close(page.request.cookies.get(SESSION_COOKIE, ""))
    if login is not None:
        page.client.call("one.user.login", login.user, login.token, 0, -1)
    return redirect("/login").cookie(SESSION_COOKIE, "", 0)


ROUTES = [
    Route("GET", "/login", login_form, public=True),
    Route("POST", "/login", sign_in, public=True),
    Route("POST", "/logout", sign_out),
]
