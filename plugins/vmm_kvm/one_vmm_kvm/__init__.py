"""KVM through libvirt for one: `onehost create node1 --im kvm --vm kvm`."""
from __future__ import annotations

from one.plugins import DriverRegistry, hookimpl
from one_vmm_kvm.probe import KvmIM
from one_vmm_kvm.vmm import KvmVMM

__all__ = ["KvmIM", "KvmVMM"]


@hookimpl
def one_register_vmm_drivers(registry: DriverRegistry) -> None:
    registry.add(KvmVMM)


@hookimpl
def one_register_im_drivers(registry: DriverRegistry) -> None:
    registry.add(KvmIM)
