"""`python -m bench.scheduler`: time one scheduling cycle of 10,000 VMs on 1,000 hosts.

The scheduler is pure, so it is timed on its own, in this process, with a
deploy callback that does nothing: what is measured is match-making alone.
OpenNebula's mm_sched needed 276 s for this load; the floor is a tenth of
that and the aim a hundredth.

Two workloads: VMs drawn from a few dozen requirement strings (as templates
share them in practice), and the worst case where every VM has its own
requirement string, so nothing can be shared between VMs.
"""
from __future__ import annotations

import random
import resource
import statistics
from typing import Any, Callable

from bench.report import CYCLE, Row, print_table
from one.core.scheduler.scheduler import PendingVm, SchedConfig, SchedHost, Scheduler

HOSTS = 1_000
VMS = 10_000
RUNS = 3
# (cores, memory GB) of the host models in the pool
MODELS = ((8, 32), (16, 64), (32, 128), (64, 256))
HYPERVISORS = ("kvm",) * 18 + ("lxc", "vcenter")
CLUSTERS = (0, 100, 101, 102)


def host(i: int, rng: random.Random) -> SchedHost:
    """A monitored host: template values arrive as text, HOST_SHARE as numbers."""
    cores, memory_gb = rng.choice(MODELS)
    max_cpu, max_mem = cores * 100, memory_gb * 1024 ** 2
    running = rng.randrange(0, cores)
    cpu_usage, mem_usage = running * 50, running * 1024 ** 2
    free_cpu = max(0, max_cpu - cpu_usage - rng.randrange(0, 100))
    cluster_id = CLUSTERS[i % len(CLUSTERS)]
    template = {
        "HOSTNAME": f"node{i}", "HYPERVISOR": rng.choice(HYPERVISORS), "ARCH": "x86_64",
        "MODELNAME": "AMD EPYC 7543", "CPUSPEED": "2800", "TOTALCPU": str(max_cpu),
        "TOTALMEMORY": str(max_mem), "FREE_CPU": str(free_cpu),
        "FREE_MEMORY": str(max_mem - mem_usage), "USED_CPU": str(max_cpu - free_cpu),
        "USED_MEMORY": str(mem_usage), "NETRX": "123456789", "NETTX": "987654321",
        "PRIORITY": str(rng.randrange(0, 10)), "RACK": f"r{i // 40}",
    }
    share = {"MAX_CPU": max_cpu, "MAX_MEM": max_mem, "CPU_USAGE": cpu_usage,
             "MEM_USAGE": mem_usage, "TOTAL_CPU": max_cpu, "TOTAL_MEM": max_mem,
             "RUNNING_VMS": running, "DISK_USAGE": 0}
    variables = {**template, **share, "ID": i, "NAME": f"node{i}", "CLUSTER_ID": cluster_id,
                 "CLUSTER": f"cluster{cluster_id}"}
    return SchedHost(i, f"node{i}", cluster_id, max_cpu, cpu_usage, max_mem, mem_usage,
                     running, free_cpu, variables)


def shared_requirements() -> list[str]:
    """A few dozen strings, as a few dozen templates would carry."""
    texts = [f'HYPERVISOR = "kvm" & FREE_CPU > {cpu} & !(HOSTNAME = "node{digit}*")'
             for cpu in (100, 200, 400) for digit in range(1, 10)]
    texts += [f'CLUSTER_ID = {cluster} & TOTALMEMORY >= {gb * 1024 ** 2}'
              for cluster in CLUSTERS for gb in (64, 128)]
    texts += ['RACK = "r1*" | RACK = "r2*"', 'HYPERVISOR != "vcenter" & RUNNING_VMS < 40',
              'PRIORITY > 2 & CPUSPEED >= 2000', ""]
    return texts


def own_requirement(i: int) -> str:
    return f'HYPERVISOR = "kvm" & FREE_CPU > {i % 7 * 50} & !(HOSTNAME = "node{i}")'


RANKS = ("",) * 6 + ("FREE_CPU", "FREE_MEMORY - RUNNING_VMS * 1048576", "-RUNNING_VMS",
                     "PRIORITY")


def vms(requirement: Callable[[int, random.Random], str], rng: random.Random) -> list[PendingVm]:
    pending = []
    for i in range(VMS):
        resched = rng.random() < 0.01
        clusters = frozenset({rng.choice(CLUSTERS)}) if rng.random() < 0.1 else None
        pending.append(PendingVm(
            id=i, cpu=rng.choice((0.5, 1, 1, 2, 4)), memory=rng.choice((512, 1024, 2048, 4096)),
            requirements=requirement(i, rng), rank=rng.choice(RANKS), resched=resched,
            host_id=rng.randrange(HOSTS) if resched else -1, cluster_ids=clusters))
    return pending


def measure(pending: list[PendingVm], hosts: list[SchedHost]) -> tuple[float, int]:
    """Median seconds of RUNS cycles, and how many VMs each placed (always the same)."""
    config = SchedConfig(max_vm=VMS, max_dispatch=VMS, max_host=100)
    times, placed = [], set()
    for _ in range(RUNS):
        report = Scheduler(config, lambda vm_id, host_id, resched: None).cycle(pending, hosts)
        times.append(report.seconds)
        placed.add(len(report.dispatched))
    if len(placed) != 1:
        raise SystemExit(f"cycles placed different numbers of VMs: {sorted(placed)}")
    return statistics.median(times), placed.pop()


def rows(hosts: list[SchedHost], rng: random.Random) -> list[Row]:
    shared = shared_requirements()
    cases: list[tuple[str, Callable[[int, random.Random], Any]]] = [
        (f"{len(shared)} distinct requirement strings", lambda i, r: r.choice(shared)),
        ("every VM its own requirement string", lambda i, r: own_requirement(i)),
    ]
    result = []
    for label, requirement in cases:
        seconds, placed = measure(vms(requirement, rng), hosts)
        result += [Row(f"scheduler alone, cycle, {label} (median of {RUNS})", seconds, "s", CYCLE),
                   Row(f"scheduler alone, VMs placed, {label}", placed, "VMs")]
    return result


def cycle_rows() -> list[Row]:
    """Both workloads on one seeded pool of hosts: the same figures on every run."""
    rng = random.Random(20240601)
    return rows([host(i, rng) for i in range(HOSTS)], rng)


def main() -> None:
    table = cycle_rows()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table.append(Row("process peak RSS", peak_kb / 1024, "MB"))
    print_table(table, True, f"Scheduler cycle: {VMS:,} pending VMs x {HOSTS:,} hosts, "
                             f"MAX_DISPATCH={VMS:,}, MAX_HOST=100, striping policy")


if __name__ == "__main__":
    main()
