"""The deployment file: libvirt domain XML from a VM, as a pure function.

Everything comes from the VM's template and placement (disks live in the VM's
directory on its host as `disk.<i>`, the context CD-ROM is the disk after the
last one), plus driver defaults for what the template leaves out. RAW data of
TYPE kvm is merged in last, element by element.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from lxml import etree

from one.drivers.guests import disk_path, domain_name, memory_mb, next_target, vnc_port, yes
from one.plugins.views import VmView, context_number, disk_number

_BUSES = {"hd": "ide", "sd": "scsi", "vd": "virtio", "xvd": "xen"}


@dataclass(frozen=True)
class KvmDefaults:
    """Driver settings (oned.conf `VM_MAD = [ NAME = kvm, ... ]`) for what templates omit."""

    domain_type: str = "qemu"          # kvm when the host has working /dev/kvm
    arch: str = "x86_64"
    machine: str = ""
    emulator: str = ""
    disk_driver: str = "raw"
    disk_cache: str = ""
    nic_model: str = ""
    vnc_base_port: int = 5900
    features: Mapping[str, str] = field(default_factory=lambda: {"ACPI": "yes"})


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def _os(domain: etree._Element, vm: VmView, d: KvmDefaults) -> None:
    spec = vm.template.vector("OS") or {}
    os_el = _sub(domain, "os")
    _sub(os_el, "type", "hvm", arch=spec.get("ARCH", d.arch), machine=spec.get("MACHINE", d.machine))
    if spec.get("KERNEL"):
        _sub(os_el, "kernel", spec["KERNEL"])
        if spec.get("INITRD"):
            _sub(os_el, "initrd", spec["INITRD"])
        root = f"root=/dev/{spec['ROOT']} " if spec.get("ROOT") else ""
        _sub(os_el, "cmdline", (root + spec.get("KERNEL_CMD", "")).strip())
    for device in (spec.get("BOOT") or "hd").split(","):
        device = device.strip().lower()
        _sub(os_el, "boot", dev={"disk": "hd", "nic": "network"}.get(device.rstrip("0123456789"), device))


def _features(domain: etree._Element, vm: VmView, d: KvmDefaults) -> None:
    wanted = {**d.features, **(vm.template.vector("FEATURES") or {})}
    enabled = [name.lower() for name in ("ACPI", "PAE", "APIC") if yes(wanted.get(name))]
    if enabled:
        features = _sub(domain, "features")
        for name in enabled:
            _sub(features, name)


def _disks(devices: etree._Element, vm: VmView, d: KvmDefaults) -> set[str]:
    used: set[str] = set()
    for index, disk in enumerate(vm.template.vectors("DISK")):
        disk_device(devices, vm, disk, index, d, used)
    return used


def disk_device(devices: etree._Element, vm: VmView, disk: Mapping[str, str], index: int,
                d: KvmDefaults, used: set[str]) -> etree._Element:
    """The <disk> of one DISK (at boot, or hotplugged), its target added to `used`."""
    kind = disk.get("TYPE", "file").lower()
    device = "cdrom" if kind == "cdrom" else "disk"
    source_kind = "block" if kind == "block" else "file"
    target = disk.get("TARGET") or next_target(used, disk.get("DEV_PREFIX", "hd"))
    used.add(target)
    el = _sub(devices, "disk", type=source_kind, device=device)
    _sub(el, "driver", name="qemu", type=disk.get("DRIVER") or disk.get("FORMAT") or d.disk_driver,
         cache=disk.get("CACHE", d.disk_cache))
    path = disk_path(vm, disk_number(disk, index))
    _sub(el, "source", **({"dev": path} if source_kind == "block" else {"file": path}))
    bus = disk.get("BUS") or next((b for p, b in _BUSES.items() if target.startswith(p)), "")
    _sub(el, "target", dev=target, bus=bus)
    if device == "cdrom" or yes(disk.get("READONLY")):
        _sub(el, "readonly")
    return el


def _context(devices: etree._Element, vm: VmView, used: set[str]) -> None:
    context = vm.template.vector("CONTEXT")
    if context is None:
        return
    target = context.get("TARGET") or next_target(used, "hd")
    el = _sub(devices, "disk", type="file", device="cdrom")
    _sub(el, "driver", name="qemu", type="raw")
    _sub(el, "source", file=disk_path(vm, context_number(vm.template)))
    _sub(el, "target", dev=target, bus=next((b for p, b in _BUSES.items() if target.startswith(p)), "ide"))
    _sub(el, "readonly")


def _nics(devices: etree._Element, vm: VmView, d: KvmDefaults) -> None:
    for index, nic in enumerate(vm.template.vectors("NIC")):
        nic_device(devices, vm, nic, index, d)


def nic_device(devices: etree._Element, vm: VmView, nic: Mapping[str, str], index: int,
               d: KvmDefaults) -> etree._Element:
    """The <interface> of one NIC (at boot, or hotplugged)."""
    bridge = nic.get("BRIDGE")
    el = _sub(devices, "interface", type="bridge" if bridge else "ethernet")
    if bridge:
        _sub(el, "source", bridge=bridge)
    if nic.get("MAC"):
        _sub(el, "mac", address=nic["MAC"])
    _sub(el, "target", dev=nic.get("TARGET") or f"one-{vm.id}-{nic.get('NIC_ID', index)}")
    if nic.get("SCRIPT"):
        _sub(el, "script", path=nic["SCRIPT"])
    model = nic.get("MODEL") or d.nic_model
    if model:
        _sub(el, "model", type=model)
    return el


def _graphics(devices: etree._Element, vm: VmView, d: KvmDefaults) -> None:
    graphics = vm.template.vector("GRAPHICS")
    if graphics is not None and graphics.get("TYPE", "").lower() in ("vnc", "spice", "sdl"):
        kind = graphics["TYPE"].lower()
        port = vnc_port(graphics, vm, d.vnc_base_port)
        _sub(devices, "graphics", type=kind, listen=graphics.get("LISTEN", ""),
             port=port if kind != "sdl" else "", passwd=graphics.get("PASSWD", ""),
             keymap=graphics.get("KEYMAP", ""))
    for spec in vm.template.vectors("INPUT"):
        _sub(devices, "input", type=spec.get("TYPE", "tablet"), bus=spec.get("BUS", "usb"))


def _merge_raw(domain: etree._Element, vm: VmView) -> None:
    """RAW = [ TYPE = kvm, DATA = "<devices>...</devices>" ]: children of a
    top-level element the domain already has are appended to it."""
    for raw in vm.template.vectors("RAW"):
        if raw.get("TYPE", "").lower() != "kvm" or not raw.get("DATA"):
            continue
        try:
            fragment = etree.fromstring(f"<raw>{raw['DATA']}</raw>")
        except etree.XMLSyntaxError as exc:
            raise ValueError(f"RAW DATA of VM {vm.id} is not XML: {exc}") from None
        for element in fragment:
            # Comments and processing instructions have no name to look up: appended.
            existing = domain.find(element.tag) if isinstance(element.tag, str) else None
            if existing is not None and len(element):
                existing.extend(list(element))
            else:
                domain.append(element)


def _capacity(domain: etree._Element, vm: VmView) -> None:
    """vCPUs and memory, with the room VCPU_MAX and MEMORY_MAX leave for a live resize:
    the guest boots with VCPU of VCPU_MAX vCPUs, and MEMORY of MEMORY_MAX either ballooned
    (MEMORY_RESIZE_MODE BALLOONING, the default) or with free DIMM slots (HOTPLUG:
    MEMORY_SLOTS, default 16, on one NUMA cell, as libvirt requires)."""
    vcpu = vm.template.get("VCPU") or "1"
    vcpu_max = max(int(vcpu), int(vm.template.get("VCPU_MAX") or vcpu))
    _sub(domain, "vcpu", str(vcpu_max), current=vcpu if vcpu_max > int(vcpu) else "")
    _sub(_sub(domain, "cputune"), "shares", str(int(float(vm.template.get("CPU") or 1) * 1024)))
    memory = memory_mb(vm)
    memory_max = max(memory, int(vm.template.get("MEMORY_MAX") or memory))
    if memory_max > memory and memory_hotplug(vm):
        _sub(domain, "maxMemory", str(memory_max * 1024), unit="KiB",
             slots=vm.template.get("MEMORY_SLOTS") or "16")
        _sub(domain, "memory", str(memory * 1024), unit="KiB")
        numa = _sub(_sub(domain, "cpu"), "numa")
        _sub(numa, "cell", id="0", cpus=f"0-{vcpu_max - 1}", memory=str(memory * 1024),
             unit="KiB")
        return
    _sub(domain, "memory", str(memory_max * 1024), unit="KiB")
    if memory_max > memory:
        _sub(domain, "currentMemory", str(memory * 1024), unit="KiB")


def memory_hotplug(vm: VmView) -> bool:
    return (vm.template.get("MEMORY_RESIZE_MODE") or "").upper() == "HOTPLUG"


def domain_xml(vm: VmView, defaults: KvmDefaults | None = None) -> str:
    """The libvirt domain document for this VM on this host."""
    d = defaults or KvmDefaults()
    domain = etree.Element("domain", type=d.domain_type)
    _sub(domain, "name", domain_name(vm))
    _capacity(domain, vm)
    _os(domain, vm, d)
    _features(domain, vm, d)
    devices = _sub(domain, "devices")
    if d.emulator:
        _sub(devices, "emulator", d.emulator)
    used = _disks(devices, vm, d)
    _context(devices, vm, used)
    _nics(devices, vm, d)
    _graphics(devices, vm, d)
    _sub(_sub(devices, "serial", type="pty"), "target", port="0")
    _sub(_sub(devices, "console", type="pty"), "target", type="serial", port="0")
    _merge_raw(domain, vm)
    return etree.tostring(domain, pretty_print=True, encoding="unicode")
