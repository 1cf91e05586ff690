"""Transfer plans: what the TM driver must do, composed from a VM's disks.

The core decides the steps (OpenNebula's CLONE, LN, MKSWAP, MKIMAGE, MV,
DELETE); TM drivers only know how to carry out each kind of step.
"""
from __future__ import annotations

from typing import Mapping

from one.plugins.drivers import Location, TransferStep
from one.plugins.views import VmView, context_number, disk_number


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
    steps = [step for step in (_disk_step(vm, disk_number(disk, i), disk)
                               for i, disk in enumerate(disks)) if step]
    if vm.template.vector("CONTEXT") is not None:
        steps.append(TransferStep("CONTEXT", Location(f"{vm.system_dir}/disk.{context_number(vm.template)}", vm.host),
                                  src=Location(context_iso(vm))))
    return steps


def epilog(vm: VmView) -> list[TransferStep]:
    """Disks marked SAVE go back (a persistent image's disk to the image itself),
    then the VM directory goes."""
    saved = [_save_step(vm, disk_number(disk, i), disk)
             for i, disk in enumerate(vm.template.vectors("DISK"))]
    return [step for step in saved if step] + [TransferStep("DELETE", Location(vm.system_dir, vm.host))]


def _save_step(vm: VmView, number: int, disk: Mapping[str, str]) -> TransferStep | None:
    """The MV that keeps a disk marked SAVE (a persistent image's to the image itself), or
    the CPDS that copies the snapshot a disk-saveas named into the new image."""
    src = Location(f"{vm.system_dir}/disk.{number}", vm.host)
    if disk.get("SAVE_AS_SOURCE") and disk.get("SAVE_AS_SNAPSHOT_ID"):
        return TransferStep("CPDS", Location(disk["SAVE_AS_SOURCE"]), src=src,
                            snapshot=int(disk["SAVE_AS_SNAPSHOT_ID"]))
    if disk.get("SAVE_AS_SOURCE"):
        back = disk["SAVE_AS_SOURCE"]   # disk-saveas: into the new image
    elif disk.get("SAVE", "NO").upper() != "YES":
        return None
    else:
        back = disk["SOURCE"] if disk.get("PERSISTENT") == "YES" and disk.get("SOURCE") else (
            f"{vm.local_dir}/disk.{number}")
    return TransferStep("MV", Location(back), src=src)


def stop(vm: VmView) -> list[TransferStep]:
    return [TransferStep("MV", Location(vm.local_dir), src=Location(vm.system_dir, vm.host))]


def resume(vm: VmView) -> list[TransferStep]:
    return [TransferStep("MV", Location(vm.system_dir, vm.host), src=Location(vm.local_dir))]


def migrate(vm: VmView) -> list[TransferStep]:
    return [TransferStep("MV", Location(vm.system_dir, vm.host),
                         src=Location(vm.system_dir, vm.previous_host))]


def resize(vm: VmView, disk: Mapping[str, str]) -> list[TransferStep]:
    """An UNDEPLOYED VM's disk grown to its SIZE where undeploy left it, the VM's directory
    on the front-end (oned's TM RESIZE in DISK_RESIZE_UNDEPLOYED)."""
    return [TransferStep("RESIZE", Location(f"{vm.local_dir}/disk.{disk_number(disk, 0)}"),
                         size_mb=_size(disk))]


def cleanup(vm: VmView) -> list[TransferStep]:
    hosts = [h for h in (vm.host, vm.previous_host) if h]
    return [TransferStep("DELETE", Location(vm.system_dir, h)) for h in dict.fromkeys(hosts)]


def attach(vm: VmView, disk: Mapping[str, str]) -> list[TransferStep]:
    """A disk hotplugged: its file made on the host as the prolog would."""
    step = _disk_step(vm, disk_number(disk, 0), disk)
    return [step] if step else []


def detach(vm: VmView, disk: Mapping[str, str]) -> list[TransferStep]:
    """A disk unplugged: kept where SAVE says (as the epilog would), else deleted."""
    saved = _save_step(vm, disk_number(disk, 0), disk)
    return [saved] if saved else discard(vm, disk)


def discard(vm: VmView, disk: Mapping[str, str]) -> list[TransferStep]:
    """A disk's file on the host deleted (a detach, or an attach the guest refused)."""
    return [TransferStep("DELETE", Location(f"{vm.system_dir}/disk.{disk_number(disk, 0)}", vm.host))]
