"""The `dummy` drivers of every kind, as a `one` plugin (entry point `dummy`).

Besides the hooks oned calls, this module lets tests act on the pretend
hosts behind oned's back: `hypervisor("node1").kill("one-3")` makes a guest
vanish, `hypervisor("node1").domains()` shows what runs there, `reset()`
forgets every host between tests (as a new process would), and
`violations(state_dir)` checks that no action was applied twice.
"""
from __future__ import annotations

import os

from one.plugins import DriverRegistry, IMDriver, TMDriver, VMMDriver, VNMDriver, hookimpl
from one_dummy import state, worlds
from one_dummy.drivers import DummyIM, DummyTM, DummyVMM, DummyVNM
from one_dummy.hypervisor import Datacenter, Domain, DomainError, Hypervisor
from one_dummy.knobs import ACTIONS
from one_dummy.state import StateDir
from one_dummy.worlds import DATACENTER

__all__ = [
    "ACTIONS", "DATACENTER", "Datacenter", "Domain", "DomainError", "DummyIM", "DummyTM",
    "DummyVMM", "DummyVNM", "Hypervisor", "StateDir", "hypervisor", "reset", "violations",
]


def hypervisor(host: str) -> Hypervisor:
    """The pretend hypervisor of a host, as the drivers built last (oned's) see it."""
    return worlds.current().hypervisor(host)


def reset() -> None:
    """Forget every domain and checkpoint held in memory; STATE_DIRs keep theirs."""
    worlds.forget()


def violations(state_dir: str | os.PathLike[str]) -> list[str]:
    """Actions of `<state_dir>/actions.jsonl` applied where their work was already done."""
    return state.violations(StateDir(state_dir).journal())


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
