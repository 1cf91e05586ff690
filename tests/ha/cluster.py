"""Three `oned --ha` processes on one PostgreSQL database, and a client that follows
the leader as OpenNebula's clients of a Raft zone do (retry on another endpoint)."""
from __future__ import annotations

import http.client
import re
import signal
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

from conftest import ADMIN, until
from test_daemon_lock import Daemon

LEADER, FOLLOWER = 3, 2
CONFIG = """
RAFT = [ ELECTION_TIMEOUT_MS = 2000, BROADCAST_TIMEOUT_MS = 200 ]
VM_MAD = [ NAME = "dummy", STATE_DIR = "{dummy}", DELAY = "0.2" ]
IM_MAD = [ NAME = "dummy", STATE_DIR = "{dummy}" ]
"""
# What a client may see while the leader changes: the call did not happen, or its
# outcome is unknown; either way it is checked and, if needed, sent again.
UNSETTLED = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError)


def role(endpoint: str) -> int | None:
    """The server's Raft state, or None when it does not answer."""
    try:
        reply = xmlrpc.client.ServerProxy(endpoint).one.zone.raftstatus(ADMIN)
    except UNSETTLED:
        return None
    found = re.search(r"<STATE>(\d+)</STATE>", reply[1]) if reply[0] else None
    return int(found[1]) if found else None


class Cluster:
    """The servers 0..n-1, each with a var directory of its own, one dummy STATE_DIR."""

    def __init__(self, root: Path, database: str, size: int = 3) -> None:
        self.root, self.database = root, database
        self.dummy = root / "dummy"
        self.config = root / "oned.conf"
        self.config.write_text(CONFIG.format(dummy=self.dummy))
        self.servers = [self._daemon(server_id) for server_id in range(size)]  # all at once
        self.endpoints = [daemon.endpoint() for daemon in self.servers]
        until(self.settled, "one leader and its followers")

    def _daemon(self, server_id: int) -> Daemon:
        return Daemon(self.root / f"s{server_id}", "--ha", "--server-id", str(server_id),
                      "--config", str(self.config), "--db", self.database)

    def restart(self, server_id: int) -> None:
        """The server started again (same id, var directory and address family)."""
        self.servers[server_id] = self._daemon(server_id)
        self.endpoints[server_id] = self.servers[server_id].endpoint()

    def roles(self) -> list[int | None]:
        return [role(endpoint) for endpoint in self.endpoints]

    def settled(self) -> bool:
        """One server leads, the others follow (once the leader made oneadmin)."""
        roles = self.roles()
        return roles.count(LEADER) == 1 and roles.count(FOLLOWER) == len(roles) - 1

    def leader(self) -> int:
        """The index of the server that leads now (waits for one)."""
        return until(lambda: next((i + 1 for i, r in enumerate(self.roles()) if r == LEADER), 0),
                     "a leader") - 1

    def stop(self) -> None:
        for daemon in self.servers:
            daemon.stop(signal.SIGKILL)


class Client:
    """Calls one server (a follower forwards writes); on a connection error or an INTERNAL
    answer (no leader, the leader did not answer) it moves on to the next server, and the
    caller checks what happened before sending a write again."""

    def __init__(self, cluster: Cluster, start: int = 0) -> None:
        self.cluster = cluster
        self.index = start % len(cluster.endpoints)

    def call(self, method: str, *args: Any) -> list[Any] | None:
        """The reply, or None when the outcome is unknown (the leader changed)."""
        endpoint = self.cluster.endpoints[self.index]
        try:
            reply = getattr(xmlrpc.client.ServerProxy(endpoint), method)(ADMIN, *args)
        except UNSETTLED:
            reply = None
        if reply is None or (reply[0] is False and reply[2] == 0x2000):
            self.index = (self.index + 1) % len(self.cluster.endpoints)
            time.sleep(0.05)  # while no server leads, every one refuses writes
            return None
        return reply

    def ok(self, method: str, *args: Any) -> Any:
        """A call that may safely be repeated (reads), repeated until it answers."""
        while (reply := self.call(method, *args)) is None:
            pass
        assert reply[0] is True, reply
        return reply[1]
