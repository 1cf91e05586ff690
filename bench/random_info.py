"""one.vm.info on VM ids drawn at random, by client processes.

ab sends one body over and over, so its one.vm.info asks for one VM, which
the server then hands out from its cache of recently read documents. Users
ask for any of 10,000 VMs. Here each client process keeps one keep-alive
connection and sends bodies for ids drawn (seeded) from the whole pool,
checking that every reply is a success. Python clients are slower than ab,
so the no-op is timed by the same clients: the ratio compares like with like.
"""
from __future__ import annotations

import random
import time
from concurrent.futures import ProcessPoolExecutor

from bench.report import progress
from bench.rpc import request_body, succeeded
from bench.timing import Poster

WARMUP = 50


def _run(address: tuple[str, int], path: str, method: str, bodies: list[bytes]) -> int:
    """Send every body once on one connection; returns how many were answered."""
    poster = Poster(address, path)
    try:
        for body in bodies:
            succeeded(method, poster.post(body))
    finally:
        poster.close()
    return len(bodies)


def _rate(pool: ProcessPoolExecutor, address: tuple[str, int], path: str, method: str,
          batches: list[list[bytes]]) -> float:
    list(pool.map(_run, *zip(*[(address, path, method, b[:WARMUP]) for b in batches])))  # warm-up
    start = time.perf_counter()
    answered = sum(pool.map(_run, *zip(*[(address, path, method, b) for b in batches])))
    return answered / (time.perf_counter() - start)


def rates(address: tuple[str, int], path: str, vms: int, requests: int,
          clients: int) -> tuple[float, float]:
    """(one.system.version, one.vm.info on random ids) requests per second."""
    rng, each = random.Random(20261205), requests // clients
    noop = request_body("one.system.version")
    info = [[request_body("one.vm.info", rng.randrange(vms)) for _ in range(each)]
            for _ in range(clients)]
    progress(f"one.system.version and one.vm.info on random ids: {requests:,} requests "
             f"each by {clients} client processes")
    with ProcessPoolExecutor(clients) as pool:
        noop_rate = _rate(pool, address, path, "one.system.version", [[noop] * each] * clients)
        info_rate = _rate(pool, address, path, "one.vm.info", info)
    return noop_rate, info_rate
