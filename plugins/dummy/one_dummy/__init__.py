"""The `dummy` drivers of every kind, as a `one` plugin (entry point `dummy`).

Besides the hooks oned calls, this module lets tests act on the pretend
hosts behind oned's back: `hypervisor("node1").kill("one-3")` makes a guest
vanish, `hypervisor("node1").domains()` shows what runs there, and `reset()`
forgets every host between tests.
"""
from __future__ import annotations

from one.plugins import DriverRegistry, IMDriver, TMDriver, VMMDriver, VNMDriver, hookimpl
from one_dummy.drivers import DummyIM, DummyTM, DummyVMM, DummyVNM
from one_dummy.hypervisor import DATACENTER, Datacenter, Domain, DomainError, Hypervisor
from one_dummy.knobs import ACTIONS

__all__ = [
    "ACTIONS", "DATACENTER", "Datacenter", "Domain", "DomainError", "DummyIM", "DummyTM",
    "DummyVMM", "DummyVNM", "Hypervisor", "hypervisor", "reset",
]


def hypervisor(host: str) -> Hypervisor:
    """The pretend hypervisor of a host, as the drivers oned built see it."""
    return DATACENTER.hypervisor(host)


def reset() -> None:
    """Forget every domain and checkpoint of the shared datacenter."""
    DATACENTER.reset()


@hookimpl
def one_register_vmm_drivers(registry: DriverRegistry[VMMDriver]) -> None:
    registry.add(DummyVMM)


@hookimpl
def one_register_im_drivers(registry: DriverRegistry[IMDriver]) -> None:
    registry.add(DummyIM)


@hookimpl
def one_register_tm_drivers(registry: DriverRegistry[TMDriver]) -> None:
    registry.add(DummyTM)


@hookimpl
def one_register_vnm_drivers(registry: DriverRegistry[VNMDriver]) -> None:
    registry.add(DummyVNM)
