"""`python -m bench.growth [--db sqlite|postgresql|both] [--scales 1000,10000,100000]`:
how the API's cost grows with the pool.

One oned (a separate process, dummy drivers, scheduler off) per backend; the
pool grows through one.vm.allocate (VMs on hold: nothing is placed) by
`--clients` threads from one scale to the next, and at each scale the
allocate rate of that step, one.vmpool.info of a page of 2,000 and of the
whole pool (raw keep-alive HTTP POSTs reading the whole reply), and the
server's RSS are taken. PostgreSQL is a throw-away server (bench.postgres)
with fsync on and synchronous_commit off, the durability of oned's SQLite
(WAL, synchronous=NORMAL).
"""
from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from dataclasses import dataclass

from bench.postgres import Cluster
from bench.rpc import request_body
from bench.server import Server, scratch_server, use_postgresql
from bench.timing import Poster
from bench.workload import timed_calls

PAGE = 2000
# ~450 bytes: a VM as a front-end sends it, without a NIC (a network of 100,000
# leases is not what is measured here).
TEMPLATE = """NAME = "grow-{index:06d}"
CPU = "0.5"
VCPU = "2"
MEMORY = "2048"
OS = [ ARCH = "x86_64", BOOT = "disk0" ]
DISK = [ TYPE = "fs", SIZE = "20480", FORMAT = "qcow2", TARGET = "vda" ]
GRAPHICS = [ TYPE = "VNC", LISTEN = "0.0.0.0" ]
CONTEXT = [ SET_HOSTNAME = "$NAME", SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3Nza bench@one" ]
ROLE = "frontend"
COST_CENTER = "cc-{index:06d}"
"""


@dataclass
class Point:
    """The figures at one pool size."""

    backend: str
    vms: int
    allocate_rate: float      # VMs/s over the step that reached `vms`
    page_ms: float            # median, one.vmpool.info of PAGE VMs
    whole_ms: float           # median, one.vmpool.info of every VM
    whole_mb: float
    rss_mb: float

    def row(self) -> str:
        per_vm_us = self.whole_ms * 1000 / self.vms
        return (f"| {self.backend} | {self.vms:,} | {self.allocate_rate:,.0f} | "
                f"{self.page_ms:.1f} | {self.whole_ms:,.0f} | {per_vm_us:.1f} | "
                f"{self.whole_mb:,.1f} | {self.rss_mb:,.0f} |")


HEADER = ("| backend | VMs | allocate, VMs/s | vmpool.info page of 2,000, ms | "
          "vmpool.info whole pool, ms | whole pool, µs per VM | whole pool, MB | RSS, MB |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- |")


def _runs(vms: int) -> int:
    """Whole-pool listings timed: fewer as they grow (each is ~2 kB per VM)."""
    return 10 if vms <= 10_000 else 3


def measure(backend: str, server: Server, scales: list[int], clients: int) -> list[Point]:
    points = []
    allocated = 0
    poster = Poster(server.address, server.path)
    for vms in scales:
        calls = [(TEMPLATE.format(index=i), True) for i in range(allocated, vms)]
        rate = timed_calls(server.url, "one.vm.allocate", calls, clients)
        allocated = vms
        page = poster.latency("one.vmpool.info", request_body("one.vmpool.info", -2, 0, -PAGE, -1),
                              runs=20)
        whole = poster.latency("one.vmpool.info", request_body("one.vmpool.info", -2, -1, -1, -1),
                               runs=_runs(vms), warmup=1)
        points.append(Point(backend, vms, rate, page.median_ms, whole.median_ms, whole.reply_mb,
                            server.rss_mb()))
        print(points[-1].row(), flush=True)
    poster.close()
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scales", default="1000,10000,100000",
                        help="pool sizes, growing (comma-separated)")
    parser.add_argument("--clients", type=int, default=8, help="allocating client threads")
    options = parser.parse_args()
    scales = sorted(int(n) for n in options.scales.split(","))
    backends = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    print(HEADER, flush=True)
    with ExitStack() as stack:
        cluster = None
        if "postgresql" in backends:
            cluster = Cluster(durable=True)
            stack.callback(cluster.stop)
        for backend in backends:
            begin = time.monotonic()
            use_postgresql(cluster if backend == "postgresql" else None)
            with scratch_server() as server:
                measure(backend, server, scales, options.clients)
            print(f"<!-- {backend}: {time.monotonic() - begin:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
