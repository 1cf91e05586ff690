"""OneFlow's REST API: routes, HTTP Basic auth checked against oned, JSON in and out.

Every request acts with its caller's own session, so oned decides what the
caller may read or change (403 / 404 come from its codes); the reconcile loop's
mutex keeps a request's body change and a step from overwriting each other.
oned authenticates every call, so the credentials are proved by the request's
first call made with them (every handler makes its first oned call with the
caller's session, before anything with the server's own): a login call of its
own is made only when a request ends with none of its calls answered.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from lxml import etree
from one.cli.client import Client
from one.cli.errors import CliError, ServerError
from one.flow.documents import Documents
from one.flow.lifecycle import Reconciler
from one.flow.errors import BadRequest
from one.flow.model import SERVICE_TYPE, TEMPLATE_TYPE

AUTHENTICATION = 0x100
# oned's error codes as OneFlow answers them
_HTTP = {AUTHENTICATION: 401, 0x200: 403, 0x400: 404, 0x1000: 400}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Reply:
    status: int
    body: Any = None


@dataclass
class Request:
    method: str
    path: str
    auth: str | None
    data: bytes


Handler = Callable[["Call", dict[str, str]], Reply]


class Caller(Client):
    """The caller's session; `proved` once oned has answered one of its calls with
    anything but an authentication failure (False: refused; None: not yet known)."""

    def __init__(self, endpoint: str, session: str) -> None:
        super().__init__(endpoint, session)
        self.proved: bool | None = None

    def call(self, method: str, *args: Any) -> Any:
        return self._noting(super().call, method, args)

    def document(self, method: str, *args: Any) -> etree._Element:
        return self._noting(super().document, method, args)

    def _noting(self, send: Callable[..., Any], method: str, args: tuple[Any, ...]) -> Any:
        try:
            value = send(method, *args)
        except ServerError as error:
            if error.code == AUTHENTICATION:
                self.proved = False
            elif error.code != 0:  # 0: no answer of oned's own (unreadable reply)
                self.proved = True
            raise
        self.proved = True
        return value


class Call:
    """One authenticated request: its caller's documents and the JSON it sent."""

    def __init__(self, app: App, client: Caller, data: bytes) -> None:
        self.app, self.client, self.data = app, client, data
        self.templates = Documents(client, TEMPLATE_TYPE)
        self.services = Documents(client, SERVICE_TYPE)

    def json(self) -> Any:
        try:
            return json.loads(self.data or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The body is not JSON") from None

    def action(self) -> tuple[str, dict[str, Any]]:
        sent = self.json()
        action = sent.get("action") if isinstance(sent, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("perform"), str):
            raise BadRequest('Expected {"action": {"perform": ..., "params": {...}}}')
        params = action.get("params") or {}
        if not isinstance(params, dict):
            raise BadRequest("params must be an object")
        return action["perform"], params


class App:
    """The route table and the dispatch of one request to a reply."""

    def __init__(self, endpoint: str, loop: Reconciler) -> None:
        self.endpoint, self.loop = endpoint, loop
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", pattern)
        self.routes.append((method, re.compile(f"^{regex}/?$"), handler))

    def handle(self, request: Request) -> Reply:
        try:
            matched, known = self._match(request)
            if matched is None:
                raise HttpError(405 if known else 404, f"No {request.method} {request.path}")
            handler, args = matched
            call = Call(self, self._caller(request.auth), request.data)
            try:
                reply = handler(call, args)
            finally:  # a 401 goes before any other answer
                self._prove(call.client)
            return reply
        except HttpError as error:
            return _error(error.status, str(error))
        except BadRequest as error:
            return _error(400, str(error))
        except ServerError as error:
            return _error(_HTTP.get(error.code, 500), str(error))
        except CliError as error:
            return _error(500, str(error))

    def _match(self, request: Request) -> tuple[tuple[Handler, dict[str, str]] | None, bool]:
        known = False
        for method, regex, handler in self.routes:
            found = regex.match(request.path.split("?")[0])
            if found:
                known = True
                if method == request.method:
                    return (handler, found.groupdict()), True
        return None, known

    def _caller(self, header: str | None) -> Caller:
        """The caller's session from HTTP Basic (oned proves it with the first call)."""
        if not header or not header.startswith("Basic "):
            raise HttpError(401, "Authentication required (HTTP Basic)")
        try:
            session = base64.b64decode(header[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise HttpError(401, "Malformed HTTP Basic credentials") from None
        if ":" not in session:
            raise HttpError(401, "Malformed HTTP Basic credentials")
        return Caller(self.endpoint, session)

    @staticmethod
    def _prove(caller: Caller) -> None:
        """Asks oned who the caller is when no call of the request did (a request refused
        before it reached oned): a wrong password is a 401, not the refusal."""
        if caller.proved is None:
            caller.call("one.user.info", -1)


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"error": {"message": message}})
