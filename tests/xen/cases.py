"""Templates the Xen deployment file is proven on: one per shape of guest and device."""
from __future__ import annotations

from one.plugins import TemplateView, VmView
from one.plugins.views import ViewValue

DISK0 = {"DISK_ID": "0", "IMAGE": "debian", "TARGET": "xvda", "DRIVER": "raw", "TYPE": "FILE"}
NIC0 = {"NIC_ID": "0", "BRIDGE": "br0", "MAC": "02:00:0a:00:00:0a", "IP": "10.0.0.10"}
KERNEL = {"KERNEL": "/boot/vmlinuz-6.1.0-28-amd64", "INITRD": "/boot/initrd.img-6.1.0-28-amd64",
          "ROOT": "xvda1", "KERNEL_CMD": "console=hvc0 ro quiet"}

CASES: dict[str, list[tuple[str, ViewValue]]] = {
    "hvm-minimal": [("CPU", "1"), ("MEMORY", "128")],
    "hvm-boot-order": [
        ("CPU", "2"), ("VCPU", "2"), ("MEMORY", "2048"),
        ("OS", {"BOOT": "cdrom,disk0,network"}),
        ("DISK", DISK0),
        ("DISK", {"DISK_ID": "1", "IMAGE": "installer", "TYPE": "CDROM", "TARGET": "hdc",
                  "READONLY": "YES", "DRIVER": "raw"}),
        ("FEATURES", {"ACPI": "yes", "APIC": "yes", "PAE": "no", "LOCALTIME": "yes"})],
    "hvm-vnc": [
        ("CPU", "0.5"), ("MEMORY", "1024"), ("DISK", DISK0), ("NIC", {**NIC0, "MODEL": "e1000"}),
        ("GRAPHICS", {"TYPE": "VNC", "LISTEN": "0.0.0.0", "PASSWD": "s3cret", "KEYMAP": "es"})],
    "pv-vnc-any-port": [
        ("CPU", "1"), ("MEMORY", "256"), ("OS", {"BOOTLOADER": "pygrub"}), ("DISK", DISK0),
        ("GRAPHICS", {"TYPE": "vnc", "LISTEN": "127.0.0.1", "PORT": "-1"})],
    "pvh-kernel": [("CPU", "1"), ("MEMORY", "512"), ("OS", KERNEL), ("DISK", DISK0), ("NIC", NIC0)],
    "pvh-context": [
        ("CPU", "0.25"), ("MEMORY", "256"), ("OS", KERNEL), ("DISK", DISK0),
        ("CONTEXT", {"NETWORK": "YES", "ETH0_IP": "10.0.0.10", "TARGET": "hdd"})],
    "pvh-qcow2-volatile": [
        ("CPU", "1"), ("MEMORY", "768"), ("OS", KERNEL),
        ("DISK", {**DISK0, "DRIVER": "qcow2"}),
        ("DISK", {"DISK_ID": "1", "TYPE": "swap", "SIZE": "512"}),
        ("DISK", {"DISK_ID": "2", "TYPE": "fs", "SIZE": "1024", "FORMAT": "ext4"}),
        ("DISK", {"DISK_ID": "3", "TYPE": "fs", "SIZE": "2048", "FORMAT": "qcow2",
                  "DEV_PREFIX": "sd"})],
    "pv-pygrub": [
        ("CPU", "1"), ("MEMORY", "512"), ("OS", {"BOOTLOADER": "pygrub"}), ("DISK", DISK0),
        ("NIC", NIC0), ("GRAPHICS", {"TYPE": "vnc", "PORT": "5950"})],
    "pv-kernel-readonly": [
        ("CPU", "1"), ("MEMORY", "256"), ("OS", {"KERNEL": "/boot/vmlinuz", "ROOT": "xvda"}),
        ("DISK", {**DISK0, "READONLY": "YES"})],
    "two-nics-rate": [
        ("CPU", "1"), ("MEMORY", "512"), ("OS", KERNEL), ("DISK", DISK0),
        ("NIC", {**NIC0, "INBOUND_AVG_BW": "1024"}),
        ("NIC", {"NIC_ID": "1", "BRIDGE": "br1", "MAC": "02:00:c0:a8:01:05", "IP": "192.168.1.5",
                 "SCRIPT": "vif-openvswitch", "TARGET": "one-42-eth1"})],
    "pinned-numa": [
        ("CPU", "4"), ("VCPU", "4"), ("VCPU_MAX", "8"), ("MEMORY", "4096"), ("MEMORY_MAX", "8192"),
        ("OS", KERNEL), ("DISK", DISK0),
        ("NUMA_NODE", {"NODE_ID": "0", "CPUS": "0,1", "MEMORY": "2097152"}),
        ("NUMA_NODE", {"NODE_ID": "1", "CPUS": "4,5", "MEMORY": "2097152"})],
    "uuid-raw": [
        ("CPU", "1"), ("MEMORY", "512"),
        ("OS", {**KERNEL, "UUID": "6f1e6a2c-8d0e-4b7a-9b55-3c2d1e0f4a5b"}), ("DISK", DISK0),
        ("RAW", {"TYPE": "xen", "DATA": 'on_crash = "preserve"\nmemory = 640'}),
        ("RAW", {"TYPE": "kvm", "DATA": "<clock offset='utc'/>"})],
    "many-disks": [
        ("CPU", "1"), ("MEMORY", "512"), ("OS", {"BOOTLOADER": "/usr/lib/xen-4.17/bin/pygrub"}),
        ("DISK", {"DISK_ID": "0", "IMAGE": "root", "DRIVER": "raw", "TARGET": "xvda"}),
        ("DISK", {"DISK_ID": "1", "IMAGE": "data", "DRIVER": "vhd", "DEV_PREFIX": "xvd"}),
        ("DISK", {"DISK_ID": "2", "TYPE": "BLOCK", "DRIVER": "raw", "TARGET": "xvdc"}),
        ("DISK", {"DISK_ID": "3", "IMAGE": "tools", "TYPE": "CDROM", "TARGET": "hdb"}),
        ("CONTEXT", {"NETWORK": "YES"})],
}


def vm(vid: int, attrs: list[tuple[str, ViewValue]], host: str = "node1") -> VmView:
    return VmView(id=vid, name=f"vm{vid}", uid=0, gid=0, uname="oneadmin", state=3, lcm_state=2,
                  deploy_id="", template=TemplateView.of(attrs), user_template=TemplateView(),
                  host=host, system_dir=f"/var/lib/one/datastores/0/{vid}", local_dir="")
