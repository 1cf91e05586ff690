"""The devices KVM hotplugs are the deployment file's own, and disks keep their files.

libvirt's test:///default hypervisor cannot attach devices, so the live path is
tested on QEMU (test_hotplug_qemu.py); this checks what is sent, fast.
"""
from __future__ import annotations

from dataclasses import replace

from lxml import etree

from one.plugins import TemplateView
from one.plugins.testing import make_vm_view
from one_vmm_kvm.deployment import KvmDefaults, domain_xml
from one_vmm_kvm.hotplug import disk_xml, nic_xml

DISK = {"DISK_ID": "3", "TYPE": "FILE", "TARGET": "sdb", "BUS": "usb", "DRIVER": "qcow2"}
_COMPACT = etree.XMLParser(remove_blank_text=True)
NIC = {"NIC_ID": "2", "MAC": "02:00:c0:00:02:0c", "BRIDGE": "br1", "MODEL": "usb-net"}


def _with(vm, *vectors):
    return replace(vm, template=TemplateView.of(list(vm.template.attrs) + list(vectors)))


def test_hotplugged_devices_are_those_the_deployment_file_would_have() -> None:
    vm = _with(make_vm_view(7, host="h"), ("DISK", DISK), ("NIC", NIC))
    domain = etree.fromstring(domain_xml(vm, KvmDefaults()).encode(), _COMPACT)
    disk, find_disk = disk_xml(vm, DISK, KvmDefaults())
    nic, find_nic = nic_xml(vm, NIC, KvmDefaults())
    booted_disk = domain.find("devices/disk/target[@dev='sdb']/..")
    booted_nic = domain.find("devices/interface/mac[@address='02:00:c0:00:02:0c']/..")
    assert disk == etree.tostring(booted_disk, encoding="unicode")
    assert nic == etree.tostring(booted_nic, encoding="unicode")
    assert find_disk(domain) and find_nic(domain)
    assert booted_disk.find("source").get("file") == "/var/lib/one/datastores/0/7/disk.3"
    assert booted_nic.find("target").get("dev") == "one-7-2"
    bare = etree.fromstring(domain_xml(make_vm_view(7, host="h"), KvmDefaults()).encode())
    assert not find_disk(bare) and not find_nic(bare)


def test_disk_files_follow_disk_ids_and_the_context_keeps_its_own() -> None:
    """After hotplug a VM's DISK_IDs have gaps; disk.<DISK_ID> and CONTEXT/DISK_ID hold."""
    vm = make_vm_view(8, host="h")   # disk 0, context DISK_ID 1
    vm = _with(replace(vm, template=TemplateView.of(
        [(n, v) for n, v in vm.template.attrs if n != "DISK"])), ("DISK", DISK))
    domain = etree.fromstring(domain_xml(vm, KvmDefaults()).encode())
    sources = [d.find("source").get("file") for d in domain.iterfind("devices/disk")]
    assert sources == ["/var/lib/one/datastores/0/8/disk.3", "/var/lib/one/datastores/0/8/disk.1"]
