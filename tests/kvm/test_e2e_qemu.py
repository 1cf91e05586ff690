"""A real guest under oned: libvirtd + QEMU (KVM when /dev/kvm works, else TCG).

The guest is a boot sector made here that prints a line on its serial port;
the test reads that line through libvirt. Also: a domain killed behind oned's
back goes POWEROFF at the next monitoring, and a libvirtd restart under a
running VM is survived.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from conftest import Engine, start_oned
from guest import LINE, Libvirtd, boot_disk, read_console
from one.states import LcmState as L, VmState as S

GUEST = "CPU = 0.1 MEMORY = 64 DISK = [ TARGET = hda ] GRAPHICS = [ TYPE = vnc, LISTEN = 127.0.0.1 ]"


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    daemon = Libvirtd()
    daemon.ensure()
    yield daemon
    daemon.stop_started()


@pytest.fixture
def datastores() -> Iterator[Path]:
    """QEMU runs as another user: the VM directories must be reachable by it."""
    path = Path(tempfile.mkdtemp(prefix="one-ds-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def kvm(tmp_path: Path, datastores: Path, libvirtd: Libvirtd) -> Iterator[Engine]:
    _destroy_ours()  # what an interrupted earlier run may have left
    oned = start_oned(tmp_path, config_text=f'DATASTORE_LOCATION = "{datastores}"\n')
    engine = Engine(oned)
    yield engine
    _destroy_ours()
    oned.stop()


def _destroy_ours() -> None:
    for name in _our_domains():
        subprocess.run(["virsh", "-c", Libvirtd.uri, "destroy", name], capture_output=True)


def _our_domains() -> list[str]:
    out = subprocess.run(["virsh", "-c", Libvirtd.uri, "list", "--name"], capture_output=True, text=True)
    return [n for n in out.stdout.split() if n.startswith("one-")]


@pytest.fixture
def booted(kvm: Engine, datastores: Path) -> tuple[Engine, int, int]:
    kvm.rpc.ok("one.host.allocate", "localhost", "kvm", "kvm", -1)
    kvm.monitor()
    host = kvm.doc("one.host.info", 0)
    assert host.findtext("STATE") == "2", host.findtext("TEMPLATE/ERROR")
    vid = kvm.rpc.ok("one.vm.allocate", GUEST, True)
    boot_disk(datastores / "0" / str(vid) / "disk.0")
    for directory in (datastores / "0", datastores / "0" / str(vid)):
        directory.chmod(0o755)
    kvm.rpc.ok("one.vm.deploy", vid, 0)
    kvm.settle()
    assert kvm.phase(vid) == (S.ACTIVE, L.RUNNING), kvm.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
    return kvm, 0, vid


def test_host_is_monitored_through_libvirt(booted) -> None:
    engine, hid, vid = booted
    engine.monitor()
    host = engine.doc("one.host.info", hid)
    assert host.findtext("TEMPLATE/HYPERVISOR") == "kvm"
    assert int(host.findtext("HOST_SHARE/MAX_CPU")) >= 100
    assert int(host.findtext("HOST_SHARE/MAX_MEM")) > 0
    assert host.findtext("VMS/ID") == str(vid)
    assert int(engine.doc("one.vm.info", vid).findtext("MONITORING/MEMORY")) > 0


def test_the_guest_really_boots_and_prints(booted) -> None:
    engine, _, vid = booted
    output = read_console(Libvirtd.uri, f"one-{vid}", times=2)
    assert output.count(LINE) >= 2, output[-200:]
    deployment = Path(engine.oned.managers.logs.path(vid)).parent / "deployment.xml"
    assert f"<name>one-{vid}</name>" in deployment.read_text()
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    assert engine.phase(vid) == (S.DONE, 0)
    assert f"one-{vid}" not in _our_domains()


def test_domain_killed_behind_oneds_back_goes_poweroff(booted) -> None:
    engine, _, vid = booted
    subprocess.run(["virsh", "-c", Libvirtd.uri, "destroy", f"one-{vid}"], check=True, capture_output=True)
    engine.monitor()
    assert engine.phase(vid) == (S.POWEROFF, 0)
    engine.rpc.ok("one.vm.action", "resume", vid)   # boots it again from the same disk
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert LINE in read_console(Libvirtd.uri, f"one-{vid}")


def test_libvirtd_restart_is_survived(booted, libvirtd: Libvirtd) -> None:
    engine, _, vid = booted
    libvirtd.restart()
    engine.monitor()   # the drivers reconnect
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert engine.doc("one.host.info", 0).findtext("STATE") == "2"
    engine.rpc.ok("one.vm.action", "reboot-hard", vid)
    engine.settle()
    assert LINE in read_console(Libvirtd.uri, f"one-{vid}")


def test_suspend_and_resume_through_a_checkpoint(booted) -> None:
    engine, _, vid = booted
    engine.rpc.ok("one.vm.action", "suspend", vid)
    engine.settle()
    assert engine.phase(vid) == (S.SUSPENDED, 0), engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
    engine.rpc.ok("one.vm.action", "resume", vid)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert LINE in read_console(Libvirtd.uri, f"one-{vid}")
