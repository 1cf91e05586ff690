"""`oned --ha`: one of several oneds on one PostgreSQL database, one of them leading.

Every server starts as a follower: it serves read-only calls from the database
(no cache: the leader's commits never reach it) and forwards the others to the
leader (`one.xmlrpc.front`). Every BROADCAST_TIMEOUT_MS a heartbeat thread
refreshes the server's row and a watch thread, on a follower, tries to take
the lease (`one.core.lease`). The winner loads the state exactly as an oned
starting after a crash does — `build_api` (first objects, interrupted copies,
capacity and quota repairs) then `Managers.start` (operations caught mid-way
resume) — with drivers built only then (their modules are imported at start,
to keep the takeover short), so what they keep outside the database is read as
the old leader left it. Every write it makes checks its term, and so does
every driver action.

A leader that finds the lease taken (it hung, or lost its database session)
exits at once: its writes can no longer commit, and a fresh process joins as a
follower when its supervisor starts it again.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlparse

import peewee

from one.config import Config
from one.core.lease import Lease, NotLeader, application_name
from one.core.managers import Managers, build_managers
from one.core.zone import CANDIDATE, FOLLOWER, LEADER, RaftState, Zones
from one.daemon import _endpoint, build_api, load_plugins
from one.errors import OneError
from one.plugins.manager import PluginManager
from one.pool.db import connect, open_database, sqlite_path
from one.pool.pools import make_pools
from one.writer_lock import WriterLock
from one.xmlrpc.api import Api
from one.xmlrpc.front import ELECTING, FOLLOWING, LEADING, Front
from one.xmlrpc.http import XmlRpcHttpServer
from one.xmlrpc.methods import register_all, zone

log = logging.getLogger("oned.ha")
DEPOSED_EXIT = 75  # EX_TEMPFAIL: start me again (as a follower)


@dataclass(frozen=True)
class Settings:
    """FEDERATION/SERVER_ID and RAFT's timeouts, as oned.conf names them."""

    server_id: int
    election_timeout: float = 5.0   # RAFT/ELECTION_TIMEOUT_MS: a silent leader is replaced
    broadcast: float = 0.5          # RAFT/BROADCAST_TIMEOUT_MS: heartbeat and poll period
    forward_timeout: float = 30.0   # RAFT/XMLRPC_TIMEOUT_MS: a write forwarded to the leader

    @property
    def name(self) -> str:
        return f"server-{self.server_id}"


def _milliseconds(raft: dict[str, str], key: str, default: float) -> float:
    try:
        return int(raft[key]) / 1000 if key in raft else default
    except ValueError:
        raise OneError(f"Configuration: RAFT/{key} = '{raft[key]}' is not milliseconds") from None


def settings(config: Config, server_id: int | None) -> Settings:
    """From `--server-id` or FEDERATION/SERVER_ID, and the RAFT vector."""
    if sqlite_path(config.db_url) is not None:
        raise OneError("--ha needs a PostgreSQL database (DB = postgresql://...)")
    federation = config.template.vector("FEDERATION") or {}
    try:
        server_id = int(federation.get("SERVER_ID", "-1")) if server_id is None else server_id
    except ValueError:
        raise OneError("Configuration: FEDERATION/SERVER_ID is not a number") from None
    if server_id < 0:
        raise OneError("--ha needs a server id >= 0 (--server-id or FEDERATION/SERVER_ID)")
    raft = config.template.vector("RAFT") or {}
    defaults = Settings(server_id)
    return Settings(server_id,
                    _milliseconds(raft, "ELECTION_TIMEOUT_MS", defaults.election_timeout),
                    _milliseconds(raft, "BROADCAST_TIMEOUT_MS", defaults.broadcast),
                    _milliseconds(raft, "XMLRPC_TIMEOUT_MS", defaults.forward_timeout))


def _named(url: str, server_id: int) -> str:
    """The database URL with this server's sessions named (the lease ends them by name)."""
    parsed = urlparse(url)
    query = "&".join(filter(None, [parsed.query,
                                   urlencode({"application_name": application_name(server_id)})]))
    return parsed._replace(query=query).geturl()


def _follower_api(config: Config, db: peewee.Database, zones: Zones) -> tuple[Managers, Api]:
    """Managers for reading only: no drivers, no threads, a store that refuses writes."""
    pools = make_pools(db, config.template_limits)
    pools.store.read_only = True

    def refuse() -> None:
        raise NotLeader("Cannot process request, not the leader")

    pools.store.fence = refuse
    managers = build_managers(pools, config, PluginManager())
    managers.acl.load()
    api = Api(managers.auth.authenticate, config.message_size)
    register_all(api, managers)
    zone.register(api, zones)
    return managers, api


class HaServer:
    """One server of the group: its database, its lease, its front, its role."""

    def __init__(self, config: Config, ha: Settings, auth_file: Path | None = None,
                 endpoint: str | None = None) -> None:
        self.config, self.ha, self.auth_file = config, ha, auth_file
        self.lock = WriterLock(config.var_location, config.db_url, database=False)
        self.lock.acquire()
        url = _named(config.db_url, ha.server_id)
        self.lease_db = connect(url)
        self.lease = Lease(self.lease_db, ha.server_id, ha.name, "", ha.election_timeout)
        with self.lease.setup_lock():
            self.db = open_database(url)
        self.zones = Zones(self._own_endpoint, self._state, self.lease.servers)
        self.managers, api = _follower_api(config, self.db, self.zones)
        self.front = Front(api, self._leader_endpoint, ha.forward_timeout)
        self.server = XmlRpcHttpServer((config.listen_address, config.port), self.front,
                                       config.keepalive_timeout)
        self.lease.endpoint = endpoint or _endpoint(self.server)
        self.lease.setup()
        self.leading: Managers | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._watch_loop, name="ha-watch", daemon=True)
        self._beat = threading.Thread(target=self._beat_loop, name="ha-beat", daemon=True)
        load_plugins(config)  # imported now; built again, with their state, on taking over

    # -- what the zone documents and the front ask -------------------------------
    def _own_endpoint(self) -> str:
        return self.lease.endpoint

    def _state(self) -> RaftState:
        term, leader = self.lease.current()
        role = {LEADING: LEADER, ELECTING: CANDIDATE}.get(self.front.role, FOLLOWER)
        return RaftState(self.ha.server_id, role, term, leader)

    def _leader_endpoint(self) -> str | None:
        leader = self.lease.leader()
        return None if leader is None or leader.id == self.ha.server_id else leader.endpoint

    # -- the watch ----------------------------------------------------------------
    def start(self) -> None:
        self.lock.record_pid()
        self._beat.start()
        self._watch.start()

    def _beat_loop(self) -> None:
        """Apart from the watch, so that loading the state never looks like silence."""
        while not self._stopping.wait(self.ha.broadcast):
            try:
                self.lease.beat()
            except peewee.PeeweeException as exc:
                log.warning("heartbeat failed: %s", exc)
                self.lease_db.close()

    def _watch_loop(self) -> None:
        while not self._stopping.wait(self.ha.broadcast):
            try:
                self._tick()
            except peewee.PeeweeException as exc:  # also a session ended by a new leader
                if self.front.role != FOLLOWING:
                    self._deposed(f"the lease connection failed: {exc}")
                log.warning("lease check failed: %s", exc)
                self.lease_db.close()

    def _tick(self) -> None:
        if self.front.role == LEADING:
            if not self.lease.leads():
                term, leader = self.lease.current()
                self._deposed(f"server {leader} leads in term {term}")
            return
        self.managers.acl.load()      # a follower's view follows the leader's commits
        self.managers.auth.forget()
        won = self.lease.try_lead()
        if won is not None:
            self._take_over(won)

    def _take_over(self, term: int) -> None:
        """Load the state as a restarted oned does, then serve as the leader."""
        log.warning("server %s leads in term %s: loading the state", self.ha.server_id, term)
        self.front.role = ELECTING
        try:
            fence = self.lease.fence_on(self.db)
            managers, api = build_api(self.config, self.db, self.auth_file, fence=fence)
            zone.register(api, self.zones)
            managers.lifecycle.gate = fence.check
            managers.start()
        except Exception:  # noqa: BLE001 - a half-loaded leader must not serve
            log.exception("taking over failed")
            self._exit(1)
        self.leading = managers
        self.front.lead(api)
        log.warning("server %s is the leader (term %s)", self.ha.server_id, term)

    def _deposed(self, why: str) -> None:
        print(f"oned: deposed ({why}): exiting", file=sys.stderr, flush=True)
        self._exit(DEPOSED_EXIT)

    def _exit(self, status: int) -> None:
        """At once, as if killed: nothing of ours may run any further."""
        self.lock.release()
        os._exit(status)

    # -- serving --------------------------------------------------------------------
    def close(self) -> None:
        self._stopping.set()
        self.server.server_close()
        if self.leading is not None:
            self.leading.stop()
        self.db.close()
        self.lease_db.close()
        self.lock.release()
