"""Transfer plans: what the TM driver must do, composed from a VM's disks.

The core decides the steps (OpenNebula's CLONE, LN, MKSWAP, MKIMAGE, MV,
DELETE); TM drivers only know how to carry out each kind of step.
"""
from __future__ import annotations

from typing import Mapping

from one.plugins.drivers import Location, TransferStep
from one.plugins.views import VmView


def _size(disk: Mapping[str, str]) -> int:
    value = disk.get("SIZE", "0")
    return int(value) if str(value).isdigit() else 0


def _disk_step(vm: VmView, index: int, disk: Mapping[str, str]) -> TransferStep | None:
    dst = Location(f"{vm.system_dir}/disk.{index}", vm.host)
    kind = disk.get("TYPE", "").lower()
    if kind == "swap":
        return TransferStep("MKSWAP", dst, size_mb=_size(disk))
    if kind in ("fs", "datablock") and not disk.get("SOURCE"):
        return TransferStep("MKIMAGE", dst, size_mb=_size(disk), fstype=disk.get("FORMAT", "raw"))
    source = disk.get("SOURCE")
    if not source:
        return None
    op = "LN" if disk.get("CLONE", "YES").upper() == "NO" else "CLONE"
    return TransferStep(op, dst, src=Location(source), size_mb=_size(disk))


def context_iso(vm: VmView) -> str:
    """Where the core writes the VM's CONTEXT CD-ROM on the front-end."""
    return f"{vm.local_dir}/context.iso"


def prolog(vm: VmView) -> list[TransferStep]:
    """Each disk to the host (copy, link, or made there), then the context CD-ROM."""
    disks = vm.template.vectors("DISK")
    steps = [step for step in (_disk_step(vm, i, disk) for i, disk in enumerate(disks)) if step]
    if vm.template.vector("CONTEXT") is not None:
        steps.append(TransferStep("CONTEXT", Location(f"{vm.system_dir}/disk.{len(disks)}", vm.host),
                                  src=Location(context_iso(vm))))
    return steps


def epilog(vm: VmView) -> list[TransferStep]:
    """Disks marked SAVE go back (a persistent image's disk to the image itself),
    then the VM directory goes."""
    saved = []
    for i, disk in enumerate(vm.template.vectors("DISK")):
        if disk.get("SAVE_AS_SOURCE"):
            back = disk["SAVE_AS_SOURCE"]   # disk-saveas: into the new image
        elif disk.get("SAVE", "NO").upper() != "YES":
            continue
        else:
            back = disk["SOURCE"] if disk.get("PERSISTENT") == "YES" and disk.get("SOURCE") else (
                f"{vm.local_dir}/disk.{i}")
        saved.append(TransferStep("MV", Location(back), src=Location(f"{vm.system_dir}/disk.{i}", vm.host)))
    return saved + [TransferStep("DELETE", Location(vm.system_dir, vm.host))]


def stop(vm: VmView) -> list[TransferStep]:
    return [TransferStep("MV", Location(vm.local_dir), src=Location(vm.system_dir, vm.host))]


def resume(vm: VmView) -> list[TransferStep]:
    return [TransferStep("MV", Location(vm.system_dir, vm.host), src=Location(vm.local_dir))]


def migrate(vm: VmView) -> list[TransferStep]:
    return [TransferStep("MV", Location(vm.system_dir, vm.host),
                         src=Location(vm.system_dir, vm.previous_host))]


def cleanup(vm: VmView) -> list[TransferStep]:
    hosts = [h for h in (vm.host, vm.previous_host) if h]
    return [TransferStep("DELETE", Location(vm.system_dir, h)) for h in dict.fromkeys(hosts)]
