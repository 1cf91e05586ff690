"""The KVM driver's changes in place: snapshots, disk snapshots, disk and live resize.

- System snapshots: libvirt snapshots of the running domain (memory and disks;
  QEMU keeps them inside qcow2 disks), named `snap-<id>`.
- Disk snapshots: qcow2 internal snapshots named `snap-<id>`; of a running guest
  through QEMU's monitor (blockdev-snapshot-internal-sync, as libvirt has no
  internal disk-only snapshot), of a powered-off one with `qemu-img snapshot`.
- Disk resize: `blockResize` while the guest runs, `qemu-img resize` when off.
- Live resize: `setVcpusFlags` / `setMemoryFlags` (balloon) within the maximum the
  guest booted with (VCPU_MAX, MEMORY_MAX: see deployment.py).
- update_conf: the context CD-ROM is inserted again, so the guest sees the new one.

Each looks first and does nothing when its work is done (the contract's idempotence).
"""
from __future__ import annotations

import json
import subprocess
from typing import Any, Callable, TypeVar

import libvirt
import libvirt_qemu
from lxml import etree

from one.drivers.guests import disk_path, memory_mb
from one.plugins import HostView, VMMDriver, VmView
from one.states import LcmState, VmState
from one_vmm_kvm.connections import Connections
from one_vmm_kvm.deployment import memory_hotplug

T = TypeVar("T")
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
# Phases in which oned counts the VM ACTIVE while its guest is off (powered off, suspended).
_OFF_PHASES = frozenset({
    LcmState.DISK_SNAPSHOT_POWEROFF, LcmState.DISK_SNAPSHOT_REVERT_POWEROFF,
    LcmState.DISK_SNAPSHOT_DELETE_POWEROFF, LcmState.DISK_SNAPSHOT_SUSPENDED,
    LcmState.DISK_SNAPSHOT_DELETE_SUSPENDED, LcmState.DISK_RESIZE_POWEROFF})


def _running(vm: VmView) -> bool:
    return vm.state == VmState.ACTIVE and vm.lcm_state not in _OFF_PHASES


def _name(snap_id: int) -> str:
    return f"snap-{snap_id}"


def _qemu_img(*args: str) -> str:
    done = subprocess.run(["qemu-img", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"qemu-img {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _disk_file(vm: VmView, disk_id: int) -> str:
    """The file of the disk with that DISK_ID on the host (disk.<position>)."""
    for index, disk in enumerate(vm.template.vectors("DISK")):
        if disk.get("DISK_ID", str(index)) == str(disk_id):
            return disk_path(vm, index)
    raise ValueError(f"VM {vm.id} has no disk {disk_id}")


def _plug_memory(domain: libvirt.virDomain, memory_kib: int) -> None:
    """MEMORY_RESIZE_MODE HOTPLUG: a DIMM of the difference on NUMA cell 0; shrinking
    would need the guest to give a DIMM back, which is not done."""
    current = int(etree.fromstring(domain.XMLDesc(0)).findtext("memory") or 0)
    if memory_kib < current:
        raise RuntimeError(f"{domain.name()}: hotplugged memory cannot shrink "
                           f"({current} KiB to {memory_kib} KiB)")
    if memory_kib > current:
        domain.attachDeviceFlags(
            f"<memory model='dimm'><target><size unit='KiB'>{memory_kib - current}</size>"
            "<node>0</node></target></memory>", _LIVE)


class KvmChanges(VMMDriver):
    """Mixed into `KvmVMM`, whose `connections` reach the hosts' libvirtds."""

    connections: Connections

    def _on_domain(self, vm: VmView, host: HostView,
                   call: Callable[[libvirt.virDomain], T]) -> T:
        return self.connections.run(
            host, lambda conn: call(conn.lookupByName(vm.deploy_id or f"one-{vm.id}")))

    # -- system snapshots --------------------------------------------------------------
    def snapshot_create(self, vm: VmView, host: HostView, snap_id: int, name: str) -> str:
        def create(domain: libvirt.virDomain) -> str:
            if _name(snap_id) not in domain.snapshotListNames(0):
                domain.snapshotCreateXML(
                    f"<domainsnapshot><name>{_name(snap_id)}</name></domainsnapshot>", 0)
                self.log.info("snapshot_create: %s took %s (%s)", domain.name(), _name(snap_id),
                              name)
            return _name(snap_id)
        return self._on_domain(vm, host, create)

    def snapshot_revert(self, vm: VmView, host: HostView, hypervisor_id: str) -> None:
        def revert(domain: libvirt.virDomain) -> None:
            domain.revertToSnapshot(domain.snapshotLookupByName(hypervisor_id, 0), 0)
            self.log.info("snapshot_revert: %s back to %s", domain.name(), hypervisor_id)
        self._on_domain(vm, host, revert)

    def snapshot_delete(self, vm: VmView, host: HostView, hypervisor_id: str) -> None:
        def delete(domain: libvirt.virDomain) -> None:
            if hypervisor_id in domain.snapshotListNames(0):
                domain.snapshotLookupByName(hypervisor_id, 0).delete(0)
                self.log.info("snapshot_delete: %s dropped %s", domain.name(), hypervisor_id)
        self._on_domain(vm, host, delete)

    # -- disk snapshots --------------------------------------------------------------------
    def _qmp(self, domain: libvirt.virDomain, command: str, **arguments: Any) -> Any:
        request = {"execute": command, **({"arguments": arguments} if arguments else {})}
        reply = json.loads(libvirt_qemu.qemuMonitorCommand(domain, json.dumps(request), 0))
        if "error" in reply:
            raise RuntimeError(f"QEMU {command}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    def _node(self, domain: libvirt.virDomain, path: str) -> tuple[str, list[str]]:
        """The qcow2 node QEMU opened `path` as, and its internal snapshots' names."""
        for device in self._qmp(domain, "query-block"):
            inserted = device.get("inserted") or {}
            if inserted.get("file") == path:
                names = [s["name"] for s in inserted.get("image", {}).get("snapshots", [])]
                return inserted.get("node-name") or device["device"], names
        raise RuntimeError(f"{domain.name()} has no disk {path}")

    def _disk_snapshot(self, action: str, vm: VmView, host: HostView, disk_id: int,
                       snap_id: int) -> None:
        """create, revert or delete snapshot `snap_id` of a disk, live or with qemu-img."""
        path, name = _disk_file(vm, disk_id), _name(snap_id)
        if _running(vm):
            def live(domain: libvirt.virDomain) -> None:
                node, names = self._node(domain, path)
                if (name in names) == (action == "create"):
                    return
                command = {"create": "blockdev-snapshot-internal-sync",
                           "delete": "blockdev-snapshot-delete-internal-sync"}[action]
                self._qmp(domain, command, device=node, name=name)
            self._on_domain(vm, host, live)
        else:
            names = _qemu_img("snapshot", "-l", "-U", path)
            there = any(line.split()[1:2] == [name] for line in names.splitlines())
            if action == "revert" or there != (action == "create"):
                _qemu_img("snapshot", {"create": "-c", "revert": "-a", "delete": "-d"}[action],
                          name, path)
        self.log.info("disk_snapshot_%s: %s of disk %s (%s)", action, name, disk_id, path)

    def disk_snapshot_create(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        self._disk_snapshot("create", vm, host, disk_id, snap_id)

    def disk_snapshot_revert(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        self._disk_snapshot("revert", vm, host, disk_id, snap_id)

    def disk_snapshot_delete(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        self._disk_snapshot("delete", vm, host, disk_id, snap_id)

    # -- resizes -----------------------------------------------------------------------------
    def disk_resize(self, vm: VmView, host: HostView, disk_id: int, size_mb: int) -> None:
        path, size = _disk_file(vm, disk_id), size_mb * 1024 * 1024
        if _running(vm):
            def grow(domain: libvirt.virDomain) -> None:
                if domain.blockInfo(path, 0)[0] < size:
                    domain.blockResize(path, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            self._on_domain(vm, host, grow)
        elif json.loads(_qemu_img("info", "-U", "--output=json", path))["virtual-size"] < size:
            _qemu_img("resize", path, str(size))
        self.log.info("disk_resize: disk %s (%s) is %d MB", disk_id, path, size_mb)

    def resize(self, vm: VmView, host: HostView) -> None:
        vcpu, memory = int(vm.template.get("VCPU") or 1), memory_mb(vm) * 1024

        def apply(domain: libvirt.virDomain) -> None:
            if domain.vcpusFlags(_LIVE) != vcpu:
                domain.setVcpusFlags(vcpu, _LIVE)
            if memory_hotplug(vm):
                _plug_memory(domain, memory)
            else:
                domain.setMemoryFlags(memory, _LIVE)
            self.log.info("resize: %s has %d vCPU, %d KiB", domain.name(), vcpu, memory)
        self._on_domain(vm, host, apply)

    def update_conf(self, vm: VmView, host: HostView) -> None:
        """The CONTEXT CD-ROM (the disk after the last) is inserted again with its new image."""
        if vm.template.vector("CONTEXT") is None:
            return
        iso = disk_path(vm, len(vm.template.vectors("DISK")))

        def insert(domain: libvirt.virDomain) -> None:
            for disk in etree.fromstring(domain.XMLDesc(0)).iterfind("devices/disk"):
                source = disk.find("source")
                if disk.get("device") == "cdrom" and source is not None \
                        and source.get("file") == iso:
                    domain.updateDeviceFlags(etree.tostring(disk, encoding="unicode"), _LIVE)
                    self.log.info("update_conf: %s has its new context CD-ROM", domain.name())
        self._on_domain(vm, host, insert)

