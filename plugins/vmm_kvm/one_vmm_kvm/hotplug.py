"""Devices plugged into a running domain: a DISK's <disk>, a NIC's <interface>.

The elements are the ones the deployment file has for the same vectors, so a
guest booted again from its template gets what it had. libvirt applies them
to the live domain, and to its persistent definition when it has one (oned's
domains are transient: created from the deployment file). QEMU unplugs a
device asynchronously (a PCI device leaves once the guest lets it go), so a
detach waits until the device is gone from the live domain, up to
`DETACH_TIMEOUT`, and fails otherwise rather than call a device the guest
still has gone.
"""
from __future__ import annotations

from typing import Callable, Mapping

import libvirt
from lxml import etree

from one.drivers.guests import wait_until
from one.plugins.views import VmView
from one_vmm_kvm.deployment import KvmDefaults, disk_device, nic_device

Finder = Callable[[etree._Element], bool]


def disk_xml(vm: VmView, disk: Mapping[str, str], defaults: KvmDefaults) -> tuple[str, Finder]:
    """The <disk> element of a DISK, and how to find it in a domain's XML (its target)."""
    element = disk_device(etree.Element("devices"), vm, disk, 0, defaults, set())
    target = str(element.xpath("string(target/@dev)"))
    return (etree.tostring(element, encoding="unicode"),
            lambda root: root.find(f"devices/disk/target[@dev='{target}']") is not None)


def nic_xml(vm: VmView, nic: Mapping[str, str], defaults: KvmDefaults) -> tuple[str, Finder]:
    """The <interface> element of a NIC, and how to find it (its MAC, else its tap)."""
    element = nic_device(etree.Element("devices"), vm, nic, int(nic.get("NIC_ID", "0")), defaults)
    mac, tap = nic.get("MAC"), str(element.xpath("string(target/@dev)"))
    path = f"devices/interface/mac[@address='{mac}']" if mac else \
        f"devices/interface/target[@dev='{tap}']"
    return etree.tostring(element, encoding="unicode"), lambda root: root.find(path) is not None


def _flags(domain: libvirt.virDomain) -> int:
    config = libvirt.VIR_DOMAIN_AFFECT_CONFIG if domain.isPersistent() else 0
    return libvirt.VIR_DOMAIN_AFFECT_LIVE | config


def has(domain: libvirt.virDomain, find: Finder) -> bool:
    """Whether the live domain has the device."""
    return find(etree.fromstring(domain.XMLDesc(0).encode()))


def attach(domain: libvirt.virDomain, xml: str, find: Finder) -> bool:
    """Plug the device in; False (nothing done) when the domain has it already."""
    if has(domain, find):
        return False
    domain.attachDeviceFlags(xml, _flags(domain))
    return True


def detach(domain: libvirt.virDomain, xml: str, find: Finder, timeout: float) -> bool:
    """Unplug the device and wait until it is gone; False when it was not there."""
    if not has(domain, find):
        return False
    domain.detachDeviceFlags(xml, _flags(domain))
    wait_until(lambda: not has(domain, find), timeout,
               f"{domain.name()} still has the device {timeout:g} s after its detach "
               f"(the guest has not released it)")
    return True
