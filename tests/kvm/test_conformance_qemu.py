"""The whole KVM conformance suite on real libvirtds + QEMU, nothing deselected.

The guest is the boot sector of guest.py on a qcow2 disk (QEMU keeps snapshots
inside qcow2) with its context CD-ROM; it ignores ACPI, so the driver destroys
it after a short SHUTDOWN_TIMEOUT (FORCE_DESTROY, as OpenNebula's kvmrc). The
migration target is node2, the second libvirtd in a mount namespace of its own
reached over ssh on 127.0.0.2 (guest.NamespacedLibvirtd); the IM suite's probe
finds a guest running on the machine's libvirtd.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from guest import Libvirtd, NamespacedLibvirtd, boot_disk, destroy_domains
from one.plugins import HostView, TemplateView, VmView
from one.plugins.testing import IMConformance, VMMConformance, make_vm_view
from one_vmm_kvm import KvmIM, KvmVMM
from test_live_migration import node2  # noqa: F401 - a fixture

SETTINGS = {"SHUTDOWN_TIMEOUT": "2", "FORCE_DESTROY": "yes", "MIGRATE_UNSAFE": "yes"}
VM_ID = 900   # one-900: apart from the VMs other kvm tests boot


@pytest.fixture
def shared_dir(node2: NamespacedLibvirtd) -> Iterator[Path]:
    """Under /var/tmp: reachable by QEMU's user and seen at one path by both libvirtds."""
    path = Path(tempfile.mkdtemp(prefix="one-conformance-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    destroy_domains(Libvirtd.uri, using=str(path))
    destroy_domains(node2.socket_uri, using=str(path))
    shutil.rmtree(path, ignore_errors=True)


def qemu_guest(host: HostView, directory: Path, vm_id: int = VM_ID) -> VmView:
    """The suite's VM, bootable: disk.0 a qcow2 boot sector, disk.1 the context CD-ROM;
    no NIC (this machine has no bridge for it)."""
    vm = make_vm_view(vm_id, host=host.name, system_dir=str(directory / str(vm_id)))
    system = directory / str(vm_id)
    boot_disk(system / "boot.raw")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(system / "boot.raw"),
                    str(system / "disk.0")], check=True)
    (system / "disk.1").write_bytes(bytes(2048 * 16))
    system.chmod(0o755)
    attrs = [(n, dict(v, DRIVER="qcow2", SIZE="1") if n == "DISK" else v)
             for n, v in vm.template.attrs if n != "NIC"]
    return replace(vm, template=TemplateView.of(attrs))


class TestKvmVMMOnQemu(VMMConformance):
    driver_class = KvmVMM

    @pytest.fixture
    def driver(self) -> KvmVMM:
        return KvmVMM(SETTINGS)

    @pytest.fixture
    def vm(self, host: HostView, shared_dir: Path) -> VmView:
        return qemu_guest(host, shared_dir)

    @pytest.fixture
    def target_host(self, node2: NamespacedLibvirtd) -> HostView:
        return HostView(id=1, name="node2", state=2, im_mad="kvm", vm_mad="kvm",
                        template=TemplateView.of([("LIBVIRT_URI", node2.uri)]))


class TestKvmIMOnQemu(IMConformance):
    driver_class = KvmIM

    @pytest.fixture
    def driver(self) -> KvmIM:
        return KvmIM({})

    @pytest.fixture
    def guest(self, host: HostView, shared_dir: Path) -> Iterator[str]:
        vmm = KvmVMM(SETTINGS)
        vm = qemu_guest(host, shared_dir, VM_ID + 1)
        vm = replace(vm, deploy_id=vmm.deploy(vm, host))
        yield vm.deploy_id
        vmm.cancel(vm, host)
