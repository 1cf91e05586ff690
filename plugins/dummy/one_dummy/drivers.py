"""OpenNebula's dummy drivers: every action succeeds at once unless told not to.

They let oned, its tests and its benchmarks run whole life cycles with no
hypervisor, while staying honest enough to catch a core that forgets a
DEPLOY_ID or repeats work (see `hypervisor`): every VMM action is idempotent
and journals whether it applied anything (see `state`). Each action first
obeys the delay and failure knobs (see `knobs`), then logs one line: info for
the actions oned asks for, debug for the periodic poll and monitor.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from one.plugins import (
    Driver, HostProbe, HostView, IMDriver, PollState, TMDriver, TransferStep, VmPoll, VmView,
    VNMDriver,
)
from one_dummy import knobs
from one_dummy.changes import InPlace
from one_dummy.knobs import steered
from one_dummy.hypervisor import Datacenter, Domain, Hypervisor
from one_dummy.worlds import datacenter_for

def poll_of(domain: Domain | None) -> VmPoll:
    """What the hypervisor shows of a domain; a missing one is GONE."""
    if domain is None:
        return VmPoll(PollState.GONE)
    traffic = domain.network_bytes()
    return VmPoll(PollState.RUNNING, cpu=domain.cpu, memory=domain.memory_kib,
                  netrx=traffic, nettx=traffic // 2)


class _OnHypervisors(Driver):
    """The VMM and IM drivers share one datacenter, so monitoring sees deployments."""

    def __init__(self, config: Mapping[str, str] | None = None,
                 datacenter: Datacenter | None = None) -> None:
        super().__init__(config)
        # Tests pass their own to stay apart from other tests in the process.
        self.datacenter = datacenter or datacenter_for(self.config)

    def hypervisor(self, host: str) -> Hypervisor:
        return self.datacenter.hypervisor(host)


class DummyVMM(_OnHypervisors, InPlace):
    """Every action of `VMMDriver`, on the pretend hypervisors."""

    name = "dummy"

    @steered
    def deploy(self, vm: VmView, host: HostView) -> str:
        memory = knobs.number(vm.template.get("MEMORY", "0") or "0",
                              f"MEMORY in the TEMPLATE of VM {vm.id}", int, "a size in MiB")
        domain = Domain(f"one-{vm.id}", memory_kib=memory * 1024)
        self._act("deploy", replace(vm, deploy_id=domain.deploy_id), host.name,
                  lambda: self.hypervisor(host.name).create(domain),
                  f"VM {vm.id} runs as {domain.deploy_id} on {host.name}")
        return domain.deploy_id

    @steered
    def shutdown(self, vm: VmView, host: HostView) -> None:
        self._stop("shutdown", vm, host, "is off")

    @steered
    def cancel(self, vm: VmView, host: HostView) -> None:
        self._stop("cancel", vm, host, "is destroyed")

    def _stop(self, action: str, vm: VmView, host: HostView, what: str) -> None:
        """A guest already gone is success: the stop was done before."""
        self._act(action, vm, host.name, lambda: self.hypervisor(host.name).discard(vm.deploy_id),
                  f"{vm.deploy_id} {what} on {host.name}")

    @steered
    def reboot(self, vm: VmView, host: HostView) -> None:
        self._restart("reboot", vm, host)

    @steered
    def reset(self, vm: VmView, host: HostView) -> None:
        self._restart("reset", vm, host)

    def _restart(self, action: str, vm: VmView, host: HostView) -> None:
        """A guest restarting stays RUNNING; one that is not there cannot restart."""
        self._act(action, vm, host.name,
                  lambda: bool(self.hypervisor(host.name).require(vm.deploy_id)),
                  f"{vm.deploy_id} restarted on {host.name}")

    @steered
    def save(self, vm: VmView, host: HostView, checkpoint: str) -> None:
        self._act("save", vm, host.name,
                  lambda: self.datacenter.save(host.name, vm.deploy_id, checkpoint),
                  f"{vm.deploy_id} saved to {checkpoint} on {host.name}")

    @steered
    def restore(self, vm: VmView, host: HostView, checkpoint: str) -> str:
        deploy_id = vm.deploy_id or f"one-{vm.id}"
        self._act("restore", vm, host.name,
                  lambda: self.datacenter.restore(host.name, deploy_id, checkpoint),
                  f"{deploy_id} runs again from {checkpoint} on {host.name}")
        return deploy_id

    @steered
    def migrate(self, vm: VmView, source: HostView, target: HostView) -> None:
        self._act("migrate", vm, target.name,
                  lambda: self.datacenter.migrate(vm.deploy_id, source.name, target.name),
                  f"{vm.deploy_id} moved from {source.name} to {target.name}")

    @steered
    def attach_disk(self, vm: VmView, host: HostView, disk: Mapping[str, str]) -> None:
        self._plug("attach_disk", vm, host, f"disk:{disk.get('DISK_ID')}", True)

    @steered
    def detach_disk(self, vm: VmView, host: HostView, disk: Mapping[str, str]) -> None:
        self._plug("detach_disk", vm, host, f"disk:{disk.get('DISK_ID')}", False)

    @steered
    def attach_nic(self, vm: VmView, host: HostView, nic: Mapping[str, str]) -> None:
        self._plug("attach_nic", vm, host, f"nic:{nic.get('NIC_ID')}", True)

    @steered
    def detach_nic(self, vm: VmView, host: HostView, nic: Mapping[str, str]) -> None:
        self._plug("detach_nic", vm, host, f"nic:{nic.get('NIC_ID')}", False)

    def _plug(self, action: str, vm: VmView, host: HostView, device: str, present: bool) -> None:
        """A device of a guest that must run there; asked again, nothing changes."""
        self._act(action, vm, host.name,
                  lambda: self.hypervisor(host.name).plug(vm.deploy_id, device, present),
                  f"{device} {'plugged into' if present else 'unplugged from'} {vm.deploy_id}")

    @steered
    def poll(self, vm: VmView, host: HostView) -> VmPoll:
        found = poll_of(self.hypervisor(host.name).get(vm.deploy_id))
        self.log.debug("poll: %s is %s on %s", vm.deploy_id, found.state.name, host.name)
        return found


class DummyIM(_OnHypervisors, IMDriver):
    """A roomy host that reports the domains the dummy VMM runs on it."""

    name = "dummy"

    @steered
    def monitor(self, host: HostView) -> HostProbe:
        cpu, memory = self._capacity("TOTALCPU", 800), self._capacity("TOTALMEMORY", 16777216)
        values = {
            "HYPERVISOR": "dummy", "HOSTNAME": host.name, "TOTALCPU": cpu, "CPUSPEED": "2200",
            "TOTALMEMORY": memory, "USEDMEMORY": "0", "FREEMEMORY": memory, "FREECPU": cpu,
            "USEDCPU": "0", "NETRX": "0", "NETTX": "0",
        }
        vms = {deploy_id: poll_of(domain)
               for deploy_id, domain in self.hypervisor(host.name).domains().items()}
        self.log.debug("monitor: %s runs %d domains", host.name, len(vms))
        return HostProbe(values=values, vms=vms)

    def _capacity(self, attr: str, default: int) -> str:
        """A capacity from the settings, checked so oned never stores nonsense."""
        value = self.config.get(attr, str(default))
        return str(knobs.number(value, f"{attr} in the driver settings", int, "a whole number"))


class DummyTM(TMDriver):
    """Accepts every transfer plan without moving a byte, logging what it would do."""

    name = "dummy"

    @steered
    def execute(self, vm: VmView, steps: Sequence[TransferStep]) -> None:
        for step in steps:
            self.log.info("execute: %s", step)
        self.log.info("execute: %d steps done for VM %s", len(steps), vm.id)


class DummyVNM(VNMDriver):
    """No network to set up; says so in the VM's log."""

    name = "dummy"

    @steered
    def pre(self, vm: VmView, host: HostView) -> None:
        self.log.info("pre: networks of VM %s ready on %s", vm.id, host.name)

    @steered
    def post(self, vm: VmView, host: HostView) -> None:
        self.log.info("post: filters of VM %s in place on %s", vm.id, host.name)

    @steered
    def clean(self, vm: VmView, host: HostView) -> None:
        self.log.info("clean: networks of VM %s undone on %s", vm.id, host.name)
