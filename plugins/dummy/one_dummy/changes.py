"""The dummy VMM's changes to a VM in place: snapshots, disk snapshots, resizes.

Like every dummy action they obey the knobs (DUMMY_FAIL = "snapshot_create"...),
are idempotent and journalled. System snapshots and the vCPU/memory of a
running guest live in its `Domain`; disks (their size and snapshots) in the
datacenter, by VM and disk, whether the VM runs or is powered off.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from one.plugins import HostView, VMMDriver, VmView
from one_dummy.hypervisor import Datacenter, DomainError
from one_dummy.knobs import steered


class InPlace(VMMDriver):
    """Base of the dummy VMM: its journalled `_act` and the changes in place."""

    datacenter: Datacenter

    def _act(self, action: str, vm: VmView, host: str, change: Callable[[], bool],
             what: str) -> None:
        """Make the action's change, journalled; the VM's log says what it did, or not."""
        deploy_id = vm.deploy_id or f"one-{vm.id}"
        if self.datacenter.act(action, host, deploy_id, vm.id, change):
            self.log.info("%s: %s", action, what)
        else:
            self.log.info("%s: already done for %s on %s, nothing to do", action, deploy_id, host)

    def _domain_change(self, action: str, vm: VmView, host: HostView, what: str,
                       **fields: Any) -> None:
        hypervisor = self.datacenter.hypervisor(host.name)
        self._act(action, vm, host.name, lambda: hypervisor.change(vm.deploy_id, **fields), what)

    def _snapshots(self, vm: VmView, host: HostView) -> tuple[str, ...]:
        return self.datacenter.hypervisor(host.name).require(vm.deploy_id).snapshots

    @steered
    def snapshot_create(self, vm: VmView, host: HostView, snap_id: int, name: str) -> str:
        hypervisor_id = f"snap-{snap_id}"
        taken = self._snapshots(vm, host)
        self._domain_change("snapshot_create", vm, host, f"{vm.deploy_id} snapshot {hypervisor_id} "
                            f"({name}) taken", snapshots=tuple(sorted({*taken, hypervisor_id})))
        return hypervisor_id

    @steered
    def snapshot_revert(self, vm: VmView, host: HostView, hypervisor_id: str) -> None:
        if hypervisor_id not in self._snapshots(vm, host):
            raise DomainError(f"dummy: {vm.deploy_id} has no snapshot {hypervisor_id!r}")
        self._act("snapshot_revert", vm, host.name, lambda: True,
                  f"{vm.deploy_id} back to snapshot {hypervisor_id}")

    @steered
    def snapshot_delete(self, vm: VmView, host: HostView, hypervisor_id: str) -> None:
        kept = tuple(s for s in self._snapshots(vm, host) if s != hypervisor_id)
        self._domain_change("snapshot_delete", vm, host,
                            f"{vm.deploy_id} snapshot {hypervisor_id} deleted", snapshots=kept)

    def _disk(self, vm: VmView, disk_id: int) -> dict[str, Any]:
        """The disk's books, from the template the first time (a disk the VM must have)."""
        given = next((d for d in vm.template.vectors("DISK")
                      if d.get("DISK_ID") == str(disk_id)), None)
        if given is None:
            raise DomainError(f"dummy: VM {vm.id} has no disk {disk_id}")
        return self.datacenter.disks.setdefault(
            f"{vm.id}/{disk_id}", {"size": int(given.get("SIZE", "0") or 0), "snapshots": set()})

    def _disk_change(self, action: str, vm: VmView, host: HostView, disk_id: int,
                     change: Callable[[dict[str, Any]], bool], what: str) -> None:
        disk = self._disk(vm, disk_id)
        self._act(action, vm, host.name, lambda: change(disk), f"disk {disk_id} of VM {vm.id} {what}")

    @steered
    def disk_snapshot_create(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        def take(disk: dict[str, Any]) -> bool:
            new = snap_id not in disk["snapshots"]
            disk["snapshots"].add(snap_id)
            return new
        self._disk_change("disk_snapshot_create", vm, host, disk_id, take, f"snapshot {snap_id} taken")

    @steered
    def disk_snapshot_revert(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        def revert(disk: dict[str, Any]) -> bool:
            if snap_id not in disk["snapshots"]:
                raise DomainError(f"dummy: disk {disk_id} of VM {vm.id} has no snapshot {snap_id}")
            return True
        self._disk_change("disk_snapshot_revert", vm, host, disk_id, revert,
                          f"back to snapshot {snap_id}")

    @steered
    def disk_snapshot_delete(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        def delete(disk: dict[str, Any]) -> bool:
            there = snap_id in disk["snapshots"]
            disk["snapshots"].discard(snap_id)
            return there
        self._disk_change("disk_snapshot_delete", vm, host, disk_id, delete,
                          f"snapshot {snap_id} deleted")

    @steered
    def disk_resize(self, vm: VmView, host: HostView, disk_id: int, size_mb: int) -> None:
        def grow(disk: dict[str, Any]) -> bool:
            if disk["size"] > size_mb:
                raise DomainError(f"dummy: disk {disk_id} of VM {vm.id} is {disk['size']} MB, "
                                  f"it cannot shrink to {size_mb} MB")
            grown, disk["size"] = disk["size"] < size_mb, size_mb
            return grown
        self._disk_change("disk_resize", vm, host, disk_id, grow, f"is {size_mb} MB")

    @steered
    def resize(self, vm: VmView, host: HostView) -> None:
        memory = int(vm.template.get("MEMORY", "0") or 0)
        vcpu = int(vm.template.get("VCPU", "1") or 1)
        self._domain_change("resize", vm, host, f"{vm.deploy_id} has {vcpu} vCPU, {memory} MB",
                            memory_kib=memory * 1024, vcpu=vcpu)

    @steered
    def update_conf(self, vm: VmView, host: HostView) -> None:
        self.datacenter.hypervisor(host.name).require(vm.deploy_id)
        self._act("update_conf", vm, host.name, lambda: True,
                  f"{vm.deploy_id} configuration applied on {host.name}")
