"""A VM's life on Xen hosts through oned: the real drivers, ssh, the executor, a fake xl.

oned runs the `xen` VMM and IM drivers against two sshd hosts (127.0.0.2 and
127.0.0.3) whose `xl` is fake_xl.py: the drivers' command lines are checked
against the golden ones below, each host's journal showing what it was asked.
A VM goes PENDING -> RUNNING -> (live migration) -> DONE; xl's refusals land
in BOOT_FAILURE with xl's words.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from one_vmm_xen.config import xl_config

from conftest import Engine, start_oned
from one.core.views import vm_view
from one.states import LcmState as L, VmState as S
from tm.hosts import Host
from xen.conftest import journal

GUEST = ('NAME = web CPU = 0.5 MEMORY = 256 '
         'OS = [ KERNEL = "/boot/vmlinuz", ROOT = "xvda1" ] '
         'DISK = [ TYPE = fs, SIZE = 64, FORMAT = raw ]')


def _conf(settings: dict[str, str], datastores: Path) -> str:
    driver = ", ".join(f'{key} = "{value}"' for key, value in settings.items())
    return (f'DATASTORE_LOCATION = "{datastores}"\n'
            f'VM_MAD = [ NAME = "xen", {driver} ]\nIM_MAD = [ NAME = "xen", {driver} ]\n')


@pytest.fixture
def cloud(tmp_path: Path, xen_settings: dict[str, str],
          hosts: tuple[Host, Host]) -> Iterator[Engine]:
    """oned with the two Xen hosts (ids 0 and 1), both monitored once."""
    settings = {**xen_settings, "SHUTDOWN_TIMEOUT": "2"}
    oned = start_oned(tmp_path, config_text=_conf(settings, tmp_path / "datastores"))
    engine = Engine(oned)
    try:
        for host in hosts:
            engine.rpc.ok("one.host.allocate", host.name, "xen", "xen", -1)
        engine.monitor()
        yield engine
    finally:
        oned.stop()


class Journals:
    """The xl lines each host ran since the last `new()`."""

    def __init__(self, state: Path, hosts: tuple[Host, Host]) -> None:
        self.state, self.names = state, [host.name for host in hosts]
        self.seen = {name: 0 for name in self.names}

    def new(self) -> dict[str, list[str]]:
        lines = {name: journal(self.state, name)[self.seen[name]:] for name in self.names}
        self.seen = {name: self.seen[name] + len(lines[name]) for name in self.names}
        return lines


def _error(engine: Engine, vid: int) -> str:
    return engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR") or ""


def test_the_probe_reports_each_host(cloud: Engine, hosts: tuple[Host, Host],
                                     xl_state: Path) -> None:
    for hid, host in enumerate(hosts):
        doc = cloud.doc("one.host.info", hid)
        assert doc.findtext("STATE") == "2", doc.findtext("TEMPLATE/ERROR")
        assert doc.findtext("HOST_SHARE/TOTAL_CPU") == "800"
        assert doc.findtext("HOST_SHARE/TOTAL_MEM") == str(16384 * 1024)
        assert doc.findtext("TEMPLATE/HYPERVISOR") == "xen"
        assert doc.findtext("TEMPLATE/HV_VERSION") == "4.17.5"
        assert journal(xl_state, host.name) == ["xl info", "xl list", "xl list -l"]


def test_a_vm_lives_and_migrates_through_xl(cloud: Engine, hosts: tuple[Host, Host],
                                            xl_state: Path, tmp_path: Path) -> None:
    first, second = (host.name for host in hosts)
    lines = Journals(xl_state, hosts)
    lines.new()
    vid = cloud.rpc.ok("one.vm.allocate", GUEST, True)
    assert cloud.phase(vid) == (S.HOLD, L.LCM_INIT)
    cloud.rpc.ok("one.vm.deploy", vid, 0)
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING), _error(cloud, vid)
    system_dir = tmp_path / "datastores" / "0" / str(vid)
    assert lines.new() == {first: [f"xl list one-{vid}",
                                   f"xl create {system_dir}/deployment.cfg"], second: []}
    written = (tmp_path / "vms" / str(vid) / "deployment.cfg").read_text()
    assert 'name = "one-0"' in written and 'type = "pvh"' in written
    assert f"format=raw,vdev=xvda,access=rw,target={system_dir}/disk.0" in written

    cloud.rpc.ok("one.vm.migrate", vid, 1, True)
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING), _error(cloud, vid)
    assert lines.new() == {first: [f"xl list one-{vid}", f"xl migrate one-{vid} {second}"],
                           second: []}
    cloud.monitor()       # the target's probe finds the domain: nothing changes
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert cloud.doc("one.host.info", 1).findtext("VMS/ID") == str(vid)
    lines.new()

    cloud.rpc.ok("one.vm.action", "terminate", vid)
    cloud.settle()
    assert cloud.phase(vid)[0] == S.DONE, _error(cloud, vid)
    assert lines.new() == {first: [], second: [f"xl list one-{vid}", f"xl shutdown -F one-{vid}",
                                               f"xl list one-{vid}"]}


@pytest.mark.parametrize("raw, words", [
    ('memory = 20000', "not enough memory"),
    ("vcpus = [ 1", "config parsing error"),
], ids=["libxl-refuses", "libxlutil-refuses"])
def test_xl_failures_land_in_boot_failure_with_its_words(cloud: Engine, raw: str,
                                                         words: str) -> None:
    template = GUEST + f' RAW = [ TYPE = xen, DATA = "{raw}" ]'
    vid = cloud.rpc.ok("one.vm.allocate", template, True)
    cloud.rpc.ok("one.vm.deploy", vid, 0)
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.BOOT_FAILURE)
    error = _error(cloud, vid)
    assert words in error and "create" in error and "deployment.cfg" in error, error


def test_a_guest_that_ignores_shutdown_stays_running_with_the_reason(cloud: Engine) -> None:
    """An HVM guest without PV drivers hears only ACPI; with ACPI off it never goes."""
    vid = cloud.rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 128 FEATURES = [ ACPI = no ]", True)
    cloud.rpc.ok("one.vm.deploy", vid, 0)
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING), _error(cloud, vid)
    cloud.rpc.ok("one.vm.action", "terminate", vid)
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert f"one-{vid} did not shut down in 2 s" in _error(cloud, vid)
    cloud.rpc.ok("one.vm.action", "terminate-hard", vid)
    cloud.settle()
    assert cloud.phase(vid)[0] == S.DONE, _error(cloud, vid)


def test_the_deployed_file_is_the_pure_function_of_the_vm(cloud: Engine, tmp_path: Path) -> None:
    """What reached the host, and the front-end's copy, are xl_config of the VM as oned sees it."""
    vid = cloud.rpc.ok("one.vm.allocate", GUEST, True)
    cloud.rpc.ok("one.vm.deploy", vid, 0)
    cloud.settle()
    view = vm_view(cloud.oned.managers.pools.vms.get(vid), cloud.oned.config)
    written = (tmp_path / "vms" / str(vid) / "deployment.cfg").read_text()
    assert written == xl_config(view)
    assert "cpu_weight = 128" in written
