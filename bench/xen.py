"""`python -m bench.xen [--vms N]`: what the Xen driver costs oned per VM and per probe.

Why: every Xen action is an `xl` command over the shared SSH executor, where
the KVM driver makes one libvirt call; the figures say what that costs. Timed:
the deployment file (a pure function), Xen's own libxlutil reading it back
(what a test costs per template), one `xl list` round trip to an sshd on
127.0.0.9 over the shared connection (the fake xl of tests/xen answers: a
Python start-up, which a real xl, a C program, does not pay), and an IM probe
(three xl commands) of a host holding N domains.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from one_vmm_xen import XenIM, XenVMM
from one_vmm_xen.config import xl_config

from bench.report import Row, print_table, progress
from one.plugins import HostView
from one.states import HostState
from tests.sshd import SshHost
from tests.xen import libxlutil  # the tests' ctypes binding of libxlutil
from tests.xen.cases import CASES, vm

ADDRESS = "127.0.0.9"
FAKE_XL = Path(__file__).resolve().parent.parent / "tests" / "xen" / "fake_xl.py"


def per_call(action: Callable[[], object], rounds: int) -> float:
    """Median seconds of one call, over `rounds` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parse(texts: list[str]) -> None:
    """Read each deployment file back with libxlutil, as the tests do."""
    for text in texts:
        with libxlutil.parsed(text):
            pass


def measure(vms: int, work: Path) -> list[Row]:
    views = [vm(i, CASES[name]) for i, name in enumerate(sorted(CASES))]
    texts = [xl_config(view) for view in views]
    rows = [Row("deployment file, per VM", 1e6 * per_call(
                lambda: [xl_config(view) for view in views], 200) / len(views), "µs"),
            Row("libxlutil reads it, per file", 1e6 * per_call(
                lambda: parse(texts), 200) / len(texts), "µs")]
    with SshHost(ADDRESS, 0) as host:     # port 0: SshHost picks a free one
        settings = {"SSH_KEY": str(host.client_key), "KNOWN_HOSTS": str(host.known_hosts),
                    "SSH_PORT": str(host.port),
                    "XL": f"{sys.executable} {FAKE_XL} --state {work / 'xl'}"}
        target = HostView(id=0, name=ADDRESS, state=HostState.MONITORED, im_mad="xen",
                          vm_mad="xen")
        vmm, im = XenVMM(settings), XenIM(settings)
        try:
            for vid in range(vms):
                guest = vm(vid, [("CPU", "0.1"), ("MEMORY", "16")])
                vmm.deploy(replace(guest, system_dir=str(work / "ds" / str(vid))), target)
            progress(f"{vms} domains on {ADDRESS}")
            rows.append(Row("`true` over ssh: the executor alone", 1e3 * per_call(
                lambda: vmm.xl.remote.run(ADDRESS, "true"), 30), "ms"))
            rows.append(Row("xl list <name> over ssh (fake xl)", 1e3 * per_call(
                lambda: vmm.xl.run(ADDRESS, "list", "one-0"), 30), "ms"))
            probe = per_call(lambda: im.monitor(target), 10)
            rows.append(Row(f"IM probe of a host with {vms} domains", 1e3 * probe, "ms"))
        finally:
            vmm.xl.close()
            im.xl.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-xen-") as work:
        rows = measure(args.vms, Path(work))
    print_table(rows, judged=False, title=f"The Xen driver ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
