"""`python -m bench.ec2`: 100 VMs burst to one EC2 host, and what polling them costs.

moto's EC2 server on loopback (the tests' own, with IAM authentication on)
stands for AWS. oned runs as its own process with the scheduler, one EC2
host of CAPACITY m1.small x 100 and no local host, so every VM bursts; the
figure is from the first allocate to all 100 RUNNING (each deploy waits for
its instance to run). Then one monitoring probe of the host, run here by the
IM driver against the same account: its time and how many EC2 calls it made
(one DescribeInstances for all instances, never one per VM).
"""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import closing
from pathlib import Path

from one_vmm_ec2 import Ec2IM
from rich.console import Console
from rich.table import Table

from bench.server import oned_conf, scratch_server
from bench.timing import Poster
from bench.watch import ACTIVE, RUNNING_VM, settle, vm_count, wait_monitored
from bench.workload import timed_calls
from one.plugins import HostView, TemplateView
from one.states import HostState
from tests.ec2.motoserver import Account, MotoServer  # the tests' moto

VMS = 100
CLIENTS = 8
STALL = 120.0      # seconds without all VMs RUNNING after which the bench fails
PROBES = 5         # probes timed after the burst (median reported)
CONFIG = oned_conf('VM_MAD = [ NAME = "ec2", POLL_INTERVAL = "0.2" ]',
                   MAX_DISPATCH=VMS, MAX_HOST=VMS, MONITORING_INTERVAL=3600)


def _burst(url: str, poster: Poster, account: Account) -> float:
    poster.call("one.host.allocate", "ec2-bench", "ec2", "ec2", -1)
    poster.call("one.host.update", 0, account.host_template(f'M1_SMALL = "{VMS}"'), 1)
    wait_monitored(poster, 1)
    template = (f'CPU = 1 MEMORY = 1024 PUBLIC_CLOUD = [ TYPE = "ec2", '
                f'AMI = "{account.ami()}", INSTANCETYPE = "m1.small" ]')
    start = time.perf_counter()
    timed_calls(url, "one.vm.allocate", [(template, False)] * VMS, CLIENTS)
    running, at = settle(lambda: vm_count(poster, ACTIVE, RUNNING_VM), VMS, 0.05, STALL)
    if running != VMS:
        raise RuntimeError(f"{running} of {VMS} VMs RUNNING after {STALL:.0f} s without change")
    return at - start


def _probe(account: Account) -> tuple[float, int, int]:
    """Median seconds of one probe, the EC2 calls it made, the VMs it reported."""
    im = Ec2IM({})
    host = HostView(0, "ec2-bench", HostState.MONITORED, "ec2", "ec2", template=TemplateView.of([
        ("EC2_ACCESS", account.access), ("EC2_SECRET", account.secret),
        ("EC2_ENDPOINT", account.endpoint), ("CAPACITY", {"M1_SMALL": str(VMS)})]))
    calls: list[str] = []
    im.clients.get(host).meta.events.register(
        "before-call.ec2", lambda model, **_: calls.append(model.name))
    times, reported = [], 0
    for _ in range(PROBES):
        calls.clear()
        start = time.perf_counter()
        reported = len(im.monitor(host).vms or {})
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], len(calls), reported


def main() -> None:
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"   # nothing but moto on loopback, ever
    with tempfile.TemporaryDirectory(prefix="one-bench-ec2-") as work:
        moto = MotoServer(Path(work) / "moto.log")
        try:
            account = moto.fresh_account()
            with scratch_server(CONFIG, scheduler=True) as server, \
                    closing(Poster(server.address, server.path)) as poster:
                burst = _burst(server.url, poster, account)
            probe, calls, reported = _probe(account)
        finally:
            moto.stop()
    table = Table(title="one_vmm_ec2 against moto_server on loopback")
    table.add_column("metric")
    table.add_column("measured", justify="right")
    table.add_row(f"burst of {VMS} VMs to one EC2 host by {CLIENTS} clients, "
                  f"first allocate -> all RUNNING", f"{burst:.1f} s")
    table.add_row("RUNNING per second", f"{VMS / burst:.1f} VMs/s")
    table.add_row(f"one probe of the host, {reported} instances (median of {PROBES})",
                  f"{probe * 1000:.0f} ms")
    table.add_row("EC2 API calls per probe", str(calls))
    Console().print(table)


if __name__ == "__main__":
    main()
