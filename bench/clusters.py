"""`python -m bench.clusters`: what cluster requirements cost the scheduler per cycle.

Each cycle the scheduler builds its view of every pending VM (`pending_vm`);
since clusters limit placement, that view also derives the clusters the VM's
NIC and DISK CLUSTER_IDs allow (`allowed_clusters`). Timed here on 10,000 VMs
built in memory, each with two NICs and an image disk tagged as allocation
leaves them: the whole view, and the cluster derivation alone (what cluster
placement adds to it).
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

from bench.report import Row, print_table
from one.core.placement import allowed_clusters
from one.core.scheduling import pending_vm
from one.pool.models import Vm
from one.pool.template import Template

VMS = 10_000
RUNS = 5


def _vm(oid: int) -> Vm:
    tag = {"CLUSTER_ID": f"0,{100 + oid % 3}"}
    nics = [("NIC", {"NETWORK_ID": str(n), "IP": f"10.0.{n}.{oid % 250}", **tag}) for n in (0, 1)]
    disk = ("DISK", {"IMAGE_ID": "3", "DATASTORE_ID": "1", **tag})
    system = Template([("CPU", "0.5"), ("MEMORY", "512"), disk, *nics])
    user = Template([("SCHED_REQUIREMENTS", 'HYPERVISOR = "kvm"')])
    return Vm(oid=oid, template=system, user_template=user, resched=0, history=[])


def _median_ms(vms: list[Vm], work: Callable[[Vm], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for vm in vms:
            work(vm)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run() -> list[Row]:
    vms = [_vm(i) for i in range(VMS)]
    view = _median_ms(vms, pending_vm)
    clusters = _median_ms(vms, lambda vm: allowed_clusters(vm.template))
    return [Row(f"scheduler's view of {VMS:,} VMs (3 devices with CLUSTER_ID each)", view, "ms"),
            Row("of which the clusters they allow", clusters, "ms"),
            Row("clusters per VM per cycle", clusters / VMS * 1000, "µs")]


if __name__ == "__main__":
    print_table(run(), judged=False, title=f"Cluster requirements, median of {RUNS} runs")
