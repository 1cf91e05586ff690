"""Three `oned --ha` servers: one leader, followers that read and forward, the zone's
documents, a deposed leader that can no longer act, and what is refused."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import xmlrpc.client
from pathlib import Path
from typing import Any, Iterator

import pyone
import pytest

from cluster import FOLLOWER, LEADER, Cluster, role
from conftest import ADMIN, Caller, until, validate
from bench.postgres import Cluster as PostgresCluster
from test_daemon_lock import Daemon

pytestmark = pytest.mark.slow
INTERNAL = 0x2000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory,
            postgres_cluster: PostgresCluster) -> Iterator[Cluster]:
    started = Cluster(tmp_path_factory.mktemp("ha"), postgres_cluster.create())
    yield started
    started.stop()


def _follower(cluster: Cluster) -> Caller:
    leader = cluster.leader()
    return Caller(cluster.endpoints[(leader + 1) % len(cluster.endpoints)])


def test_one_leader_and_its_followers_in_raftstatus_and_the_zone(cluster: Cluster) -> None:
    assert sorted(cluster.roles()) == [FOLLOWER, FOLLOWER, LEADER]
    leader = cluster.leader()
    for server_id, endpoint in enumerate(cluster.endpoints):
        raft = validate(Caller(endpoint).ok("one.zone.raftstatus"), "raftstatus.xsd")
        assert raft.findtext("SERVER_ID") == str(server_id)
        assert raft.findtext("VOTEDFOR") == str(leader)
    zone = validate(_follower(cluster).ok("one.zone.info", 0), "zone.xsd")
    servers = zone.findall("SERVER_POOL/SERVER")
    assert [(s.findtext("ID"), s.findtext("NAME"), s.findtext("ENDPOINT"), s.findtext("STATE"))
            for s in servers] == [
        (str(i), f"server-{i}", e, str(LEADER if i == leader else FOLLOWER))
        for i, e in enumerate(cluster.endpoints)]
    assert zone.findtext("TEMPLATE/ENDPOINT") == cluster.endpoints[leader]
    pool = validate(_follower(cluster).ok("one.zonepool.info"), "zone_pool.xsd")
    assert [s.findtext("ID") for s in pool.findall("ZONE/SERVER_POOL/SERVER")] == ["0", "1", "2"]
    _follower(cluster).fails("one.zone.info", 7, code=0x400)


def test_a_follower_forwards_writes_and_serves_what_the_leader_committed(cluster: Cluster) -> None:
    follower = _follower(cluster)
    uid = follower.ok("one.user.allocate", "fwd", "pw", "core", [])
    leader = Caller(cluster.endpoints[cluster.leader()])
    assert "<NAME>fwd</NAME>" in leader.ok("one.user.info", uid)
    follower.ok("one.user.update", uid, 'COLOUR = "blue"', 1)  # a change after it was read
    for endpoint in cluster.endpoints:
        assert "blue" in Caller(endpoint).ok("one.user.info", uid)  # no stale cached body
    assert follower.as_user("fwd:pw").ok("one.user.info", -1).count("<NAME>fwd</NAME>") == 1
    follower.fails("one.user.allocate", "fwd", "pw", "core", [], code=0x4000)  # the leader's answer


def test_with_no_leader_a_server_refuses_writes_and_still_reads(
        tmp_path: Path, postgres: str) -> None:
    """A plain oned on the database holds its lock: an HA server there never leads."""
    solo = postgres
    plain = Daemon(tmp_path / "plain", "--db", solo)
    Caller(plain.endpoint()).ok("one.user.allocate", "ann", "pw", "core", [])
    follower = Daemon(tmp_path / "ha", "--ha", "--server-id", "4", "--db", solo)
    try:
        rpc = Caller(follower.endpoint())
        assert role(follower.endpoint()) == FOLLOWER
        message = rpc.fails("one.user.allocate", "bob", "pw", "core", [], code=INTERNAL)
        assert message == "[one.user.allocate] Cannot process request, no leader found"
        assert "<NAME>ann</NAME>" in rpc.ok("one.userpool.info")
        assert "<NAME>bob</NAME>" not in rpc.ok("one.userpool.info")
    finally:
        plain.stop(signal.SIGKILL)
        follower.stop(signal.SIGKILL)


def test_pyone_reads_the_zone_and_writes_through_a_follower(cluster: Cluster) -> None:
    one = pyone.OneServer(_follower(cluster).endpoint, session=ADMIN)
    zone = one.zone.info(0)
    assert [server.NAME for server in zone.SERVER_POOL.SERVER] == ["server-0", "server-1", "server-2"]
    assert one.zone.raftstatus().STATE == FOLLOWER
    gid = one.group.allocate("forwarded")
    assert one.group.info(gid).NAME == "forwarded"


def test_ha_start_refusals(tmp_path: Path) -> None:
    sqlite = Daemon(tmp_path / "a", "--ha", "--server-id", "0")
    assert sqlite.exit_code() == 1
    assert "oned: --ha needs a PostgreSQL database (DB = postgresql://...)" in sqlite.text()
    no_id = Daemon(tmp_path / "b", "--ha", "--db", "postgresql://127.0.0.1:1/one")
    assert no_id.exit_code() == 1
    assert "oned: --ha needs a server id >= 0 (--server-id or FEDERATION/SERVER_ID)" in no_id.text()
    for name, text, message in (
            ("c", 'RAFT = [ ELECTION_TIMEOUT_MS = "soon" ]\nFEDERATION = [ SERVER_ID = 1 ]',
             "oned: Configuration: RAFT/ELECTION_TIMEOUT_MS = 'soon' is not milliseconds"),
            ("d", 'FEDERATION = [ SERVER_ID = "first" ]',
             "oned: Configuration: FEDERATION/SERVER_ID is not a number")):
        config = tmp_path / f"{name}.conf"
        config.write_text(text)
        refused = Daemon(tmp_path / name, "--ha", "--config", str(config),
                         "--db", "postgresql://127.0.0.1:1/one")
        assert refused.exit_code() == 1
        assert message in refused.text() and "Traceback" not in refused.text()


def _call_later(endpoint: str, method: str, *args: Any) -> tuple[threading.Thread, list[Any]]:
    """A call sent now, answered whenever the server runs again."""
    outcome: list[Any] = []

    def call() -> None:
        try:
            outcome.append(getattr(xmlrpc.client.ServerProxy(endpoint), method)(ADMIN, *args))
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    return thread, outcome


def test_a_stopped_leader_is_deposed_and_never_commits(cluster: Cluster) -> None:
    old = cluster.leader()
    stopped = cluster.servers[old].process
    stopped.send_signal(signal.SIGSTOP)
    try:
        until(lambda: Path(f"/proc/{stopped.pid}/stat").read_text().split(") ")[1][0] == "T",
              "the leader stopped")
        thread, outcome = _call_later(cluster.endpoints[old], "one.user.allocate",
                                      "late", "pw", "core", [])
        new = until(lambda: next((i + 1 for i, e in enumerate(cluster.endpoints)
                                  if i != old and role(e) == LEADER), 0), "a new leader") - 1
    finally:
        stopped.send_signal(signal.SIGCONT)
    thread.join(timeout=30)
    assert cluster.servers[old].exit_code() == 75  # deposed: it exits at once
    assert "oned: deposed" in cluster.servers[old].text()
    assert outcome and (isinstance(outcome[0], OSError) or outcome[0][0] is False), outcome
    leader = Caller(cluster.endpoints[new])
    assert "<NAME>late</NAME>" not in leader.ok("one.userpool.info")
    cluster.restart(old)  # back as a follower
    assert until(lambda: role(cluster.endpoints[old]), "the old leader back") == FOLLOWER
    assert cluster.leader() == new


def test_onezone_show_lists_the_servers_and_their_roles(cluster: Cluster, tmp_path: Path) -> None:
    auth = tmp_path / "one_auth"
    auth.write_text(f"{ADMIN}\n")
    follower = _follower(cluster)
    shown = subprocess.run([sys.executable, "-m", "one.cli.onezone", "show", "0"],
                           env={**os.environ, "ONE_XMLRPC": follower.endpoint,
                                "ONE_AUTH": str(auth)},
                           capture_output=True, text=True, check=True).stdout
    status = shown.split("HA & FEDERATION SYNC STATUS\n")[1].split("\n\n")[0].splitlines()
    assert status[0].split() == ["ID", "NAME", "STATE", "TERM", "INDEX", "COMMIT", "VOTE",
                                 "FED_INDEX"]
    leader = cluster.leader()
    assert [row.split()[:3] for row in status[1:]] == [
        [str(i), f"server-{i}", "leader" if i == leader else "follower"] for i in range(3)]
