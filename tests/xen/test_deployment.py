"""Deployment files: golden xl.cfg texts, each read by Xen's own libxlutil.

Every generated file goes through `xlu_cfg_readdata`, every disk spec in it
through `xlu_disk_parse` and every vif rate through `xlu_vif_parse_rate`; the
values xl would read back are compared with the template's. Nothing skips:
without libxlutil the import fails and says what to install.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from one_vmm_xen.config import XenDefaults, disk_specs, vif_specs, xl_config

from golden import matches_golden
from one.plugins.views import ViewValue
from xen import libxlutil
from xen.cases import CASES, vm

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    matches_golden(xl_config(vm(42, CASES[name])), GOLDEN / f"{name}.cfg")


@pytest.mark.parametrize("name", sorted(CASES))
def test_xl_reads_the_file_as_meant(name: str) -> None:
    guest = vm(42, CASES[name])
    with libxlutil.parsed(xl_config(guest)) as config:
        assert config.string("name") == "one-42"
        assert config.string("type") in ("hvm", "pvh", "pv")
        assert config.long("vcpus") == int(guest.template.get("VCPU") or 1)
        assert config.list("disk") == disk_specs(guest)
        assert config.list("vif") == vif_specs(guest)
        raw = any(r.get("TYPE") == "xen" for r in guest.template.vectors("RAW"))
        assert raw or config.long("memory") == int(guest.template.get("MEMORY") or 0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_disk_spec_parses_into_the_disk_meant(name: str) -> None:
    guest = vm(42, CASES[name])
    disks = guest.template.vectors("DISK")
    for index, spec in enumerate(disk_specs(guest)):
        parsed = libxlutil.disk(spec)
        assert parsed["pdev_path"] == f"{guest.system_dir}/disk.{index}"
        assert parsed["vdev"] in spec
        cdrom = index == len(disks) or disks[index].get("TYPE", "").upper() == "CDROM"
        assert bool(parsed.get("is_cdrom")) == cdrom
        assert bool(parsed.get("readwrite")) == ("access=rw" in spec)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_vif_rate_parses(name: str) -> None:
    for spec in vif_specs(vm(42, CASES[name])):
        for item in spec.split(","):
            key, _, value = item.partition("=")
            if key == "rate":
                libxlutil.vif_rate(value)


def test_the_guest_types_follow_os() -> None:
    kinds = {}
    for name in CASES:
        with libxlutil.parsed(xl_config(vm(1, CASES[name]))) as config:
            kinds[name] = config.string("type")
    assert kinds["hvm-minimal"] == kinds["hvm-vnc"] == "hvm"
    assert kinds["pvh-kernel"] == "pvh" and kinds["pv-pygrub"] == "pv"
    as_pv = XenDefaults(kernel_type="pv")
    with libxlutil.parsed(xl_config(vm(1, CASES["pvh-kernel"]), as_pv)) as c:
        assert c.string("type") == "pv" and c.string("root") == "/dev/xvda1"


def test_raw_data_wins_over_what_the_driver_wrote() -> None:
    """RAW is appended; libxlutil keeps the last value of a key, as xl then reads it."""
    with libxlutil.parsed(xl_config(vm(42, CASES["uuid-raw"]))) as config:
        assert config.long("memory") == 640
        assert config.string("on_crash") == "preserve"
        assert config.string("uuid") == "6f1e6a2c-8d0e-4b7a-9b55-3c2d1e0f4a5b"


def test_credit_weight_and_cap_come_from_cpu() -> None:
    guest = vm(3, [("CPU", "0.25"), ("MEMORY", "64")])
    with libxlutil.parsed(xl_config(guest, XenDefaults(cap=True))) as config:
        assert (config.long("cpu_weight"), config.long("cap")) == (64, 25)
    with libxlutil.parsed(xl_config(guest)) as config:
        with pytest.raises(KeyError):
            config.long("cap")


def test_libxlutil_rejects_what_xl_would() -> None:
    """The checks above can fail: the library refuses a broken file and a bad disk spec."""
    with pytest.raises(libxlutil.XluError, match="syntax error"):
        with libxlutil.parsed('disk = [ "format=raw,target=/x" \n'):
            pass
    with pytest.raises(libxlutil.XluError, match="unknown value for format"):
        libxlutil.disk("format=qcow9,vdev=xvda,target=/x")
    with pytest.raises(libxlutil.XluError, match="invalid rate"):
        libxlutil.vif_rate("fast")


@pytest.mark.parametrize("attrs, message", [
    ([("CPU", "1")], "no valid MEMORY"),
    ([("MEMORY", "64"), ("OS", {"BOOT": "floppy"})], "boot device 'floppy'"),
    ([("MEMORY", "64"), ("DISK", {"DRIVER": "vmdk"})], "disk format 'vmdk'"),
    ([("MEMORY", "64"), ("GRAPHICS", {"TYPE": "vnc", "PORT": "5800"})], "from 5900"),
    ([("MEMORY", "64"), ("OS", {"KERNEL": '/boot/"x"'})], "cannot be written"),
], ids=["no-memory", "boot-device", "disk-format", "vnc-port", "quote"])
def test_templates_xl_cannot_run_are_refused(attrs: list[tuple[str, ViewValue]],
                                             message: str) -> None:
    with pytest.raises(ValueError, match=message):
        xl_config(vm(9, attrs))
