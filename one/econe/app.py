"""The WSGI application: read the request, authenticate it, run the action, answer XML.

Every failure becomes EC2's error document here and nowhere else; a bug
answers InternalError (500) rather than a traceback page.
"""
from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from one.cli.client import Client
from one.cli.errors import CliError
from one.econe import signature
from one.econe.config import EconeConfig
from one.econe.errors import Ec2Error
from one.econe.oned import Oned, refusal
from one.econe.xml import Element, Part, response

log = logging.getLogger("one.econe")
MAX_BODY = 1024 * 1024  # EC2 Query requests are small; UserData is at most 16 KiB


@dataclass
class Call:
    """One authenticated request, as an action sees it."""

    params: dict[str, str]
    client: Client     # oned, as the request's user
    uname: str
    config: EconeConfig

    def one(self, method: str, *args: Any, not_found: Ec2Error | None = None) -> Any:
        """An oned call as the user; its refusal in EC2's words."""
        try:
            return self.client.call(method, *args)
        except CliError as exc:
            raise refusal(exc, not_found) from None


    def document(self, method: str, *args: Any, not_found: Ec2Error | None = None) -> Element:
        """`one` for the methods whose value is an XML document, parsed."""
        try:
            return self.client.document(method, *args)
        except CliError as exc:
            raise refusal(exc, not_found) from None


Action = Callable[[Call], Iterable[Part]]

# Real EC2 actions one-econe does not offer (anything else is InvalidAction).
UNSUPPORTED = frozenset({
    "CreateVolume", "DeleteVolume", "AttachVolume", "DetachVolume", "DescribeVolumes",
    "CreateSnapshot", "DeleteSnapshot", "DescribeSnapshots", "CreateSecurityGroup",
    "DeleteSecurityGroup", "DescribeSecurityGroups", "AuthorizeSecurityGroupIngress",
    "CreateImage", "CopyImage", "ModifyInstanceAttribute", "DescribeInstanceStatus",
    "CreateVpc", "DescribeVpcs", "CreateSubnet", "DescribeSubnets", "MonitorInstances"})


def read_request(environ: dict[str, Any]) -> signature.Request:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY:
        raise Ec2Error("InvalidParameterValue", "The request body is too large.")
    body = environ["wsgi.input"].read(length) if length else b""
    query = urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    params = dict(query)
    if body and "x-www-form-urlencoded" in headers.get("content-type", ""):
        try:
            params.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise Ec2Error("InvalidParameterValue", "The form body is not UTF-8.") from None
    return signature.Request(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"),
                             query, headers, body, params)


class EconeApp:
    def __init__(self, config: EconeConfig, actions: dict[str, Action],
                 now: Callable[[], dt.datetime] | None = None) -> None:
        self.config = config
        self.actions = actions
        self.oned = Oned(config)
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_id = str(uuid.uuid4())
        try:
            status, body = "200 OK", self.handle(read_request(environ), request_id)
        except Ec2Error as exc:
            status, body = f"{exc.status} {exc.code}", exc.document(request_id)
        except Exception:  # noqa: BLE001 - the one place a bug becomes EC2's InternalError
            log.exception("request %s failed", request_id)
            error = Ec2Error("InternalError", "An internal error has occurred.")
            status, body = f"500 {error.code}", error.document(request_id)
        start_response(status, [("Content-Type", "text/xml;charset=UTF-8"),
                                ("Content-Length", str(len(body)))])
        return [body]

    def handle(self, request: signature.Request, request_id: str) -> bytes:
        name = request.params.get("Action", "")
        action = self.actions.get(name)
        uname, secret = self.oned.secret(signature.access_key(request))
        signature.verify(request, secret, self.config.region, self.now())
        if action is None:
            if name in UNSUPPORTED:
                raise Ec2Error("UnsupportedOperation", f"{name} is not supported by this cloud.")
            raise Ec2Error("InvalidAction", f"The action {name or '(none)'} is not valid "
                           "for this web service.")
        call = Call(request.params, self.oned.user(uname), uname, self.config)
        return response(name, request_id, action(call))
