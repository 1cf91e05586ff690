"""The Xen virtualization driver: OpenNebula's actions as xl commands on the host.

Every action is idempotent by asking xl first (`xl list <name>`): a domain
already running is not created or restored again, one gone is not shut down
or destroyed again, a save whose domain is gone and whose checkpoint is there
is done (xl destroys a domain only once its save is complete).
"""
from __future__ import annotations

import io
import os
from typing import Mapping

from one.drivers.guests import domain_name
from one.drivers.remote import quote
from one.plugins import HostView, Location, PollState, VMMDriver, VmPoll, VmView
from one_vmm_xen.config import XenDefaults, xl_config
from one_vmm_xen.xl import Xl

DEPLOYMENT = "deployment.cfg"


def _name(vm: VmView) -> str:
    """The domain: its DEPLOY_ID once deployed, the name oned gives it before."""
    return vm.deploy_id or domain_name(vm)


class XenVMM(VMMDriver):
    name = "xen"

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.defaults = XenDefaults.from_config(self.config)
        self.xl = Xl(self.config)

    def deploy(self, vm: VmView, host: HostView) -> str:
        """The deployment file to the VM's directory on the host (kept on the front-end too),
        then `xl create` of it."""
        name, text = domain_name(vm), xl_config(vm, self.defaults)
        if vm.local_dir:
            os.makedirs(vm.local_dir, exist_ok=True)
            with open(os.path.join(vm.local_dir, DEPLOYMENT), "w") as out:
                out.write(text)
        if self.xl.alive(host.name, name):
            self.log.info("deploy: %s already runs on %s, nothing to do", name, host.name)
            return name
        path = f"{vm.system_dir}/{DEPLOYMENT}"
        self.xl.remote.run(host.name, f"mkdir -p -- {quote(vm.system_dir)}")
        self.xl.remote.upload(io.BytesIO(text.encode()).read, Location(path, host.name))
        self.xl.run(host.name, "create", path)
        self.log.info("deploy: %s created on %s from %s", name, host.name, path)
        return name

    def shutdown(self, vm: VmView, host: HostView) -> None:
        name = _name(vm)
        if self.xl.alive(host.name, name):
            self.xl.shutdown(host.name, name)
        self.log.info("shutdown: %s is gone", name)

    def cancel(self, vm: VmView, host: HostView) -> None:
        name = _name(vm)
        if self.xl.alive(host.name, name):
            self.xl.run(host.name, "destroy", name)
        self.log.info("cancel: %s is gone", name)

    def reboot(self, vm: VmView, host: HostView) -> None:
        """`-F`: an HVM guest without PV drivers gets an ACPI reset button press instead."""
        self.xl.run(host.name, "reboot", "-F", _name(vm))

    def reset(self, vm: VmView, host: HostView) -> None:
        self.xl.run(host.name, "trigger", _name(vm), "reset")

    def save(self, vm: VmView, host: HostView, checkpoint: str) -> None:
        name = _name(vm)
        if not self.xl.alive(host.name, name) and self._exists(host, checkpoint):
            self.log.info("save: %s already saved to %s", name, checkpoint)
            return
        self.xl.remote.run(host.name, f"mkdir -p -- {quote(os.path.dirname(checkpoint))}")
        self.xl.run(host.name, "save", name, checkpoint)
        self.log.info("save: %s saved to %s", name, checkpoint)

    def restore(self, vm: VmView, host: HostView, checkpoint: str) -> str:
        name = domain_name(vm)
        if self.xl.alive(host.name, name):
            self.log.info("restore: %s already runs on %s, nothing to do", name, host.name)
            return name
        self.xl.run(host.name, "restore", checkpoint)
        return name

    def migrate(self, vm: VmView, source: HostView, target: HostView) -> None:
        """Live: xl on the source sends the domain to `xl migrate-receive` on the target
        over ssh."""
        name = _name(vm)
        if not self.xl.alive(source.name, name) and self.xl.alive(target.name, name):
            self.log.info("migrate: %s already on %s", name, target.name)
            return
        self.xl.run(source.name, "migrate", name, target.name)
        self.log.info("migrate: %s now on %s", name, target.name)

    def poll(self, vm: VmView, host: HostView) -> VmPoll:
        found = self.xl.domain(host.name, _name(vm))
        if found is None:
            return VmPoll(PollState.GONE)
        return VmPoll(found.state, memory=found.memory_mb * 1024)

    def _exists(self, host: HostView, path: str) -> bool:
        said = self.xl.remote.run(host.name, f"if [ -s {quote(path)} ]; then echo yes; fi")
        return said.strip() == "yes"

