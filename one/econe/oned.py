"""oned as one-econe sees it: the server account, and sessions of the users it acts for.

The server account (oneadmin group, like OpenNebula's serveradmin) does two
things only: read the secret of an access key (one.user.ec2keys_secret) and
take a login token for that key's user (one.user.login). Every action is then
called with the user's own session, so oned authorises it as that user.
"""
from __future__ import annotations

import threading
import time

from lxml import etree

from one.cli.client import Client, endpoint, read_session
from one.cli.errors import CliError, ServerError
from one.econe.config import EconeConfig
from one.econe.errors import Ec2Error

AUTHENTICATION, AUTHORIZATION, NO_EXISTS = 0x100, 0x200, 0x400
_RENEW_BEFORE = 300  # seconds before its expiry a cached user token is replaced


def refusal(error: CliError, not_found: Ec2Error | None = None) -> Ec2Error:
    """An oned failure in EC2's words; `not_found` names the missing thing when known."""
    if not isinstance(error, ServerError):
        return Ec2Error("Unavailable", f"oned is unreachable: {error.message}")
    if error.code == AUTHENTICATION:
        return Ec2Error("AuthFailure", "oned refused the user's session.")
    if error.code in (AUTHORIZATION, NO_EXISTS) and not_found is not None:
        return not_found
    if error.code == AUTHORIZATION:
        return Ec2Error("UnauthorizedOperation", error.message)
    return Ec2Error("InvalidParameterValue", error.message)


class Oned:
    def __init__(self, config: EconeConfig) -> None:
        self.endpoint = endpoint(config.one_xmlrpc)
        self.auth_file = config.one_auth
        self.token_seconds = config.token_seconds
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _server(self) -> Client:
        """Read at each use: oned may write the file after one-econe starts (make run)."""
        return Client(self.endpoint, read_session(self.auth_file))  # a proxy per call

    def secret(self, access_key: str) -> tuple[str, str]:
        """(user name, secret) of an access key; AuthFailure for an unknown key."""
        try:
            key = etree.fromstring(self._server().call("one.user.ec2keys_secret", access_key))
        except CliError as exc:
            raise refusal(exc, Ec2Error("AuthFailure", "AWS was not able to validate the "
                                        "provided access credentials")) from None
        if key.findtext("ENABLED") != "1":
            raise Ec2Error("AuthFailure", "The user of this access key is disabled.")
        return key.findtext("UNAME") or "", key.findtext("SECRET_ACCESS_KEY") or ""

    def user(self, name: str) -> Client:
        """A client with `name`'s session: a login token, cached until near its expiry."""
        now = time.monotonic()
        with self._lock:
            cached = self._tokens.get(name)
        if cached is None or cached[1] < now:
            try:
                token = self._server().call("one.user.login", name, "", self.token_seconds, -1)
            except CliError as exc:
                raise refusal(exc) from None
            cached = (str(token), now + self.token_seconds - _RENEW_BEFORE)
            with self._lock:
                self._tokens[name] = cached
        return Client(self.endpoint, f"{name}:{cached[0]}")
