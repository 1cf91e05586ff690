"""The KVM drivers against libvirt's own `test:///default` hypervisor: the
conformance suite, plus what it does not cover."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import subprocess

import libvirt
import pytest

from one.plugins import HostView, PollState, TemplateView, VmView
from one.plugins.testing import IMConformance, VMMConformance, make_vm_view
from one_vmm_kvm import KvmIM, KvmVMM

SETTINGS = {"DOMAIN_TYPE": "test", "LOCAL_URI": "test:///default", "SHUTDOWN_TIMEOUT": "5"}


class TestKvmVMM(VMMConformance):
    driver_class = KvmVMM

    @pytest.fixture
    def driver(self) -> KvmVMM:
        return KvmVMM(SETTINGS)

    @pytest.fixture
    def vm(self, host: HostView, workdir: Path) -> VmView:
        """Its disk a real qcow2 file: snapshots of a powered-off disk are qemu-img's work."""
        vm = make_vm_view(0, host=host.name, system_dir=str(workdir / "0"))
        (workdir / "0").mkdir()
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(workdir / "0" / "disk.0"),
                        "40M"], check=True)
        disks = [dict(d, DRIVER="qcow2") for d in vm.template.vectors("DISK")]
        return replace(vm, template=TemplateView.of(
            [(n, v) for n, v in vm.template.attrs if n != "DISK"] + [("DISK", d) for d in disks]))


class TestKvmIM(IMConformance):
    driver_class = KvmIM

    @pytest.fixture
    def driver(self) -> KvmIM:
        return KvmIM(SETTINGS)

    @pytest.fixture
    def guest(self, host: HostView, tmp_path: Path) -> Iterator[str]:
        """A domain the KVM VMM runs on the test hypervisor, for the probe to report
        (the hypervisor lives while the VMM's connection does)."""
        vmm = KvmVMM(SETTINGS)
        vm = replace(make_vm_view(33, host=host.name, system_dir=str(tmp_path)),
                     local_dir=str(tmp_path / "local"))
        vm = replace(vm, deploy_id=vmm.deploy(vm, host))
        yield vm.deploy_id
        vmm.cancel(vm, host)


@pytest.fixture
def host() -> HostView:
    return HostView(id=0, name="localhost", state=2, im_mad="kvm", vm_mad="kvm")


def test_probe_reports_the_domains_it_runs(host: HostView, tmp_path) -> None:
    vmm, im = KvmVMM(SETTINGS), KvmIM(SETTINGS)
    vm = replace(make_vm_view(31, host="localhost", system_dir=str(tmp_path)),
                 local_dir=str(tmp_path / "local"))
    vm = replace(vm, deploy_id=vmm.deploy(vm, host))
    assert "<name>one-31</name>" in (tmp_path / "local" / "deployment.xml").read_text()
    try:
        probe = im.monitor(host)
        assert probe.values["HYPERVISOR"] == "kvm" and int(probe.values["TOTALCPU"]) > 0
        assert probe.vms is not None and probe.vms["one-31"].state == PollState.RUNNING
        assert "test" not in probe.vms  # the test driver's own domain is not ours
    finally:
        vmm.cancel(vm, host)
    assert "one-31" not in im.monitor(host).vms


def test_uris(host: HostView) -> None:
    from one_vmm_kvm.connections import host_uri
    assert host_uri(host, {}) == "qemu:///system"
    remote = HostView(id=3, name="node7", state=2, im_mad="kvm", vm_mad="kvm")
    assert host_uri(remote, {}) == "qemu+ssh://node7/system"
    assert host_uri(remote, {"URI": "qemu+tcp://{host}/system"}) == "qemu+tcp://node7/system"


def test_reconnects_after_the_connection_dies(host: HostView, tmp_path) -> None:
    keeper = libvirt.open("test:///default")  # the test hypervisor lives while a connection does
    vmm = KvmVMM(SETTINGS)
    vm = make_vm_view(32, host="localhost", system_dir=str(tmp_path))
    vm = replace(vm, deploy_id=vmm.deploy(vm, host))
    dead = vmm.connections.get("test:///default")
    dead.close()                                   # the driver's connection "went away"
    assert vmm.poll(vm, host).state == PollState.RUNNING
    assert vmm.connections.get("test:///default") is not dead
    vmm.cancel(vm, host)
    keeper.close()


def test_unreachable_host_fails_clearly(tmp_path) -> None:
    bad = HostView(id=9, name="nowhere", state=2, im_mad="kvm", vm_mad="kvm",
                   template=TemplateView.of([("LIBVIRT_URI", "qemu+unix:///system?socket=/nonexistent")]))
    with pytest.raises(libvirt.libvirtError):
        KvmIM(SETTINGS).monitor(bad)
