"""Host monitoring: how many host updates oned makes per second, and whether any is lost.

The 7.4 HOST document has no LAST_MON_TIME, so updates are read off each
host's MONITORING/TIMESTAMP in one.hostpool.info, sampled a few times per
second: a host whose timestamp changed between two samples was updated.
Timestamps are whole seconds (the cycle's start, and cycles start at least
MONITORING_INTERVAL apart), so none hides behind another at this sampling.
A cycle updates every host, so a cycle that other hosts show and a host
lacks between two of its own updates is a lost update (the cycles at either
end of the sampling may be caught half-committed, so they are not counted).

A cycle starts every interval, so 1,000 hosts at MONITORING_INTERVAL = 1 can
show at most 1,000 updates/s however fast the writes are. What oned can make
is measured on a second server at MONITORING_INTERVAL = 0, whose cycles run
back to back and each log how long probing and writing its hosts took (oned
logs a cycle that took the interval or longer): hosts / that time is the rate
of updates it sustains, each cycle writing every host (the sampling above
checks that none is lost; the log says how many a failed commit kept out).
The same runs on CAPACITY_SCALE times as many hosts show it on a larger pool.
"""
from __future__ import annotations

import re
import statistics
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.report import HOST_UPDATES, UPDATES_LOST, Row, progress
from bench.rpc import BenchError
from bench.server import oned_conf, scratch_server
from bench.timing import Poster
from bench.watch import host_states, wait_monitored
from bench.workload import add_hosts

INTERVAL = 1       # MONITORING_INTERVAL, seconds
CAPACITY_SCALE = 5
SAMPLE_EVERY = 0.25
_CYCLE = re.compile(r"monitoring cycle: (\d+) hosts probed in ([\d.]+) s, written in ([\d.]+) s, "
                    r"(\d+) not written")


def _cycles(log: Path, skip: int) -> list[tuple[int, float, float, int]]:
    """(hosts, probe s, write s, not written) of each cycle oned logged after the first `skip`."""
    found = _CYCLE.findall(log.read_text(errors="replace"))
    return [(int(h), float(p), float(w), int(n)) for h, p, w, n in found[skip:]]


@dataclass
class Sampling:
    updates: dict[int, int]          # host ID -> updates seen
    seconds: float                   # sampled for
    stamps: dict[int, list[int]]     # host ID -> the TIMESTAMPs it showed, in order

    def lost(self) -> int:
        """Cycles some host showed that another missed between two of its own updates.

        A cycle commits its hosts in batches, so the samples at either end may catch
        one half-written: only a gap inside a host's own run of updates is a loss."""
        cycles = sorted({stamp for seen in self.stamps.values() for stamp in seen})
        missed = 0
        for seen in self.stamps.values():
            inner = [c for c in cycles if seen[0] < c < seen[-1]]
            missed += len(set(inner) - set(seen))
        return missed


def _sample(poster: Poster, seconds: float) -> Sampling:
    last = {hid: stamp for hid, (_, stamp) in host_states(poster).items()}
    sampling = Sampling(dict.fromkeys(last, 0), 0, {hid: [stamp] for hid, stamp in last.items()})
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        time.sleep(SAMPLE_EVERY)
        for hid, (_, stamp) in host_states(poster).items():
            if stamp != last[hid]:
                sampling.updates[hid] += 1
                sampling.stamps[hid].append(stamp)
                last[hid] = stamp
    sampling.seconds = time.perf_counter() - start
    return sampling


def _cycles_logged(hosts: int, seconds: float, clients: int) -> list[tuple[int, float, float, int]]:
    """The cycles of `hosts` hosts a server at MONITORING_INTERVAL = 0 ran in `seconds`."""
    with scratch_server(oned_conf(MONITORING_INTERVAL=0)) as server, \
            closing(Poster(server.address, server.path)) as poster:
        add_hosts(server.url, hosts, clients)
        wait_monitored(poster, hosts)
        assert server.log is not None
        before = len(_cycles(server.log, 0))
        progress(f"monitoring: {hosts:,} hosts, cycles back to back for {seconds:.0f} s")
        time.sleep(seconds)
        cycles = [c for c in _cycles(server.log, before) if c[0] == hosts]
    if not cycles:
        raise BenchError(f"no monitoring cycle of {hosts:,} hosts logged in {seconds:.0f} s")
    return cycles


def rows(hosts: int, seconds: float, clients: int) -> list[Row]:
    with scratch_server(oned_conf(MONITORING_INTERVAL=INTERVAL)) as server, \
            closing(Poster(server.address, server.path)) as poster:
        add_hosts(server.url, hosts, clients)
        wait_monitored(poster, hosts)
        progress(f"monitoring: sampling {hosts:,} hosts' timestamps for {seconds:.0f} s")
        sampling = _sample(poster, seconds)
    if max(sampling.updates.values()) < 2:
        raise BenchError(f"fewer than two monitoring cycles in {sampling.seconds:.0f} s")
    most = max(sampling.updates.values())
    label = f"{hosts:,} dummy hosts, MONITORING_INTERVAL = {INTERVAL}"
    cycles = _cycles_logged(hosts, seconds, clients)
    cycle = statistics.median(probe + write for _, probe, write, _ in cycles)
    write = statistics.median(write for _, _, write, _ in cycles)
    return [
        Row(f"host updates per second, {label}", sum(sampling.updates.values()) / sampling.seconds,
            "updates/s"),
        Row(f"host updates lost over {most} cycles (a cycle a host missed between two of "
            f"its own)", sampling.lost(), "updates", UPDATES_LOST),
        Row(f"lossless host updates per second, {hosts:,} dummy hosts, MONITORING_INTERVAL = 0: "
            f"hosts / (probe + write) of a cycle (median of {len(cycles)})", hosts / cycle,
            "updates/s", HOST_UPDATES),
        Row(f"host updates written per second, {hosts:,} hosts: hosts / write of a cycle",
            hosts / write, "updates/s"),
        Row(f"host updates a failed commit kept out, {len(cycles)} cycles",
            sum(c[3] for c in cycles), "updates", UPDATES_LOST),
    ]
