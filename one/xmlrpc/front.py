"""What an `oned --ha` server answers, by role, as OpenNebula's Raft servers do.

The leader serves every call. A follower serves the read-only calls (`*.info`,
pool listings, monitoring, accounting, one.system.*, one.zone.*) from the
database and forwards every other call, as received, to the leader, returning
the leader's answer; with no live leader it answers OpenNebula's
`[false, "[method] Cannot process request, no leader found", 0x2000]`, and
during its own election "Cannot process request, oned cluster in election mode".
"""
from __future__ import annotations

import http.client
import logging
from typing import Any, Callable
from urllib.parse import urlparse

from one.xmlrpc import wire
from one.xmlrpc.api import Api
from one.xmlrpc.http import Admission

log = logging.getLogger(__name__)
READ_ONLY = frozenset({"info", "infoextended", "infoset", "monitoring", "accounting", "showback",
                       "version", "config", "raftstatus"})
INTERNAL = 0x2000
FOLLOWING, ELECTING, LEADING = "following", "electing", "leading"


def read_only(method: str) -> bool:
    """Calls a follower answers itself: they change nothing."""
    return method.rpartition(".")[2] in READ_ONLY


class Front:
    """The application of an HA server: the current Api, and the role it plays."""

    def __init__(self, api: Api, leader_endpoint: Callable[[], str | None],
                 timeout: float = 30.0) -> None:
        self.api = api
        self.role = FOLLOWING
        self.leader_endpoint = leader_endpoint
        self.timeout = timeout

    def lead(self, api: Api) -> None:
        """From now on every call is ours (the leader's Api, its state loaded)."""
        self.api = api
        self.role = LEADING

    def admit(self, head: bytes, length: int, peer: str) -> Admission:
        return self.api.admit(head, length, peer)

    def serve(self, body: bytes, ticket: Any) -> list[bytes]:
        api = self.api
        if self.role == LEADING:
            return api.serve(body, ticket)
        try:
            method, _ = wire.parse_request(body)
        except wire.WireError:
            return api.serve(body, ticket)  # answered as a parse error
        if read_only(method) or method.startswith("system.") or method not in api.methods:
            return api.serve(body, ticket)
        if self.role == ELECTING:
            return wire.reply(False, f"[{method}] Cannot process request, oned cluster in "
                                     "election mode", INTERNAL)
        leader = self.leader_endpoint()
        if leader is None:
            return wire.reply(False, f"[{method}] Cannot process request, no leader found",
                              INTERNAL)
        return self._forward(method, body, leader)

    def _forward(self, method: str, body: bytes, leader: str) -> list[bytes]:
        """The call as received, to the leader; its answer as it came."""
        url = urlparse(leader)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80,
                                                timeout=self.timeout)
        try:
            connection.request("POST", url.path or "/RPC2", body, {"Content-Type": "text/xml"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                raise OSError(f"HTTP {response.status} {response.reason}")
            return [answer]
        except (OSError, http.client.HTTPException) as exc:
            log.warning("forwarding %s to the leader %s failed: %s", method, leader, exc)
            return wire.reply(False, f"[{method}] Cannot process request, the leader {leader} "
                                     f"did not answer: {exc}", INTERNAL)
        finally:
            connection.close()
