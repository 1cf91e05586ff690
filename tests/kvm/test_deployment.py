"""Deployment files: golden documents, and every one valid for virt-xml-validate."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from golden import matches_golden
from one.plugins import TemplateView, VmView
from one_vmm_kvm.deployment import KvmDefaults, domain_xml

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "minimal": [("CPU", "1"), ("MEMORY", "128")],
    "resizable": [("CPU", "1"), ("VCPU", "1"), ("VCPU_MAX", "4"), ("MEMORY", "256"),
                  ("MEMORY_MAX", "1024")],
    "hotplug_memory": [("CPU", "1"), ("VCPU", "2"), ("VCPU_MAX", "2"), ("MEMORY", "256"),
                       ("MEMORY_MAX", "1024"), ("MEMORY_RESIZE_MODE", "HOTPLUG"),
                       ("MEMORY_SLOTS", "4")],
    "full": [
        ("CPU", "0.5"), ("VCPU", "2"), ("MEMORY", "512"),
        ("OS", {"ARCH": "x86_64", "MACHINE": "pc", "KERNEL": "/boot/vmlinuz", "INITRD": "/boot/initrd",
                "ROOT": "vda", "KERNEL_CMD": "console=ttyS0", "BOOT": "disk0,nic0"}),
        ("FEATURES", {"ACPI": "yes", "PAE": "yes", "APIC": "no"}),
        ("DISK", {"TARGET": "vda", "BUS": "virtio", "DRIVER": "qcow2", "CACHE": "none"}),
        ("DISK", {"TYPE": "cdrom", "TARGET": "hdc"}),
        ("DISK", {"TYPE": "block", "TARGET": "sdb", "READONLY": "yes"}),
        ("CONTEXT", {"NETWORK": "YES"}),
        ("NIC", {"BRIDGE": "br0", "MAC": "02:00:0a:00:00:01", "MODEL": "virtio", "NIC_ID": "0"}),
        ("NIC", {"MAC": "02:00:0a:00:00:02", "SCRIPT": "/etc/qemu-ifup", "NIC_ID": "1"}),
        ("GRAPHICS", {"TYPE": "vnc", "LISTEN": "127.0.0.1", "PASSWD": "secret", "KEYMAP": "es"}),
        ("INPUT", {"TYPE": "tablet", "BUS": "usb"}),
        ("RAW", {"TYPE": "kvm", "DATA": "<devices><watchdog model='i6300esb'/></devices><clock offset='utc'/>"}),
        ("RAW", {"TYPE": "xen", "DATA": "ignored for kvm"}),
    ],
}


def _vm(vid: int, attrs) -> VmView:
    return VmView(id=vid, name=f"vm{vid}", uid=0, gid=0, uname="oneadmin", state=3, lcm_state=2,
                  deploy_id="", template=TemplateView.of(attrs), user_template=TemplateView(),
                  host="node1", system_dir=f"/var/lib/one/datastores/0/{vid}", local_dir="/tmp")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    matches_golden(domain_xml(_vm(42, CASES[name]), KvmDefaults(domain_type="kvm")),
                   GOLDEN / f"{name}.xml")


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_for_libvirt(name: str, tmp_path: Path) -> None:
    validator = shutil.which("virt-xml-validate")
    assert validator, "virt-xml-validate is missing: `make test` installs libvirt-clients"
    path = tmp_path / f"{name}.xml"
    path.write_text(domain_xml(_vm(7, CASES[name])))
    result = subprocess.run([validator, str(path), "domain"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_graphics_port_defaults_to_base_plus_id() -> None:
    xml = domain_xml(_vm(17, [("MEMORY", "64"), ("GRAPHICS", {"TYPE": "spice"})]),
                     KvmDefaults(vnc_base_port=6000))
    assert "type=\"spice\" port=\"6017\"" in xml


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="MEMORY"):
        domain_xml(_vm(1, [("CPU", "1")]))
    with pytest.raises(ValueError, match="RAW DATA"):
        domain_xml(_vm(1, [("MEMORY", "8"), ("RAW", {"TYPE": "kvm", "DATA": "<open>"})]))


def test_raw_data_may_hold_comments() -> None:
    """A comment in RAW DATA has no tag name to merge on: it is appended, not a TypeError."""
    data = "<!-- watchdog --><devices><watchdog model='i6300esb'/></devices>"
    xml = domain_xml(_vm(3, [("MEMORY", "64"), ("RAW", {"TYPE": "kvm", "DATA": data})]))
    assert "<!-- watchdog -->" in xml
    assert xml.count("<devices>") == 1 and "i6300esb" in xml
