"""The deployment file: xl.cfg text from a VM, as a pure function.

Xen's `xl` reads it (xl.cfg(5)); the tests parse every generated file with
Xen's own libxlutil. What it holds follows OpenNebula's Xen driver: the
guest type from OS (a kernel: PVH, or PV when asked; a BOOTLOADER: PV;
neither: HVM), disks at `<system dir>/disk.<i>` in xl's key=value syntax
(xl-disk-configuration(5)), the context CD-ROM after them, one vif per NIC,
VNC, credit scheduler weight (and cap) from CPU, and RAW `TYPE = xen` data
last, so that what it sets wins (xl keeps the last value of a key).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from one.drivers.guests import disk_path, domain_name, memory_mb, next_target, vnc_port, yes
from one.plugins.views import VmView, context_number, disk_number

FORMATS = ("raw", "qcow", "qcow2", "vhd", "qed")
_BOOT = {"hd": "c", "disk": "c", "fd": "a", "cdrom": "d", "network": "n", "nic": "n"}


@dataclass(frozen=True)
class XenDefaults:
    """Driver settings (oned.conf `VM_MAD = [ NAME = xen, ... ]`) for what templates omit."""

    credit: float = 256.0          # scheduler weight per CPU of the template (OpenNebula's CREDIT)
    cap: bool = False              # also cap the guest at CPU x 100 % of a physical CPU
    kernel_type: str = "pvh"       # guests booted from a kernel: pvh, or pv for old kernels
    dev_prefix: str = "xvd"        # targets of disks that name none
    nic_model: str = ""
    vnc_base_port: int = 5900

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> XenDefaults:
        kernel_type = config.get("KERNEL_TYPE", cls.kernel_type).lower()
        if kernel_type not in ("pvh", "pv"):
            raise ValueError(f"KERNEL_TYPE = {kernel_type!r} is neither pvh nor pv")
        return cls(credit=float(config.get("CREDIT", cls.credit)), cap=yes(config.get("CAP")),
                   kernel_type=kernel_type, dev_prefix=config.get("DEV_PREFIX", cls.dev_prefix),
                   nic_model=config.get("NIC_MODEL", ""),
                   vnc_base_port=int(config.get("VNC_BASE_PORT", cls.vnc_base_port)))


def string(value: str) -> str:
    """An xl.cfg string: double quotes, which the format cannot escape, are refused."""
    if '"' in value or "\n" in value:
        raise ValueError(f"{value!r} cannot be written in an xl.cfg string")
    return f'"{value}"'


def strings(values: list[str]) -> str:
    if not values:
        return "[ ]"
    return "[\n" + "".join(f"    {string(v)},\n" for v in values) + "]"


def guest_type(vm: VmView, d: XenDefaults) -> str:
    os_ = vm.template.vector("OS") or {}
    if yes(os_.get("HVM")) or not (os_.get("KERNEL") or os_.get("BOOTLOADER")):
        return "hvm"
    return d.kernel_type if os_.get("KERNEL") else "pv"


def _boot(vm: VmView, kind: str) -> list[tuple[str, str]]:
    os_ = vm.template.vector("OS") or {}
    if kind == "hvm":
        order = ""
        for device in (os_.get("BOOT") or "").split(","):
            name = device.strip().lower().rstrip("0123456789")
            if name and name not in _BOOT:
                raise ValueError(f"boot device {device.strip()!r} of VM {vm.id} is not one of "
                                 f"{', '.join(_BOOT)}")
            order += _BOOT.get(name, "")
        return [("boot", string(order))] if order else []
    if not os_.get("KERNEL"):
        return [("bootloader", string(os_["BOOTLOADER"]))]
    lines = [("kernel", string(os_["KERNEL"]))]
    lines += [("ramdisk", string(os_["INITRD"]))] if os_.get("INITRD") else []
    lines += [("root", string(f"/dev/{os_['ROOT']}"))] if os_.get("ROOT") else []
    lines += [("extra", string(os_["KERNEL_CMD"]))] if os_.get("KERNEL_CMD") else []
    return lines


def _capacity(vm: VmView, d: XenDefaults) -> list[tuple[str, str]]:
    t = vm.template
    lines = [("memory", str(memory_mb(vm)))]
    if (t.get("MEMORY_MAX") or "").isdigit():
        lines.append(("maxmem", t.get("MEMORY_MAX") or ""))
    lines.append(("vcpus", t.get("VCPU") or "1"))
    if (t.get("VCPU_MAX") or "").isdigit():
        lines.append(("maxvcpus", t.get("VCPU_MAX") or ""))
    pinned = [node["CPUS"] for node in t.vectors("NUMA_NODE") if node.get("CPUS")]
    if pinned:
        lines.append(("cpus", string(",".join(pinned))))
    cpu = float(t.get("CPU") or 1)
    lines.append(("cpu_weight", str(max(1, math.ceil(cpu * d.credit)))))
    if d.cap:
        lines.append(("cap", str(math.ceil(cpu * 100))))
    return lines


def disk_format(disk: Mapping[str, str]) -> str:
    kind = disk.get("TYPE", "").lower()
    wanted = (disk.get("DRIVER") or disk.get("FORMAT") or "raw").lower()
    if kind in ("swap", "fs") and wanted not in FORMATS:
        return "raw"      # volatile disks: FORMAT names their file system
    if wanted not in FORMATS:
        raise ValueError(f"disk format {wanted!r} is not one of {', '.join(FORMATS)}")
    return wanted


def disk_specs(vm: VmView, d: XenDefaults | None = None) -> list[str]:
    """One xl disk spec per DISK, then the context CD-ROM; `target=` last, as xl requires."""
    d = d or XenDefaults()
    disks = vm.template.vectors("DISK")
    used = {disk["TARGET"] for disk in disks if disk.get("TARGET")}
    specs = []
    for index, disk in enumerate(disks):
        vdev = disk.get("TARGET") or next_target(used, disk.get("DEV_PREFIX") or d.dev_prefix)
        used.add(vdev)
        cdrom = disk.get("TYPE", "").lower() == "cdrom"
        access = "ro" if cdrom or yes(disk.get("READONLY")) else "rw"
        specs.append(f"format={disk_format(disk)},vdev={vdev},access={access}"
                     + (",devtype=cdrom" if cdrom else "") + f",target={disk_path(vm, disk_number(disk, index))}")
    context = vm.template.vector("CONTEXT")
    if context is not None:
        vdev = context.get("TARGET") or next_target(used, "hd")
        specs.append(f"format=raw,vdev={vdev},access=ro,devtype=cdrom,"
                     f"target={disk_path(vm, context_number(vm.template))}")
    return specs


def vif_specs(vm: VmView, d: XenDefaults | None = None) -> list[str]:
    """One xl vif spec per NIC (xl-network-configuration(5)); rate from INBOUND_AVG_BW (KB/s)."""
    d = d or XenDefaults()
    specs = []
    for index, nic in enumerate(vm.template.vectors("NIC")):
        items = [("mac", nic.get("MAC")), ("bridge", nic.get("BRIDGE")), ("ip", nic.get("IP")),
                 ("model", nic.get("MODEL") or d.nic_model), ("script", nic.get("SCRIPT")),
                 ("vifname", nic.get("TARGET") or f"one-{vm.id}-{nic.get('NIC_ID', index)}")]
        bandwidth = nic.get("INBOUND_AVG_BW")
        if bandwidth:
            items.append(("rate", f"{bandwidth}KB/s"))
        specs.append(",".join(f"{key}={value}" for key, value in items if value))
    return specs


def _display(port: str, vm: VmView) -> list[tuple[str, str]]:
    """xl's VNC display for a port: 5900 + display, or any free one for PORT = -1."""
    if port == "-1":
        return [("vncunused", "1")]
    if not port.isdigit() or int(port) < 5900:
        raise ValueError(f"VNC port {port!r} of VM {vm.id} is not a port from 5900 (display 0) on")
    return [("vncunused", "0"), ("vncdisplay", str(int(port) - 5900))]


def _vnc(vm: VmView, kind: str, d: XenDefaults) -> list[tuple[str, str]]:
    graphics = vm.template.vector("GRAPHICS")
    if graphics is None or graphics.get("TYPE", "").lower() != "vnc":
        return []
    items = [("vnc", "1"), ("vnclisten", graphics.get("LISTEN", "")),
             *_display(vnc_port(graphics, vm, d.vnc_base_port), vm),
             ("vncpasswd", graphics.get("PASSWD", "")), ("keymap", graphics.get("KEYMAP", ""))]
    present = [(key, value) for key, value in items if value]
    if kind == "hvm":
        return [(key, value if value.isdigit() else string(value)) for key, value in present]
    return [("vfb", strings([",".join(f"{k}={v}" for k, v in present)]))]


def _features(vm: VmView, kind: str) -> list[tuple[str, str]]:
    if kind != "hvm":
        return []
    wanted = vm.template.vector("FEATURES") or {}
    lines = [(name.lower(), "1" if yes(wanted[name]) else "0")
             for name in ("ACPI", "APIC", "PAE") if name in wanted]
    if yes(wanted.get("LOCALTIME")):
        lines.append(("localtime", "1"))
    return lines


def _raw(vm: VmView) -> list[str]:
    return [raw["DATA"] for raw in vm.template.vectors("RAW")
            if raw.get("TYPE", "").lower() == "xen" and raw.get("DATA")]


def xl_config(vm: VmView, defaults: XenDefaults | None = None) -> str:
    """The xl.cfg of this VM: what `xl create` boots on its host."""
    d = defaults or XenDefaults()
    kind = guest_type(vm, d)
    uuid = (vm.template.vector("OS") or {}).get("UUID")
    lines = [("name", string(domain_name(vm)))] + ([("uuid", string(uuid))] if uuid else [])
    lines += [("type", string(kind))] + _capacity(vm, d) + _boot(vm, kind)
    lines += [("disk", strings(disk_specs(vm, d))), ("vif", strings(vif_specs(vm, d)))]
    lines += _vnc(vm, kind, d) + _features(vm, kind)
    text = "".join(f"{key} = {value}\n" for key, value in lines)
    return text + "".join(f"{data}\n" for data in _raw(vm))
