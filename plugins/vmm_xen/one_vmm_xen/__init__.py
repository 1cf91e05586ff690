"""Xen through xl for one: `onehost create node1 --im xen --vm xen`."""
from __future__ import annotations

from one.plugins import DriverRegistry, hookimpl
from one_vmm_xen.probe import XenIM
from one_vmm_xen.vmm import XenVMM

__all__ = ["XenIM", "XenVMM"]


@hookimpl
def one_register_vmm_drivers(registry: DriverRegistry) -> None:
    registry.add(XenVMM)


@hookimpl
def one_register_im_drivers(registry: DriverRegistry) -> None:
    registry.add(XenIM)
