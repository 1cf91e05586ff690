"""A third-party `one` plugin: a VMM that keeps its guests in a dict, and an IM.

It implements only deploy, shutdown, cancel and poll, as a minimal driver
would; every other action falls to the base class. `BrokenVMM` exists to
prove the conformance suite catches a driver that lies about an action.
"""
from __future__ import annotations

import threading

from one.plugins import (
    DriverRegistry, HostProbe, HostView, IMDriver, PollState, VMMDriver, VmPoll, VmView,
    hookimpl,
)


class SampleVMM(VMMDriver):
    """Guests are entries of a dict: deploy id -> the host it runs on."""

    name = "sample"

    def __init__(self, config: dict[str, str] | None = None) -> None:
        super().__init__(config)
        self._lock = threading.Lock()
        self.domains: dict[str, str] = {}

    def deploy(self, vm: VmView, host: HostView) -> str:
        deploy_id = f"sample-{vm.id}"
        with self._lock:
            self.domains[deploy_id] = host.name
        return deploy_id

    def shutdown(self, vm: VmView, host: HostView) -> None:
        """A guest already gone was shut down before: success (the contract's idempotence)."""
        with self._lock:
            if self.domains.get(vm.deploy_id, host.name) != host.name:
                raise RuntimeError(f"{vm.deploy_id} is not running on {host.name}")
            self.domains.pop(vm.deploy_id, None)

    def cancel(self, vm: VmView, host: HostView) -> None:
        with self._lock:
            self.domains.pop(vm.deploy_id, None)

    def poll(self, vm: VmView, host: HostView) -> VmPoll:
        with self._lock:
            running = self.domains.get(vm.deploy_id) == host.name
        return VmPoll(PollState.RUNNING if running else PollState.GONE, cpu=0.5, memory=65536)


class BrokenVMM(SampleVMM):
    """Claims reboot by overriding it, then refuses the wrong way; never registered."""

    name = "sample-broken"

    def reboot(self, vm: VmView, host: HostView) -> None:
        raise NotImplementedError("reboot")


class SampleIM(IMDriver):
    """A fixed small host."""

    name = "sample"

    def monitor(self, host: HostView) -> HostProbe:
        return HostProbe(values={
            "HYPERVISOR": "sample", "TOTALCPU": "200", "FREECPU": "200",
            "TOTALMEMORY": "2097152", "FREEMEMORY": "2097152"})


@hookimpl
def one_register_vmm_drivers(registry: DriverRegistry[VMMDriver]) -> None:
    registry.add(SampleVMM)


@hookimpl
def one_register_im_drivers(registry: DriverRegistry[IMDriver]) -> None:
    registry.add(SampleIM)
