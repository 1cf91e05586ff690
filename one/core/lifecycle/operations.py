"""Driver operations: the calls each transitional phase makes, in order.

An operation is built in the life-cycle thread from frozen views and the
drivers the VM's host and networks name, then run by the driver runner. It
returns the hypervisor id for boots and restores, None otherwise; it raises
to fail.

Each operation makes at most one hypervisor (VMM) step, the one that must
not be applied twice; when it finishes, `Drivers.mark` records it with the
VM. An operation resumed after a restart of oned skips that step when it was
recorded, or when the VMM driver's poll already shows its result (the guest
running after a boot, restore or live migration; gone after a shutdown,
cancel or save): work the hypervisor finished before oned died is never
applied twice. The other steps (networks, transfers) are idempotent by the
driver contract and run again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Mapping, Sequence, TypeVar

from one.core import context, transfer
from one.core.lifecycle import hotplug_ops
from one.plugins.drivers import PollState, TMDriver, VMMDriver, VNMDriver
from one.plugins.views import HostView, TemplateView, VmView

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
    resumed: bool = False          # caught mid-way by a restart: poll before the VMM step
    # The VMM step recorded done before the restart, with its result (a DEPLOY_ID or None).
    finished: Mapping[str, str | None] = field(default_factory=dict)
    # Records a VMM step done, with its result, as soon as it finishes.
    mark: Callable[[str, str | None], None] = lambda step, result: None


# What a poll shows once each VMM step is done.
_LEAVES = {"deploy": PollState.RUNNING, "restore": PollState.RUNNING,
           "migrate": PollState.RUNNING, "shutdown": PollState.GONE,
           "cancel": PollState.GONE, "save": PollState.GONE}


def _deploy_id(vm: VmView) -> str:
    """The guest's hypervisor id; a boot whose reply was lost has none yet (one-<id>)."""
    return vm.deploy_id or f"one-{vm.id}"


def _done_before(d: Drivers, step: str, host: HostView) -> bool:
    """After a restart: whether the guest on `host` already shows the result of `step`.

    A driver that cannot poll, or a poll that fails, says nothing: the step runs.
    """
    vmm = d.vmm
    if not d.resumed or vmm is None or not vmm.supports("poll"):
        return False
    try:
        state = vmm.poll(replace(d.vm, deploy_id=_deploy_id(d.vm)), host).state
    except Exception as exc:  # noqa: BLE001 - an unanswered poll only means "run it"
        log.warning("VM %s: poll before resuming %s failed: %s", d.vm.id, step, exc)
        return False
    done = state is _LEAVES[step]
    log.info("VM %s: resuming %s, the guest is %s on %s: %s", d.vm.id, step, state.name,
             host.name, "already done" if done else "running it")
    return done


def _vmm_step(d: Drivers, step: str, host: HostView, run: Callable[[], str | None],
              done: str | None) -> str | None:
    """Run the VMM step and record it, unless a resumed operation finds it done."""
    if step in d.finished:
        log.info("VM %s: resuming, %s was recorded done", d.vm.id, step)
        return d.finished[step]
    if _done_before(d, step, host):
        return done
    result = run()
    d.mark(step, result)
    return result


def _around_boot(d: Drivers, host: HostView, start: Callable[[], str | None]) -> str | None:
    for network in d.networks:
        network.pre(d.vm, host)
    deploy_id = start()
    for network in d.networks:
        network.post(d.vm, host)
    return deploy_id


def _stop_then_clean(d: Drivers, host: HostView, stop: Callable[[], object]) -> None:
    stop()
    for network in d.networks:
        network.clean(d.vm, host)


def _live_migrate(d: Drivers) -> None:
    vmm = _need(d.vmm, "virtualization driver")
    target, source = _need(d.host, "target host"), _need(d.previous, "source host")
    for network in d.networks:
        network.pre(d.vm, target)
    _vmm_step(d, "migrate", target, lambda: vmm.migrate(d.vm, source, target), None)
    for network in d.networks:
        network.clean(d.vm, source)
        network.post(d.vm, target)


def _cleanup(d: Drivers) -> None:
    """Best effort, as oned's delete: every step is tried, failures only logged.

    The guest is destroyed on both hosts of the last two records, as the transfer
    clean-up deletes both directories: a VM deleted mid-migration may still run on
    its source, one whose boot reply was lost has no DEPLOY_ID yet.
    """
    steps: list[Callable[[], object]] = []
    vmm, vm = d.vmm, replace(d.vm, deploy_id=_deploy_id(d.vm))
    if vmm is not None:
        hosts = {h.name: h for h in (d.host, d.previous) if h is not None}
        steps += [partial(vmm.cancel, vm, h) for h in hosts.values()]
    steps += [partial(n.clean, d.vm, d.host) for n in d.networks if d.host]
    tm = d.tm
    if tm:
        steps.append(lambda: tm.execute(d.vm, transfer.cleanup(d.vm)))
    for step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - clean-up goes on whatever fails
            log.warning("VM %s clean-up step failed: %s", d.vm.id, exc)


def public_cloud(host: HostView | None) -> bool:
    """A host of a public-cloud driver: its probe reports PUBLIC_CLOUD = YES."""
    return host is not None and (host.template.get("PUBLIC_CLOUD") or "").upper() == "YES"


def on_public_cloud(d: Drivers) -> Drivers:
    """A public cloud has no system datastore, bridges or disks of ours: no
    transfer or network driver runs, the VMM sees no local DISK/NIC (nor the VM
    document, which lists them), and CONTEXT carries the variables the CD-ROM
    would have (ETH0_IP...) for the driver to hand over as user data."""
    variables = context.context_variables(d.vm)
    variables.pop("DISK_ID", None)
    template = [(n, v) for n, v in d.vm.template.attrs if n not in ("DISK", "NIC", "CONTEXT")]
    if d.vm.template.vector("CONTEXT") is not None:
        template.append(("CONTEXT", variables))
    vm = replace(d.vm, template=TemplateView.of(template), xml="")
    return replace(d, vm=vm, tm=None, networks=())


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
    if public_cloud(d.host):
        if name in _PLANS:
            return lambda: None
        d = on_public_cloud(d)
    vm = d.vm
    if name == "cleanup":
        return lambda: _cleanup(d)
    if name == "migrate":
        return lambda: _live_migrate(d)
    if name in hotplug_ops.NAMES:
        return hotplug_ops.build(name, d)
    if name in _PLANS:
        tm = _need(d.tm, "transfer driver")
        return lambda: _transfer(name, vm, tm)
    vmm, host = _need(d.vmm, "virtualization driver"), _need(d.host, "host")
    if name == "boot":
        return lambda: _around_boot(d, host, lambda: _vmm_step(
            d, "deploy", host, lambda: vmm.deploy(vm, host), _deploy_id(vm)))
    if name == "restore":
        return lambda: _around_boot(d, host, lambda: _vmm_step(
            d, "restore", host, lambda: vmm.restore(vm, host, vm.checkpoint), _deploy_id(vm)))
    if name == "shutdown":
        stop, step = (vmm.cancel, "cancel") if d.hard else (vmm.shutdown, "shutdown")
        return lambda: _stop_then_clean(d, host, lambda: _vmm_step(
            d, step, host, lambda: stop(vm, host), None))
    if name == "save":
        where = _need(d.previous, "source host") if migrating_save else host
        return lambda: _stop_then_clean(d, where, lambda: _vmm_step(
            d, "save", where, lambda: vmm.save(vm, where, vm.checkpoint), None))
    if name in ("reboot", "reset"):
        return lambda: getattr(vmm, name)(vm, host)
    raise ValueError(f"unknown operation {name}")
