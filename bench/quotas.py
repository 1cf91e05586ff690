"""`python -m bench.quotas`: what quotas cost on the hot paths.

An in-process oned (SQLite, engine idle) with USERS users, each with its own
VM and DATASTORE quota. Measured through XML-RPC from one client: the
allocate rate of a user whose every VM is charged (user and group quota rows
written in the allocate's transaction) against oneadmin's (exempt, nothing
charged); then `one.user.info` and `one.userpool.info`, which splice the
quota sections into the stored documents, timed by raw keep-alive POSTs (the
server's time, not a client's parsing of the reply).
"""
from __future__ import annotations

import tempfile
import time
import xmlrpc.client
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from bench.rpc import SESSION as ADMIN, request_body
from bench.timing import Poster
from tests.conftest import start_oned  # the tests' server

USERS = 1000
ALLOCATIONS = 400
INFO_RUNS = 400
POOL_RUNS = 20
TEMPLATE = "CPU = 0.1 MEMORY = 64 NAME = bench"


def _rate(call: Callable[[], Any], runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        call()
    return runs / (time.perf_counter() - start)


def _server_ms(endpoint: str, runs: int, method: str, *params: Any) -> str:
    url = urlparse(endpoint)
    poster = Poster((url.hostname or "127.0.0.1", url.port or 2633), url.path)
    try:
        latency = poster.latency(method, request_body(method, *params), runs)
    finally:
        poster.close()
    return f"{latency.median_ms:.2f} ms ({len(latency.reply):,} bytes)"


def _ok(proxy: xmlrpc.client.ServerProxy, session: str, method: str, *args: Any) -> Any:
    reply = getattr(proxy, method)(session, *args)
    if not reply[0]:
        raise RuntimeError(f"{method}: {reply[1]}")
    return reply[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as var:
        (Path(var) / "one_auth").write_text(f"{ADMIN}\n")
        oned = start_oned(Path(var))
        try:
            proxy = xmlrpc.client.ServerProxy(oned.endpoint)
            for n in range(USERS):
                uid = _ok(proxy, ADMIN, "one.user.allocate", f"u{n}", "pw", "core", [])
                _ok(proxy, ADMIN, "one.user.quota", uid,
                    "VM = [ VMS = 100000, CPU = 100000, MEMORY = 10000000 ] "
                    "DATASTORE = [ ID = 1, SIZE = 100000 ]")
            _ok(proxy, ADMIN, "one.group.quota", 1, "VM = [ VMS = 100000 ]")
            user = "u0:pw"
            def allocate(session: str) -> Callable[[], Any]:
                return lambda: _ok(proxy, session, "one.vm.allocate", TEMPLATE, True)

            rows = [
                ("one.vm.allocate, oneadmin (exempt)",
                 f"{_rate(allocate(ADMIN), ALLOCATIONS):.0f}/s"),
                ("one.vm.allocate, user + group quota charged",
                 f"{_rate(allocate(user), ALLOCATIONS):.0f}/s"),
                ("one.user.info (quotas spliced in), median",
                 _server_ms(oned.endpoint, INFO_RUNS, "one.user.info", 1)),
                (f"one.userpool.info, {USERS + 1} users each with QUOTAS, median",
                 _server_ms(oned.endpoint, POOL_RUNS, "one.userpool.info")),
            ]
        finally:
            oned.stop()
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
