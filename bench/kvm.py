"""`python -m bench.kvm`: real QEMU guests (TCG) through oned and the KVM driver.

Measures allocate -> RUNNING of one guest (median of several), 20 guests
deployed at once on one host, and what monitoring costs per VM (one IM probe
of the host, one VMM poll). Needs libvirtd (started here if it is not running).
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

GUEST = "CPU = 0.1 MEMORY = 32 DISK = [ TARGET = hda ] GRAPHICS = [ TYPE = vnc, PORT = -1 ]"
SAMPLES, CONCURRENT = 7, 20


def _libvirtd() -> None:
    if subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True).returncode:
        subprocess.run(["virtlogd", "-d"], check=False)
        subprocess.run(["libvirtd", "-d"], check=True)
        time.sleep(2)


def _server(work: Path):
    from tests.conftest import Caller, start_oned  # the same wiring the tests use
    datastores = work / "ds"
    config = (f'DATASTORE_LOCATION = "{datastores}"\nSCHED = "no"\nMONITORING_INTERVAL = 3600\n'
              'VM_MAD = [ NAME = "kvm", DOMAIN_TYPE = "qemu" ]\n')
    oned = start_oned(work, config_text=config)
    return oned, Caller(oned.endpoint), datastores


def _disk(datastores: Path, vid: int) -> None:
    directory = datastores / "0" / str(vid)
    directory.mkdir(parents=True, exist_ok=True)
    for path in (datastores, datastores / "0", directory):
        path.chmod(0o755)
    with open(directory / "disk.0", "wb") as out:
        out.truncate(2**20)


def _running(rpc, vid: int, deadline: float) -> None:
    while "<LCM_STATE>3</LCM_STATE>" not in rpc.ok("one.vm.info", vid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"VM {vid} not RUNNING in time: {rpc.ok('one.vm.info', vid)[-400:]}")
        time.sleep(0.005)


def _one(rpc, datastores: Path) -> float:
    start = time.perf_counter()
    vid = rpc.ok("one.vm.allocate", GUEST, False)
    _disk(datastores, vid)
    rpc.ok("one.vm.deploy", vid, 0)
    _running(rpc, vid, time.monotonic() + 60)
    took = time.perf_counter() - start
    rpc.ok("one.vm.action", "terminate-hard", vid)
    return took


def _burst(rpc, datastores: Path) -> tuple[float, list[int]]:
    vids = [rpc.ok("one.vm.allocate", GUEST, False) for _ in range(CONCURRENT)]
    for vid in vids:
        _disk(datastores, vid)
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:  # a proxy per call: ServerProxy is not thread-safe
        list(pool.map(lambda v: type(rpc)(rpc.endpoint).ok("one.vm.deploy", v, 0), vids))
    deadline = time.monotonic() + 180
    for vid in vids:
        _running(rpc, vid, deadline)
    return time.perf_counter() - start, vids


def _poll_costs(oned) -> tuple[float, float]:
    from one.core.views import host_view, vm_view
    from one.pool.models import Host, Vm
    plugins, host = oned.managers.plugins, host_view(Host.get(Host.oid == 0))
    im, vmm = plugins.driver("im", "kvm"), plugins.driver("vmm", "kvm")
    start = time.perf_counter()
    probe = im.monitor(host)
    probe_each = (time.perf_counter() - start) / max(1, len(probe.vms or {}))
    views = [vm_view(vm, oned.config) for vm in Vm.select().where(Vm.lcm_state == 3)]
    start = time.perf_counter()
    for view in views:
        vmm.poll(view, host)
    return probe_each, (time.perf_counter() - start) / max(1, len(views))


def main() -> None:
    _libvirtd()
    work = Path(tempfile.mkdtemp(prefix="one-bench-kvm-", dir="/var/tmp"))
    work.chmod(0o755)
    oned, rpc, datastores = _server(work)
    try:
        oned.start_engine()
        rpc.ok("one.host.allocate", "localhost", "kvm", "kvm", -1)
        oned.managers.monitor.cycle()
        singles = [_one(rpc, datastores) for _ in range(SAMPLES)]
        burst, vids = _burst(rpc, datastores)
        probe_each, poll_each = _poll_costs(oned)
        for vid in vids:
            rpc.ok("one.vm.action", "terminate-hard", vid)
    finally:
        oned.stop()
        shutil.rmtree(work, ignore_errors=True)
    table = Table(title="one + KVM driver, real QEMU guests (TCG)")
    for column in ("metric", "measured"):
        table.add_column(column)
    table.add_row(f"allocate -> RUNNING, one guest (median of {SAMPLES})",
                  f"{statistics.median(singles) * 1000:.0f} ms")
    table.add_row(f"{CONCURRENT} guests deployed at once on one host, all RUNNING", f"{burst:.2f} s")
    table.add_row("IM probe of the host, per VM", f"{probe_each * 1000:.2f} ms")
    table.add_row("VMM poll, per VM", f"{poll_each * 1000:.2f} ms")
    Console().print(table)


if __name__ == "__main__":
    main()
