"""Driver operations of the hotplug phases: the device in flight, on its host.

As OpenNebula's attach_disk action, a disk plugged into a running guest is
first made on the host by the transfer driver (copied, linked, or created
empty) and then given to the guest by the VMM; one unplugged leaves the
guest, then its file goes back where SAVE says or is deleted. In POWEROFF
only the transfer part runs. A NIC is wrapped by the network drivers (pre,
post; clean after a detach), which see a VM with that one NIC, so rules of
the others stay. A VMM driver without the action fails the operation
(`ActionNotSupported`): the core then drops what it set up.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable, Mapping, Sequence

from one.core import transfer
from one.core.devices import ATTACH, DETACH
from one.core.lifecycle import operations
from one.plugins.drivers import TMDriver, VMMDriver, VNMDriver
from one.plugins.views import HostView, TemplateView, VmView

log = logging.getLogger(__name__)
NAMES = frozenset({"hotplug_disk", "hotplug_nic", "hotplug_disk_files"})



def _device(vm: VmView, kind: str) -> tuple[Mapping[str, str], str]:
    """The vector of that kind in flight and its direction (ATTACH or DETACH)."""
    for vector in vm.template.vectors(kind):
        for flag in (ATTACH, DETACH):
            if vector.get(flag) == "YES":
                return vector, flag
    raise RuntimeError(f"VM {vm.id} has no {kind} being attached or detached")


def _files(vm: VmView, tm: TMDriver, disk: Mapping[str, str], flag: str) -> None:
    tm.execute(vm, transfer.attach(vm, disk) if flag == ATTACH else transfer.detach(vm, disk))


def _plug_disk(vm: VmView, host: HostView, vmm: VMMDriver, tm: TMDriver,
               disk: Mapping[str, str], flag: str) -> None:
    if flag == DETACH:
        vmm.detach_disk(vm, host, disk)
        _files(vm, tm, disk, flag)
        return
    _files(vm, tm, disk, flag)
    try:
        vmm.attach_disk(vm, host, disk)
    except Exception:
        try:   # the file made for the guest that refused it goes
            tm.execute(vm, transfer.discard(vm, disk))
        except Exception as exc:  # noqa: BLE001 - the attach's own failure is the one reported
            log.warning("VM %s: removing the disk file after a failed attach: %s", vm.id, exc)
        raise


def _plug_nic(vm: VmView, host: HostView, vmm: VMMDriver, networks: Sequence[VNMDriver],
              nic: Mapping[str, str], flag: str) -> None:
    alone = replace(vm, template=TemplateView.of(
        [(n, v) for n, v in vm.template.attrs if n != "NIC"] + [("NIC", nic)]))
    if flag == DETACH:
        vmm.detach_nic(vm, host, nic)
        for network in networks:
            network.clean(alone, host)
        return
    for network in networks:
        network.pre(alone, host)
    vmm.attach_nic(vm, host, nic)
    for network in networks:
        network.post(alone, host)


def build(name: str, d: operations.Drivers) -> Callable[[], None]:
    """The operation `name` (see NAMES) over the drivers the VM's placement names."""
    vm, host = d.vm, operations._need(d.host, "host")
    if name == "hotplug_disk_files":
        tm = operations._need(d.tm, "transfer driver")
        disk, flag = _device(vm, "DISK")
        return lambda: _files(vm, tm, disk, flag)
    vmm = operations._need(d.vmm, "virtualization driver")
    if name == "hotplug_disk":
        tm = operations._need(d.tm, "transfer driver")
        disk, flag = _device(vm, "DISK")
        return lambda: _plug_disk(vm, host, vmm, tm, disk, flag)
    nic, flag = _device(vm, "NIC")
    wanted = [n for n in d.networks if nic.get("VN_MAD") in (None, n.name)]
    return lambda: _plug_nic(vm, host, vmm, wanted, nic, flag)
