"""`python -m bench [--quick] [--results FILE]`: load a pool, measure, print, record.

Issue 2: one server serves every phase in order (load, rates, listings), so
each figure is taken on the full pool and the memory figures follow the same
life. Issue 3: the scheduler alone in this process, then a server per
question (placement and its memory, allocate -> RUNNING, monitoring), each
configured for it through its oned.conf.
"""
from __future__ import annotations

import argparse
import http.client
import sys
import xmlrpc.client
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bench import deploy, monitoring, placement, random_info, scheduler
from bench.ab import requests_per_second
from bench.report import INFO_VS_NOOP, POOL_LISTING, POOL_PAGE, VM_INFO, Row, Section, Target
from bench.report import print_table, progress, write_results
from bench.rpc import BenchError, escaped, request_body
from bench.postgres import Cluster
from bench.server import Server, scratch_server, use_postgresql
from bench.timing import Latency, Poster
from bench.watch import ANY_VM
from bench.workload import SCHEDULED, load_pool, vm_template

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
    samples: int          # allocate -> RUNNING, one VM at a time
    burst: int
    monitor_seconds: float

    def describe(self) -> str:
        return (f"{self.vms:,} VMs (~{len(vm_template(0))}-byte templates) and {self.hosts:,} "
                f"dummy hosts loaded through the API by {CLIENTS} client threads; rates by "
                f"`ab -k -c {CLIENTS} -n {self.requests:,}` (ab repeats one body, so its one.vm.info "
                f"asks for the same VM every time; the random-id rows come from {CLIENTS} "
                f"Python client processes asking for VMs drawn at random, beside the no-op "
                f"timed by the same clients); listings timed by a raw keep-alive "
                f"HTTP POST, {self.listing_runs} runs (pages: {self.page_runs}) after a warm-up.")

    def describe_engine(self) -> str:
        conf = SCHEDULED.strip().replace("\n", "`, `")
        return "\n".join([
            f"- The scheduler alone: `python -m bench.scheduler`'s cycles, in this process, "
            f"{scheduler.VMS:,} pending VMs x {scheduler.HOSTS:,} hosts at every scale.",
            f"- oned with the scheduler on and `{conf}` in its oned.conf (dummy drivers, no "
            f"delay): {self.vms:,} VMs with SCHED_REQUIREMENTS and SCHED_RANK allocated by "
            f"{CLIENTS} clients onto {self.hosts:,} MONITORED hosts, each allocate waking the "
            f"scheduler, watched by polling one.vmpool.info; RSS after that and a listing of "
            f"both pools.",
            f"- A fresh server with {deploy.HOSTS} hosts and the same settings: {self.samples} "
            f"VMs allocated one at a time, one.vm.info polled every {deploy.POLL * 1000:.0f} ms "
            f"until RUNNING; then a burst of {self.burst:,} by {CLIENTS} clients.",
            f"- A fresh server with {self.hosts:,} hosts and `MONITORING_INTERVAL = "
            f"{monitoring.INTERVAL}`: MONITORING/TIMESTAMP of every host sampled every "
            f"{monitoring.SAMPLE_EVERY * 1000:.0f} ms for {self.monitor_seconds:.0f} s; "
            f"then the same with {self.hosts * monitoring.CAPACITY_SCALE:,} hosts (a cycle "
            f"starts every interval, so {self.hosts:,} hosts show at most {self.hosts:,} "
            f"updates/s); then each on a server at `MONITORING_INTERVAL = 0` (cycles back to "
            f"back) for as long: the rate oned sustains is hosts / (probe + write time) of "
            f"each cycle, as oned logs it (median).",
        ])


FULL = Scale(vms=10_000, hosts=1_000, requests=20_000, listing_runs=20, page_runs=50,
             samples=50, burst=200, monitor_seconds=10)
QUICK = Scale(vms=1_000, hosts=100, requests=5_000, listing_runs=10, page_runs=20,
              samples=20, burst=50, monitor_seconds=5)


def _load_rows(server: Server, scale: Scale) -> list[Row]:
    progress(f"loading {scale.hosts:,} hosts and {scale.vms:,} VMs")
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
    progress(f"ab: one.system.version and one.vm.info, {scale.requests:,} requests each")
    requests_per_second(server.url, info, scale.requests // 10, CLIENTS)  # warm-up
    noop_rate = requests_per_second(server.url, noop, scale.requests, CLIENTS)
    info_rate = requests_per_second(server.url, info, scale.requests, CLIENTS)
    python_noop, random_rate = random_info.rates(server.address, server.path, scale.vms,
                                                 scale.requests, CLIENTS)
    return [
        Row("one.system.version (no-op) rate", noop_rate, "req/s"),
        Row("one.vm.info rate (ab: one VM, asked again and again)", info_rate, "req/s", VM_INFO),
        Row("one.vm.info / no-op", 100 * info_rate / noop_rate, "%", INFO_VS_NOOP),
        Row("one.system.version (no-op) rate, Python clients", python_noop, "req/s"),
        Row("one.vm.info rate, random ids, Python clients", random_rate, "req/s", VM_INFO),
        # Info only: the no-op these clients reach is half ab's, so the share is the client's.
        Row("one.vm.info, random ids / no-op, Python clients", 100 * random_rate / python_noop,
            "%"),
    ]


def _count_vms(method: str, latency: Latency, expected: int) -> None:
    """A short listing is fast for the wrong reason: the reply must hold every VM asked for."""
    found = latency.reply.count(escaped(ANY_VM))
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
            progress(f"timing {listing.label}, {listing.runs} runs")
            body = request_body(listing.method, -2, listing.start, listing.end, -1)
            latency = poster.latency(listing.method, body, listing.runs)
            _count_vms(listing.method, latency, listing.expected)
            rows += _latency_rows(listing.label, latency, listing.target)
    return rows + [Row("server RSS after listings", server.rss_mb(), "MB")]


def measure_api(scale: Scale) -> list[Row]:
    """Every phase against one fresh server."""
    with scratch_server() as server:
        return (_load_rows(server, scale) + _rate_rows(server, scale)
                + _listing_rows(server, scale))


def measure_engine(scale: Scale) -> list[Row]:
    """The scheduler alone, then each question against a server of its own."""
    progress(f"scheduler alone: cycles of {scheduler.VMS:,} VMs x {scheduler.HOSTS:,} hosts")
    return (scheduler.cycle_rows() + placement.rows(scale.vms, scale.hosts, CLIENTS)
            + deploy.rows(scale.samples, scale.burst, CLIENTS)
            + monitoring.rows(scale.hosts, scale.monitor_seconds, CLIENTS)
            + monitoring.rows(scale.hosts * monitoring.CAPACITY_SCALE, scale.monitor_seconds,
                              CLIENTS))


def measure(scale: Scale, parts: tuple[str, ...] = ("api", "engine")) -> list[Section]:
    sections = []
    if "api" in parts:
        sections.append(Section("Issue 2: API and pools", scale.describe(), measure_api(scale)))
    if "engine" in parts:
        sections.append(Section("Issue 3: scheduler, life cycle and monitoring",
                                scale.describe_engine(), measure_engine(scale)))
    return sections


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK.vms:,} VMs / {QUICK.hosts:,} hosts, pool-size "
                             "targets not judged, RESULTS.md left alone unless --results is given")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help=f"where to write the report (default: {RESULTS} on a full "
                             "run on SQLite)")
    parser.add_argument("--only", choices=("api", "engine"),
                        help="only issue 2's figures (api) or issue 3's (engine); RESULTS.md "
                             "is left alone unless --results is given")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the servers' database: SQLite files, or databases of a "
                             "throw-away PostgreSQL server (bench.postgres)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    scale = QUICK if args.quick else FULL
    try:
        with ExitStack() as stack:
            if args.db == "postgresql":
                cluster = Cluster(durable=True)
                stack.callback(cluster.stop)
                use_postgresql(cluster)
            sections = measure(scale, (args.only,) if args.only else ("api", "engine"))
    except (BenchError, OSError, http.client.HTTPException, xmlrpc.client.Error) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    judged = not args.quick
    for section in sections:
        print_table(section.rows, judged,
                    f"{section.title}: {scale.vms:,} VMs, {scale.hosts:,} hosts")
    partial = args.quick or args.only or args.db != "sqlite"
    results = args.results or (None if partial else RESULTS)
    if results is not None:
        write_results(results, sections, judged)
        progress(f"wrote {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
