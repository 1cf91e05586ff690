"""`python -m bench.ha_failover --db postgresql://USER@HOST:PORT/DB`: failover time.

Three `oned --ha` servers on a fresh database made on that PostgreSQL server (and
dropped afterwards); ROUNDS times the leader is killed with SIGKILL and the time
is measured until another server says it leads (one.zone.raftstatus) and commits
a write there; the killed server is then started again as a follower.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import xmlrpc.client
from contextlib import ExitStack
from pathlib import Path

import psycopg2

from bench.report import progress
from bench.rpc import SESSION, as_reply
from bench.server import Server, running_server

ROUNDS = 5
SERVERS = 3
CONFIG = "RAFT = [ ELECTION_TIMEOUT_MS = 2000, BROADCAST_TIMEOUT_MS = 200 ]\n"


def _state(server: Server) -> int | None:
    try:
        reply = as_reply(xmlrpc.client.ServerProxy(server.url).one.zone.raftstatus(SESSION))
    except OSError:
        return None
    found = re.search(r"<STATE>(\d)</STATE>", reply[1]) if reply[0] else None
    return int(found[1]) if found else None


def _leader(servers: list[Server], skip: int = -1) -> int | None:
    return next((i for i, s in enumerate(servers) if i != skip and _state(s) == 3), None)


def _database(url: str, action: str) -> str:
    """CREATE or DROP the bench's own database beside the one named."""
    name = f"bench_ha_{os.getpid()}"
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"{action} DATABASE {name}")
    connection.close()
    return f"{url.rpartition('/')[0]}/{name}"


def _failover(servers: list[Server], round_: int) -> tuple[int, float]:
    """Kill the leader; seconds until another one leads and commits."""
    old = _leader(servers)
    assert old is not None
    start = time.perf_counter()
    servers[old].process.kill()
    while True:
        new = _leader(servers, skip=old)
        if new is not None:
            reply = as_reply(xmlrpc.client.ServerProxy(servers[new].url).one.user.allocate(
                SESSION, f"after-{round_}", "pw", "core", []))
            if reply[0]:
                return old, time.perf_counter() - start
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ha_failover")
    parser.add_argument("--db", required=True, help="a PostgreSQL URL (its server is used)")
    given = parser.parse_args().db
    url = _database(given, "CREATE")
    times = []
    try:
        with tempfile.TemporaryDirectory(prefix="one-bench-") as scratch, ExitStack() as stack:
            def start(i: int, round_: int) -> Server:
                work = Path(scratch, f"s{i}-{round_}")
                work.mkdir()
                return stack.enter_context(running_server(
                    work, CONFIG, args=("--ha", "--server-id", str(i), "--db", url)))

            servers = [start(i, 0) for i in range(SERVERS)]
            while _leader(servers) is None:
                time.sleep(0.05)
            for round_ in range(1, ROUNDS + 1):
                old, seconds = _failover(servers, round_)
                times.append(seconds)
                progress(f"round {round_}: server {old} killed, new leader in {seconds:.2f} s")
                servers[old] = start(old, round_)
    finally:
        _database(given, "DROP")
    print(f"failover after kill -9, {ROUNDS} rounds: min {min(times):.2f} s, "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
