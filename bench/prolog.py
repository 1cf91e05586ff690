"""`python -m bench.prolog`: the CONTEXT CD-ROM build and the prolog of 20 VMs.

An in-process oned whose system and image datastores use tm_ssh; the host is
the front-end itself, so the ssh driver copies locally (no sshd in the way:
what is measured is the core's plan plus the driver's copying). Each VM has a
64 MiB image disk and a CONTEXT section.
"""
from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

VMS, IMAGE_MB, ISO_SAMPLES = 20, 64, 50


def _engine(work: Path):
    from tests.conftest import Engine, start_oned  # the wiring the tests use
    config = (f'DATASTORE_LOCATION = "{work / "hosts"}"\nTM_MAD_SYSTEM = "ssh"\n'
              'DEFAULT_TM_MAD = "ssh"\nSCHED = "no"\n')
    return Engine(start_oned(work, config_text=config))


def _iso_time(engine, vid: int, work: Path) -> float:
    from one.core.context import build_iso
    from one.core.views import vm_view
    view = vm_view(engine.oned.managers.pools.vms.get(vid), engine.oned.config)
    samples = []
    for i in range(ISO_SAMPLES):
        start = time.perf_counter()
        build_iso(str(work / f"iso-{i}.iso"), view)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="one-bench-prolog-"))
    engine = _engine(work)
    try:
        image = work / "base.img"
        image.write_bytes(b"\x01" * IMAGE_MB * 2**20)
        iid = engine.rpc.ok("one.image.allocate", f'NAME = base PATH = "{image}"', 1)
        hid = engine.host("localhost")
        engine.monitor()
        context = 'CONTEXT = [ NETWORK = "YES", HOSTNAME = "$NAME", SSH_PUBLIC_KEY = "ssh-ed25519 AAAA" ]'
        vids = [engine.rpc.ok("one.vm.allocate", f"CPU = 1 MEMORY = 64 DISK = [ IMAGE_ID = {iid} ] {context}",
                              False) for _ in range(VMS)]
        iso = _iso_time(engine, vids[0], work)
        start = time.perf_counter()
        for vid in vids:
            engine.rpc.ok("one.vm.deploy", vid, hid)
        engine.settle()
        prolog = time.perf_counter() - start
        placed = sum((work / "hosts" / "0" / str(v) / "disk.0").exists() for v in vids)
    finally:
        engine.oned.stop()
        shutil.rmtree(work, ignore_errors=True)
    table = Table(title=f"prolog with tm_ssh on the front-end's own host ({IMAGE_MB} MiB images)")
    for column in ("metric", "measured"):
        table.add_column(column)
    table.add_row(f"CONTEXT CD-ROM build (median of {ISO_SAMPLES})", f"{iso * 1000:.2f} ms")
    table.add_row(f"prolog + boot of {VMS} VMs, deploy -> all RUNNING", f"{prolog:.2f} s")
    table.add_row("VM disks cloned", f"{placed} of {VMS}")
    Console().print(table)


if __name__ == "__main__":
    main()
