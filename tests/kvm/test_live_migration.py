"""Live migration of a real guest between two libvirtds on this machine, through oned.

`localhost` is the machine's libvirtd (qemu:///system); `node2` is a second
libvirtd in a mount namespace of its own, reached as libvirt reaches any other
host: qemu+ssh to an sshd on 127.0.0.2 inside that namespace (see
guest.NamespacedLibvirtd). After `one.vm.migrate(live)` the boot-sector guest
must run on node2 and still print on its serial port.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import libvirt
import pytest
from lxml import etree

from conftest import Engine, start_oned
from guest import (LINE, Libvirtd, NamespacedLibvirtd, destroy_domains, domains, read_console,
                   vm_boot_disk)
from one.states import LcmState as L, VmState as S

# PORT = -1: libvirt picks the VNC display, so the guest's display on node2 does
# not collide with the one it leaves on the source (both hosts share 127.0.0.1).
GUEST = ("CPU = 0.1 MEMORY = 64 DISK = [ TARGET = hda ] "
         "GRAPHICS = [ TYPE = vnc, LISTEN = 127.0.0.1, PORT = -1 ]")
# Both libvirtds see the VM directories on one local file system, which libvirt
# cannot tell is shared: migration is allowed explicitly, as OpenNebula's
# MIGRATE_OPTIONS=--unsafe does.
CONFIG = 'DATASTORE_LOCATION = "{}"\nVM_MAD = [ NAME = "kvm", MIGRATE_UNSAFE = "yes" ]\n'


@pytest.fixture(scope="module")
def node2() -> Iterator[NamespacedLibvirtd]:
    local = Libvirtd()
    local.ensure()
    node = NamespacedLibvirtd("127.0.0.2")
    try:
        node.start()
        yield node
    finally:
        node.stop()
        local.stop_started()


@pytest.fixture
def cluster(tmp_path: Path, node2: NamespacedLibvirtd) -> Iterator[tuple[Engine, Path]]:
    """oned with `localhost` (host 0) and `node2` (host 1), both monitored.

    The VM directories are under /var/tmp, readable by QEMU's user and not
    overlaid in node2's namespace, so both libvirtds find the disk at one path."""
    datastores = Path(tempfile.mkdtemp(prefix="one-ds-", dir="/var/tmp"))
    datastores.chmod(0o755)
    oned = start_oned(tmp_path, config_text=CONFIG.format(datastores))
    engine = Engine(oned)
    try:
        _kvm_host(engine, "localhost")
        _kvm_host(engine, "node2", node2.uri)
        engine.monitor()
        for hid in (0, 1):
            host = engine.doc("one.host.info", hid)
            assert host.findtext("STATE") == "2", host.findtext("TEMPLATE/ERROR")
        yield engine, datastores
    finally:
        oned.stop()
        destroy_domains(Libvirtd.uri, using=str(datastores))
        destroy_domains(node2.socket_uri)
        shutil.rmtree(datastores, ignore_errors=True)


def _kvm_host(engine: Engine, name: str, uri: str = "") -> int:
    hid = engine.rpc.ok("one.host.allocate", name, "kvm", "kvm", -1)
    if uri:
        engine.rpc.ok("one.host.update", hid, f'LIBVIRT_URI = "{uri}"', 1)
    return hid


@pytest.fixture
def running(cluster: tuple[Engine, Path]) -> tuple[Engine, int]:
    """The guest booted on localhost."""
    engine, datastores = cluster
    vid = engine.rpc.ok("one.vm.allocate", GUEST, True)
    vm_boot_disk(datastores, vid)
    engine.rpc.ok("one.vm.deploy", vid, 0)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING), _error(engine, vid)
    return engine, vid


def _error(engine: Engine, vid: int) -> str | None:
    return engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")


def _last_host(engine: Engine, vid: int) -> str | None:
    history = engine.doc("one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY")
    return history[-1].findtext("HOSTNAME")


def _host_uuid(uri: str) -> str | None:
    conn = libvirt.open(uri)
    try:
        return etree.fromstring(conn.getCapabilities().encode()).findtext("host/uuid")
    finally:
        conn.close()


def test_node2_is_another_host_reached_over_ssh(node2: NamespacedLibvirtd) -> None:
    """Over ssh one lands in node2's namespace, and its libvirtd has a host
    UUID of its own (libvirt refuses to migrate to its own UUID)."""
    assert node2.sshd.run("readlink /proc/self/ns/mnt").stdout.strip() != os.readlink(
        "/proc/self/ns/mnt")
    assert _host_uuid(node2.uri) != _host_uuid(Libvirtd.uri)


def test_live_migration_moves_the_running_guest_to_node2(
        running, node2: NamespacedLibvirtd) -> None:
    engine, vid = running
    name = f"one-{vid}"
    engine.rpc.ok("one.vm.migrate", vid, 1, True)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING), _error(engine, vid)
    assert _last_host(engine, vid) == "node2"
    assert name not in domains(Libvirtd.uri)
    assert name in domains(node2.uri)
    assert read_console(node2.uri, name).count(LINE) >= 1
    engine.monitor()   # node2's probe finds it there: no state change
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert engine.doc("one.host.info", 1).findtext("VMS/ID") == str(vid)


@pytest.fixture
def unreachable(tmp_path: Path) -> tuple[str, Path]:
    """A URI nothing answers at (127.0.0.3), through an ssh that notes each call:
    the source libvirtd runs it once per attempt to reach the target."""
    calls, ssh = tmp_path / "ssh-calls", tmp_path / "ssh"
    ssh.write_text(f'#!/bin/sh\necho call >> {calls}\nexec ssh "$@"\n')
    ssh.chmod(0o755)
    return f"qemu+ssh://127.0.0.3/system?no_tty=1&command={ssh}", calls


def test_migration_to_an_unreachable_libvirtd_leaves_the_guest_on_the_source(
        running, unreachable: tuple[str, Path]) -> None:
    engine, vid = running
    uri, calls = unreachable
    node3 = _kvm_host(engine, "node3", uri)
    engine.rpc.ok("one.vm.migrate", vid, node3, True)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert "127.0.0.3" in (_error(engine, vid) or ""), _error(engine, vid)
    assert len(calls.read_text().splitlines()) == 1   # a failed migration is not repeated
    assert _last_host(engine, vid) == "localhost"
    assert LINE in read_console(Libvirtd.uri, f"one-{vid}")
