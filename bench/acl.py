"""`python -m bench.acl`: what ACL rules cost a request.

A user of the users group reads a network it may USE only through a rule
(`#uid NET/#id USE`), first with OpenNebula's three default rules, then with
RULES more rules for its group (`@1 NET/#n USE`, all scanned on each check,
and each an id the listing must include). The same calls by oneadmin (no
rule consulted) are the reference; the in-memory check alone is timed too.
"""
from __future__ import annotations

import time
import xmlrpc.client
from contextlib import closing
from typing import Any

from bench.report import progress
from bench.rpc import call
from bench.server import scratch_server
from bench.timing import Poster
from one.acl_syntax import RIGHTS, TYPES, parse
from one.core.acl_rules import Request, Rule, RuleSet

RULES = 1_000
RUNS = 500
USER = "reader:pw"


def _body(session: str, method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps((session, *params), methodname=method).encode()


def _hex(text: str) -> list[str]:
    return [f"{n:x}" for n in parse(text)]


def _check_cost() -> float:
    """Microseconds of one in-memory check that scans RULES group rules."""
    rules = RuleSet(Rule(i, *parse(f"@1 NET/#{1000 + i} USE")) for i in range(RULES))
    request = Request(TYPES["NET"], RIGHTS["USE"], oid=0, gid=0)  # matches none: a full scan
    start = time.perf_counter()
    for _ in range(RUNS):
        rules.grants(5, {1}, request)
    return (time.perf_counter() - start) / RUNS * 1e6


def _timings(poster: Poster, vid: int) -> dict[str, float]:
    found = {}
    for who, session in (("oneadmin", "oneadmin:benchpw"), ("user", USER)):
        for method, params in (("one.vn.info", (vid,)), ("one.vnpool.info", (-2, -1, -1))):
            latency = poster.latency(method, _body(session, method, *params), RUNS)
            found[f"{method} by {who}"] = latency.median_ms
    return found


def main() -> None:
    with scratch_server() as server, closing(Poster(server.address, server.path)) as poster:
        proxy = xmlrpc.client.ServerProxy(server.url)
        uid = call(proxy, "one.user.allocate", "reader", "pw", "core", [])
        vid = call(proxy, "one.vn.allocate", 'NAME = "n" VN_MAD = "dummy" BRIDGE = "br0"', -1)
        call(proxy, "one.acl.addrule", *_hex(f"#{uid} NET/#{vid} USE"))
        before = _timings(poster, vid)
        progress(f"adding {RULES:,} rules")
        start = time.perf_counter()
        for n in range(RULES):
            call(proxy, "one.acl.addrule", *_hex(f"@1 NET/#{1000 + n} USE"))
        per_add = (time.perf_counter() - start) / RULES * 1000
        after = _timings(poster, vid)
    print(f"| request (median of {RUNS}) | 4 rules | {RULES + 4:,} rules |\n|---|---|---|")
    for name, value in before.items():
        print(f"| {name} | {value:.2f} ms | {after[name]:.2f} ms |")
    print(f"\none.acl.addrule: {per_add:.1f} ms per rule; one in-memory check over "
          f"{RULES:,} group rules: {_check_cost():.0f} µs")


if __name__ == "__main__":
    main()
