"""What every hypervisor's deployment file reads the same way from a VM.

Why shared: the KVM and Xen drivers write different files (libvirt XML,
xl.cfg) from the same template, and must agree on its meaning - where disk
`i` lives on the host, which target a disk without one gets, what MEMORY
and the GRAPHICS port are - or a VM would change shape with its hypervisor.
"""
from __future__ import annotations

import string
import time
from collections.abc import Callable, Mapping

from one.plugins.views import VmView


def yes(value: str | None) -> bool:
    """OpenNebula's booleans: YES, yes, true, 1."""
    return (value or "").strip().lower() in ("yes", "true", "1")


def domain_name(vm: VmView) -> str:
    """The guest's name on its hypervisor, as oned names it (DEPLOY_ID)."""
    return f"one-{vm.id}"


def memory_mb(vm: VmView) -> int:
    """MEMORY in MB; a VM without a valid one cannot be deployed."""
    memory = vm.template.get("MEMORY")
    if not memory or not memory.isdigit() or int(memory) <= 0:
        raise ValueError(f"VM {vm.id} has no valid MEMORY (MB) to deploy")
    return int(memory)


def disk_path(vm: VmView, index: int) -> str:
    """Where the transfer driver put disk `index` (the context CD-ROM is the one after the last)."""
    return f"{vm.system_dir}/disk.{index}"


def next_target(used: set[str], prefix: str) -> str:
    """The first free device name with that prefix (hda, hdb, ... or xvda, ...)."""
    for letter in string.ascii_lowercase:
        if prefix + letter not in used:
            return prefix + letter
    raise ValueError("no free disk target")


def vnc_port(graphics: Mapping[str, str], vm: VmView, base: int) -> str:
    """GRAPHICS/PORT, else the VNC base port plus the VM id, as oned assigns it (-1: any)."""
    return graphics.get("PORT") or str(base + vm.id)


def wait_until(done: Callable[[], bool], timeout: float, failure: str,
               interval: float = 0.5) -> None:
    """Ask `done` until it says yes; TimeoutError(failure) after `timeout` seconds.

    Why: hypervisors acknowledge a graceful shutdown at once and the guest
    takes its time, while the driver contract says shutdown returns once the
    guest is gone."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            raise TimeoutError(failure)
        time.sleep(interval)
