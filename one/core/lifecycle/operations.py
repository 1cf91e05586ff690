"""Driver operations: the calls each transitional phase makes, in order.

An operation is built in the life-cycle thread from frozen views and the
drivers the VM's host and networks name, then run by the driver runner. It
returns the hypervisor id for boots and restores, None otherwise; it raises
to fail.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from one.core import context, transfer
from one.plugins.drivers import TMDriver, VMMDriver, VNMDriver
from one.plugins.views import HostView, VmView

Operation = Callable[[], "str | None"]
log = logging.getLogger(__name__)
T = TypeVar("T")


def _need(value: T | None, what: str) -> T:
    """A driver or host the operation cannot do without (a clear failure, not a None crash)."""
    if value is None:
        raise RuntimeError(f"no {what} for this operation")
    return value


@dataclass(frozen=True)
class Drivers:
    """Everything an operation may call, resolved before it is queued."""

    vm: VmView
    host: HostView | None          # where the VM is (the target, while migrating)
    previous: HostView | None      # where it was (source of a migration)
    vmm: VMMDriver | None
    tm: TMDriver | None
    networks: Sequence[VNMDriver]
    hard: bool = False             # cancel instead of shutdown


def _around_boot(d: Drivers, host: HostView, start: Callable[[], str]) -> str:
    for network in d.networks:
        network.pre(d.vm, host)
    deploy_id = start()
    for network in d.networks:
        network.post(d.vm, host)
    return deploy_id


def _stop_then_clean(d: Drivers, host: HostView, stop: Callable[[], None]) -> None:
    stop()
    for network in d.networks:
        network.clean(d.vm, host)


def _live_migrate(d: Drivers) -> None:
    vmm = _need(d.vmm, "virtualization driver")
    target, source = _need(d.host, "target host"), _need(d.previous, "source host")
    for network in d.networks:
        network.pre(d.vm, target)
    vmm.migrate(d.vm, source, target)
    for network in d.networks:
        network.clean(d.vm, source)
        network.post(d.vm, target)


def _cleanup(d: Drivers) -> None:
    """Best effort, as oned's delete: every step is tried, failures only logged."""
    steps: list[Callable[[], object]] = []
    if d.vmm and d.host and d.vm.deploy_id:
        steps.append(lambda: d.vmm.cancel(d.vm, d.host))
    steps += [lambda n=n: n.clean(d.vm, d.host) for n in d.networks if d.host]
    if d.tm:
        steps.append(lambda: d.tm.execute(d.vm, transfer.cleanup(d.vm)))
    for step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - clean-up goes on whatever fails
            log.warning("VM %s clean-up step failed: %s", d.vm.id, exc)


_PLANS = {"prolog": transfer.prolog, "prolog_resume": transfer.resume,
          "prolog_migrate": transfer.migrate, "epilog": transfer.epilog,
          "epilog_stop": transfer.stop}
def _transfer(name: str, vm: VmView, tm: TMDriver) -> None:
    """Run a plan; the prolog first writes the CONTEXT CD-ROM it copies."""
    if name == "prolog" and vm.template.vector("CONTEXT") is not None:
        context.build_iso(transfer.context_iso(vm), vm)
    tm.execute(vm, _PLANS[name](vm))


def build(name: str, d: Drivers, migrating_save: bool = False) -> Operation:
    """The operation called `name` (see phases.OPERATIONS) bound to its drivers."""
    vm = d.vm
    if name == "cleanup":
        return lambda: _cleanup(d)
    if name == "migrate":
        return lambda: _live_migrate(d)
    if name in _PLANS:
        tm = _need(d.tm, "transfer driver")
        return lambda: _transfer(name, vm, tm)
    vmm, host = _need(d.vmm, "virtualization driver"), _need(d.host, "host")
    if name == "boot":
        return lambda: _around_boot(d, host, lambda: vmm.deploy(vm, host))
    if name == "restore":
        return lambda: _around_boot(d, host, lambda: vmm.restore(vm, host, vm.checkpoint))
    if name == "shutdown":
        stop = vmm.cancel if d.hard else vmm.shutdown
        return lambda: _stop_then_clean(d, host, lambda: stop(vm, host))
    if name == "save":
        where = _need(d.previous, "source host") if migrating_save else host
        return lambda: _stop_then_clean(d, where, lambda: vmm.save(vm, where, vm.checkpoint))
    if name in ("reboot", "reset"):
        return lambda: getattr(vmm, name)(vm, host)
    raise ValueError(f"unknown operation {name}")
