"""The KVM virtualization driver: OpenNebula's actions on libvirt domains.

Every action is idempotent, as the driver contract asks, by asking libvirt
first: a domain already running is not created or restored again, one gone
is not shut down again, a save whose image libvirt can read is done.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable, Mapping

import libvirt

from one.plugins import HostView, PollState, VmPoll, VmView
from one_vmm_kvm.connections import Connections
from one.drivers.guests import wait_until, yes
from one_vmm_kvm import hotplug
from one_vmm_kvm.deployment import KvmDefaults, domain_xml
from one_vmm_kvm.snapshots import KvmChanges

# libvirt domain states as OpenNebula's poll letters.
STATES = {
    libvirt.VIR_DOMAIN_RUNNING: PollState.RUNNING, libvirt.VIR_DOMAIN_BLOCKED: PollState.RUNNING,
    libvirt.VIR_DOMAIN_SHUTDOWN: PollState.RUNNING, libvirt.VIR_DOMAIN_PAUSED: PollState.PAUSED,
    libvirt.VIR_DOMAIN_CRASHED: PollState.ERROR, libvirt.VIR_DOMAIN_SHUTOFF: PollState.GONE,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PollState.PAUSED, libvirt.VIR_DOMAIN_NOSTATE: PollState.UNKNOWN,
}


def _missing(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID)


def _saved(conn: libvirt.virConnect, checkpoint: str) -> bool:
    """Whether the host holds a complete save image there (libvirt reads its header)."""
    try:
        conn.saveImageGetXMLDesc(checkpoint, 0)
    except libvirt.libvirtError:
        return False
    return True


def domain_type(settings: Mapping[str, str]) -> str:
    """kvm when /dev/kvm can be used, else qemu (TCG); `DOMAIN_TYPE` forces either."""
    wanted = settings.get("DOMAIN_TYPE", "auto").lower()
    if wanted != "auto":
        return wanted
    return "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "qemu"


class KvmVMM(KvmChanges):
    name = "kvm"

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.connections = Connections(self.config)
        self.defaults = KvmDefaults(domain_type=domain_type(self.config),
                                    emulator=self.config.get("EMULATOR", ""),
                                    machine=self.config.get("MACHINE", ""))
        self.shutdown_timeout = float(self.config.get("SHUTDOWN_TIMEOUT", "300"))
        self.detach_timeout = float(self.config.get("DETACH_TIMEOUT", "60"))
        self.migrate_flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
        if yes(self.config.get("MIGRATE_UNSAFE")):
            # libvirt refuses disks on a file system it cannot tell is shared
            # (OpenNebula's MIGRATE_OPTIONS=--unsafe): the admin vouches for it.
            self.migrate_flags |= libvirt.VIR_MIGRATE_UNSAFE

    def _domain(self, conn: libvirt.virConnect, vm: VmView) -> libvirt.virDomain:
        return conn.lookupByName(vm.deploy_id or f"one-{vm.id}")

    def _active(self, conn: libvirt.virConnect, vm: VmView) -> bool:
        """Whether the VM's domain runs on that connection's host."""
        try:
            return bool(self._domain(conn, vm).isActive())
        except libvirt.libvirtError as exc:
            if _missing(exc):
                return False
            raise

    def _unless_active(self, action: str, host: HostView, vm: VmView,
                       start: Callable[[libvirt.virConnect], libvirt.virDomain]) -> str:
        """Start the domain, or name the one already running: it was started before."""
        def once(conn: libvirt.virConnect) -> str:
            if self._active(conn, vm):
                self.log.info("%s: %s already runs on %s, nothing to do", action,
                              self._domain(conn, vm).name(), self.connections.uri(host))
                return str(self._domain(conn, vm).name())
            name = str(start(conn).name())
            self.log.info("%s: %s started on %s", action, name, self.connections.uri(host))
            return name
        return self.connections.run(host, once)

    def deploy(self, vm: VmView, host: HostView) -> str:
        xml = domain_xml(vm, self.defaults)
        if vm.local_dir:
            os.makedirs(vm.local_dir, exist_ok=True)
            with open(os.path.join(vm.local_dir, "deployment.xml"), "w") as out:
                out.write(xml)
        return self._unless_active("deploy", host, replace(vm, deploy_id=""),
                                   lambda c: c.createXML(xml, 0))

    def shutdown(self, vm: VmView, host: HostView) -> None:
        """ACPI shutdown, then wait for the domain to go; a timeout fails, or destroys it
        with `FORCE_DESTROY = yes` (OpenNebula's kvmrc setting of that name)."""
        def ask(conn: libvirt.virConnect) -> None:
            try:
                self._domain(conn, vm).shutdown()
            except libvirt.libvirtError as exc:
                if not _missing(exc):
                    raise
        self.connections.run(host, ask)
        try:
            wait_until(lambda: self._state(vm, host) == PollState.GONE, self.shutdown_timeout,
                       f"{vm.deploy_id} did not shut down in {self.shutdown_timeout:g} s")
        except TimeoutError:
            if not yes(self.config.get("FORCE_DESTROY")):
                raise
            self.log.info("shutdown: %s ignored ACPI, destroyed (FORCE_DESTROY)", vm.deploy_id)
            self.cancel(vm, host)
        self.log.info("shutdown: %s is gone", vm.deploy_id)

    def cancel(self, vm: VmView, host: HostView) -> None:
        def destroy(conn: libvirt.virConnect) -> None:
            try:
                self._domain(conn, vm).destroy()
            except libvirt.libvirtError as exc:
                if not _missing(exc):
                    raise
        self.connections.run(host, destroy)
        self.log.info("cancel: %s destroyed", vm.deploy_id)

    def reboot(self, vm: VmView, host: HostView) -> None:
        self.connections.run(host, lambda c: self._domain(c, vm).reboot(0))

    def reset(self, vm: VmView, host: HostView) -> None:
        self.connections.run(host, lambda c: self._domain(c, vm).reset(0))

    def save(self, vm: VmView, host: HostView, checkpoint: str) -> None:
        """Done before when the domain is gone and libvirt reads its image at `checkpoint`."""
        os.makedirs(os.path.dirname(checkpoint), exist_ok=True)

        def once(conn: libvirt.virConnect) -> None:
            if not self._active(conn, vm) and _saved(conn, checkpoint):
                self.log.info("save: %s already saved to %s", vm.deploy_id, checkpoint)
                return
            self._domain(conn, vm).save(checkpoint)
            self.log.info("save: %s saved to %s", vm.deploy_id, checkpoint)
        self.connections.run(host, once)

    def restore(self, vm: VmView, host: HostView, checkpoint: str) -> str:
        def start(conn: libvirt.virConnect) -> libvirt.virDomain:
            conn.restore(checkpoint)
            return self._domain(conn, replace(vm, deploy_id=""))
        return self._unless_active("restore", host, vm, start)

    def migrate(self, vm: VmView, source: HostView, target: HostView) -> None:
        """Live, peer to peer: the source libvirtd talks to the target's.

        Done before when the domain runs on the target and no longer on the source.
        """
        destination = self.connections.uri(target)
        if not self.connections.run(source, lambda c: self._active(c, vm)) \
                and self.connections.run(target, lambda c: self._active(c, vm)):
            self.log.info("migrate: %s already on %s", vm.deploy_id, destination)
            return
        self.connections.run(source, lambda c: self._domain(c, vm).migrateToURI3(
            destination, {}, self.migrate_flags))
        self.log.info("migrate: %s now on %s", vm.deploy_id, destination)

    def _state(self, vm: VmView, host: HostView) -> PollState:
        def state(conn: libvirt.virConnect) -> PollState:
            try:
                return STATES.get(self._domain(conn, vm).state()[0], PollState.UNKNOWN)
            except libvirt.libvirtError as exc:
                if _missing(exc):
                    return PollState.GONE
                raise
        return self.connections.run(host, state)

    def poll(self, vm: VmView, host: HostView) -> VmPoll:
        def read(conn: libvirt.virConnect) -> VmPoll:
            try:
                state, _, memory, _, _ = self._domain(conn, vm).info()
            except libvirt.libvirtError as exc:
                if _missing(exc):
                    return VmPoll(PollState.GONE)
                raise
            return VmPoll(STATES.get(state, PollState.UNKNOWN), memory=memory)
        return self.connections.run(host, read)

    def attach_disk(self, vm: VmView, host: HostView, disk: Mapping[str, str]) -> None:
        self._plug("attach_disk", vm, host, *hotplug.disk_xml(vm, disk, self.defaults))

    def detach_disk(self, vm: VmView, host: HostView, disk: Mapping[str, str]) -> None:
        self._unplug("detach_disk", vm, host, *hotplug.disk_xml(vm, disk, self.defaults))

    def attach_nic(self, vm: VmView, host: HostView, nic: Mapping[str, str]) -> None:
        self._plug("attach_nic", vm, host, *hotplug.nic_xml(vm, nic, self.defaults))

    def detach_nic(self, vm: VmView, host: HostView, nic: Mapping[str, str]) -> None:
        self._unplug("detach_nic", vm, host, *hotplug.nic_xml(vm, nic, self.defaults))

    def _plug(self, action: str, vm: VmView, host: HostView, xml: str,
              find: hotplug.Finder) -> None:
        done = self.connections.run(host, lambda c: hotplug.attach(self._domain(c, vm), xml, find))
        self.log.info("%s: %s %s", action, vm.deploy_id,
                      "plugged in" if done else "has the device already, nothing to do")

    def _unplug(self, action: str, vm: VmView, host: HostView, xml: str,
                find: hotplug.Finder) -> None:
        done = self.connections.run(host, lambda c: hotplug.detach(
            self._domain(c, vm), xml, find, self.detach_timeout))
        self.log.info("%s: %s %s", action, vm.deploy_id,
                      "unplugged" if done else "lacks the device already, nothing to do")
