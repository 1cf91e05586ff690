"""The zone and its servers: one.zone.info, one.zonepool.info, one.zone.raftstatus.

`one` has one zone (0). A plain oned is OpenNebula's SOLO server, with no
servers in the zone; `oned --ha` servers list themselves (see `one.core.lease`)
with their roles in Raft's numbers, so OpenNebula's tools read them as they read
a Raft zone. There is no replicated log (the servers share the database), so the
log indexes are -1, as a SOLO server reports them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from one.core.auth import Session
from one.core.lease import Server
from one.errors import NoExistsError
from one.pool.render.common import el

ZONE_ID, ZONE_NAME = 0, "OpenNebula"
SOLO, CANDIDATE, FOLLOWER, LEADER = 0, 1, 2, 3  # RaftManager::State


@dataclass(frozen=True)
class RaftState:
    server_id: int
    state: int
    term: int
    votedfor: int  # the leader this server follows (itself when leading), -1: none


SOLO_STATE = RaftState(-1, SOLO, 0, -1)


def _server(server: Server, state: RaftState, full: bool) -> str:
    fields = el("ENDPOINT", server.endpoint) + el("ID", server.id) + el("NAME", server.name)
    if full and server.alive:
        fields += (el("STATE", LEADER if server.leader else FOLLOWER) + el("TERM", state.term)
                   + el("VOTEDFOR", state.votedfor) + el("COMMIT", -1) + el("LOG_INDEX", -1)
                   + el("FEDLOG_INDEX", -1))
    return f"<SERVER>{fields}</SERVER>"


class Zones:
    """The documents, over this server's state and the server pool as stored."""

    def __init__(self, own_endpoint: Callable[[], str],
                 state: Callable[[], RaftState] = lambda: SOLO_STATE,
                 servers: Callable[[], list[Server]] = list) -> None:
        self.own_endpoint, self.state, self.servers = own_endpoint, state, servers

    def _zone(self, full: bool) -> str:
        servers, state = self.servers(), self.state()
        leader = next((s.endpoint for s in servers if s.leader and s.alive), self.own_endpoint())
        pool = "".join(_server(s, state, full) for s in servers)
        return (f"<ZONE>{el('ID', ZONE_ID)}{el('NAME', ZONE_NAME)}{el('STATE', 0)}"
                f"<TEMPLATE>{el('ENDPOINT', leader)}</TEMPLATE>"
                f"<SERVER_POOL>{pool}</SERVER_POOL></ZONE>")

    def info(self, session: Session, oid: int) -> str:
        if oid != ZONE_ID:
            raise NoExistsError(f"Error getting zone [{oid}].")
        return self._zone(full=True)

    def pool_info(self, session: Session) -> str:
        return f"<ZONE_POOL>{self._zone(full=False)}</ZONE_POOL>"

    def raftstatus(self, session: Session) -> str:
        state = self.state()
        return (f"<RAFT>{el('SERVER_ID', state.server_id)}{el('STATE', state.state)}"
                f"{el('TERM', state.term)}{el('VOTEDFOR', state.votedfor)}{el('COMMIT', -1)}"
                f"{el('LOG_INDEX', -1)}{el('LOG_TERM', -1)}{el('FEDLOG_INDEX', -1)}</RAFT>")
