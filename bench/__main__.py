"""`python -m bench [--quick] [--results FILE]`: load a pool, measure, print, record.

One server serves every phase in order (load, rates, listings), so each
figure is taken on the full pool and the memory figures follow the same life.
"""
from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import time
import xmlrpc.client
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bench.ab import requests_per_second
from bench.report import INFO_VS_NOOP, POOL_LISTING, POOL_PAGE, VM_INFO, Row, Target
from bench.report import print_table, write_results
from bench.rpc import BenchError, request_body
from bench.server import Server, running_server
from bench.timing import Latency, Poster
from bench.workload import load_pool, vm_template

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
CLIENTS = 8
PAGE = 2000


@dataclass(frozen=True)
class Scale:
    vms: int
    hosts: int
    requests: int
    listing_runs: int
    page_runs: int

    def describe(self) -> str:
        return (f"{self.vms:,} VMs (~{len(vm_template(0))}-byte templates) and {self.hosts:,} "
                f"dummy hosts loaded through the API by {CLIENTS} client threads; rates by "
                f"`ab -k -c {CLIENTS} -n {self.requests:,}` (ab repeats one body, so one.vm.info "
                f"asks for the same VM every time); listings timed by a raw keep-alive "
                f"HTTP POST, {self.listing_runs} runs (pages: {self.page_runs}) after a warm-up.")


FULL = Scale(vms=10_000, hosts=1_000, requests=20_000, listing_runs=20, page_runs=50)
QUICK = Scale(vms=1_000, hosts=100, requests=5_000, listing_runs=10, page_runs=20)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _load_rows(server: Server, scale: Scale) -> list[Row]:
    _progress(f"loading {scale.hosts:,} hosts and {scale.vms:,} VMs")
    rates = load_pool(server.url, scale.vms, scale.hosts, CLIENTS)
    return [
        Row(f"host allocate, {CLIENTS} clients", rates.hosts, "hosts/s"),
        Row("vm allocate, 1 client", rates.vms_one_client, "VMs/s"),
        Row(f"vm allocate, {CLIENTS} clients", rates.vms_parallel, "VMs/s"),
        Row("server RSS after load", server.rss_mb(), "MB"),
    ]


def _rate_rows(server: Server, scale: Scale) -> list[Row]:
    """No-op and vm.info in the same run, so their ratio compares like with like."""
    noop = request_body("one.system.version")
    info = request_body("one.vm.info", scale.vms // 2)
    with closing(Poster(server.address, server.path)) as poster:
        poster.checked("one.system.version", noop)
        poster.checked("one.vm.info", info)
    _progress(f"ab: one.system.version and one.vm.info, {scale.requests:,} requests each")
    requests_per_second(server.url, info, scale.requests // 10, CLIENTS)  # warm-up
    noop_rate = requests_per_second(server.url, noop, scale.requests, CLIENTS)
    info_rate = requests_per_second(server.url, info, scale.requests, CLIENTS)
    return [
        Row("one.system.version (no-op) rate", noop_rate, "req/s"),
        Row("one.vm.info rate", info_rate, "req/s", VM_INFO),
        Row("one.vm.info / no-op", 100 * info_rate / noop_rate, "%", INFO_VS_NOOP),
    ]


def _count_vms(method: str, latency: Latency, expected: int) -> None:
    """A short listing is fast for the wrong reason: the reply must hold every VM asked for."""
    found = latency.reply.count(b"&lt;VM&gt;&lt;ID&gt;")
    if found != expected:
        raise BenchError(f"{method} returned {found} VMs, expected {expected}")


def _latency_rows(label: str, latency: Latency, target: Target | None) -> list[Row]:
    return [
        Row(f"{label} (median)", latency.median_ms, "ms", target),
        Row(f"{label} (p90)", latency.p90_ms, "ms"),
        Row(f"{label} body", latency.reply_mb, "MB"),
    ]


class Listing(NamedTuple):
    label: str
    method: str
    start: int
    end: int  # -1: to the end; below -1: a page of -end VMs from `start`
    expected: int
    runs: int
    target: Target | None


def _listings(scale: Scale) -> list[Listing]:
    return [
        Listing("one.vmpool.info, whole pool", "one.vmpool.info", -1, -1, scale.vms,
                scale.listing_runs, POOL_LISTING),
        Listing("one.vmpool.infoextended, whole pool", "one.vmpool.infoextended", -1, -1,
                scale.vms, scale.listing_runs, None),
        Listing(f"one.vmpool.info, page of {PAGE:,}", "one.vmpool.info", 0, -PAGE,
                min(PAGE, scale.vms), scale.page_runs, POOL_PAGE),
    ]


def _listing_rows(server: Server, scale: Scale) -> list[Row]:
    rows: list[Row] = []
    with closing(Poster(server.address, server.path)) as poster:
        for listing in _listings(scale):
            _progress(f"timing {listing.label}, {listing.runs} runs")
            body = request_body(listing.method, -2, listing.start, listing.end, -1)
            latency = poster.latency(listing.method, body, listing.runs)
            _count_vms(listing.method, latency, listing.expected)
            rows += _latency_rows(listing.label, latency, listing.target)
    return rows + [Row("server RSS after listings", server.rss_mb(), "MB")]


def measure(scale: Scale) -> list[Row]:
    """Every phase against one fresh server in a scratch directory."""
    with tempfile.TemporaryDirectory(prefix="one-bench-") as scratch:
        with running_server(Path(scratch)) as server:
            _progress(f"oned pid {server.process.pid} at {server.url}")
            return (_load_rows(server, scale) + _rate_rows(server, scale)
                    + _listing_rows(server, scale))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK.vms:,} VMs / {QUICK.hosts:,} hosts, pool-size "
                             "targets not judged, RESULTS.md left alone unless --results is given")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help=f"where to write the report (default: {RESULTS} on a full run)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    scale = QUICK if args.quick else FULL
    try:
        rows = measure(scale)
    except (BenchError, OSError, http.client.HTTPException, xmlrpc.client.Error) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    judged = not args.quick
    print_table(rows, judged, f"one benchmark: {scale.vms:,} VMs, {scale.hosts:,} hosts")
    results = args.results or (None if args.quick else RESULTS)
    if results is not None:
        write_results(results, rows, judged, scale.describe())
        _progress(f"wrote {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
