"""one.vm.resize: new CPU, VCPU and MEMORY for a VM, as oned 7 does it.

A VM that is not running (PENDING, HOLD, POWEROFF, UNDEPLOYED...) takes the
new capacity at once; only a POWEROFF VM still holds capacity on its host, so
only there is the host's share moved and checked. Quotas are charged by the
difference (RUNNING_* too where the VM counts as running), in the same write,
so a refused resize leaves VM, host and quotas as they were. A RUNNING VM is
resized live by its driver (HOTPLUG_RESIZE) where the driver can.
"""
from __future__ import annotations

from typing import Callable, Union

from one.core import quotas
from one.core.lifecycle import records
from one.core.quantities import MAX_CPU, MAX_MEMORY, MAX_VCPU, parse_float, parse_int
from one.errors import ActionError, InternalError
from one.pool.models import Vm
from one.pool.pools import Pools
from one.pool.template import Template
from one.states import VmState

# States in which the new capacity is simply written (oned's VirtualMachineResize).
COLD = frozenset({VmState.INIT, VmState.PENDING, VmState.HOLD, VmState.POWEROFF,
                  VmState.UNDEPLOYED, VmState.CLONING, VmState.CLONING_FAILURE})
_Parse = Callable[[Union[str, None]], Union[int, float, None]]
_CAPACITIES: tuple[tuple[str, _Parse, float, str], ...] = (
    ("CPU", parse_float, MAX_CPU, "float or integer"),
    ("VCPU", parse_int, MAX_VCPU, "integer"),
    ("MEMORY", parse_int, MAX_MEMORY, "integer"),
)


def requested(template: Template, vm: Vm) -> dict[str, str]:
    """The VM's new CPU, VCPU and MEMORY: those given (checked), the others as they are."""
    new: dict[str, str] = {}
    for name, parse, high, word in _CAPACITIES:
        text = template.get(name)
        if text is None:
            if vm.template.get(name) is not None:
                new[name] = vm.template.get(name) or ""
            continue
        value = parse(text)
        if value is None or not 0 < value <= high:
            raise InternalError(f"{name} must be a positive {word} value (at most {high}).")
        new[name] = text.strip()
    return new


def _delta(vm: Vm, new: dict[str, str]) -> quotas.Usage:
    """The quota difference: CPU and MEMORY, and their RUNNING_ twins for a running VM."""
    cpu = float(new.get("CPU") or 0) - float(vm.template.get("CPU") or 0)
    memory = float(new.get("MEMORY") or 0) - float(vm.template.get("MEMORY") or 0)
    amounts = {"CPU": round(cpu, 6), "MEMORY": memory}
    if quotas.is_running(vm.state, vm.lcm_state):
        amounts.update(RUNNING_CPU=round(cpu, 6), RUNNING_MEMORY=memory)
    return {"VM": {"": amounts}}


def apply(pools: Pools, vm: Vm, new: dict[str, str], enforce: bool = True) -> None:
    """Write the new capacity into `vm` (inside the write that saves it), moving its
    host share where it holds one and charging its quotas by the difference; without
    `enforce` (a live resize undone) neither the host nor the quotas may refuse."""
    delta = _delta(vm, new)
    held = records.holding(vm)
    host = pools.hosts.get(held[-1]["HID"]) if held else None
    if host is not None:
        records.release(host, vm)
    for name, value in new.items():
        vm.template.set(name, value)
    if host is not None:
        if enforce and not records.fits(host, vm):
            raise ActionError(f"Host [{host.oid}] does not have enough capacity for VM [{vm.oid}].")
        records.book(host, vm)
        pools.hosts.save(host)
    quotas.charge(pools, vm.uid, vm.gid, delta, enforce)
