"""Every xl command line the drivers run, against golden ones, on a host reached over ssh."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from one_vmm_xen import XenIM, XenVMM
from one_vmm_xen.xl import Xl

from one.drivers.remote import RemoteError
from one.plugins import HostView, PollState, VmView
from one.plugins.testing import make_vm_view
from one.states import HostState
from tm.hosts import Host
from xen.conftest import journal


@pytest.fixture
def xen(xen_settings: dict[str, str]) -> Iterator[XenVMM]:
    driver = XenVMM(xen_settings)
    yield driver
    driver.xl.close()


def _host(host: Host) -> HostView:
    return HostView(id=0, name=host.name, state=HostState.MONITORED, im_mad="xen", vm_mad="xen")


@pytest.fixture
def guest(tmp_path: Path) -> VmView:
    return make_vm_view(3, system_dir=str(tmp_path / "3"))


def test_each_action_is_one_golden_xl_line(xen: XenVMM, hosts: tuple[Host, Host], guest: VmView,
                                           xl_state: Path, tmp_path: Path) -> None:
    one, two = _host(hosts[0]), _host(hosts[1])
    running = replace(guest, deploy_id=xen.deploy(guest, one))
    xen.reboot(running, one)
    xen.reset(running, one)
    xen.save(running, one, running.checkpoint)
    xen.restore(running, one, running.checkpoint)
    xen.migrate(running, one, two)
    xen.cancel(running, two)
    assert [xen.poll(running, h).state for h in (one, one, two)] == [PollState.GONE] * 3
    checkpoint, cfg = f"{tmp_path}/3/checkpoint", f"{tmp_path}/3/deployment.cfg"
    assert journal(xl_state, one.name) == [
        "xl list one-3", f"xl create {cfg}",                                    # deploy
        "xl reboot -F one-3",                                                   # reboot
        "xl trigger one-3 reset",                                               # reset
        "xl list one-3", f"xl save one-3 {checkpoint}",                         # save
        "xl list one-3", f"xl restore {checkpoint}",                            # restore
        "xl list one-3", "xl migrate one-3 127.0.0.3",                          # migrate
        "xl list one-3", "xl list one-3"]                                       # polls
    assert journal(xl_state, two.name) == [
        "xl list one-3", "xl destroy one-3",                                    # cancel
        "xl list one-3"]                                                        # poll


def test_the_probe_is_three_golden_lines(xen_settings: dict[str, str], hosts: tuple[Host, Host],
                                         xl_state: Path) -> None:
    probe = XenIM(xen_settings)
    try:
        first = probe.monitor(_host(hosts[0]))
    finally:
        probe.xl.close()
    assert journal(xl_state, hosts[0].name) == ["xl info", "xl list", "xl list -l"]
    assert first.values["HOSTNAME"] == f"xen-{hosts[0].name}" and first.vms == {}


def test_the_probe_reports_guests_with_cpu_from_xl_time(
        xen: XenVMM, xen_settings: dict[str, str], hosts: tuple[Host, Host], guest: VmView,
        xl_state: Path) -> None:
    host = _host(hosts[0])
    xen.deploy(guest, host)
    domains = xl_state / hosts[0].name / "domains.json"
    probe = XenIM(xen_settings)
    try:
        assert probe.monitor(host).vms["one-3"].cpu == 0.0      # the first sample
        domains.write_text(domains.read_text().replace('"time": 0.0', '"time": 1000.0'))
        again = probe.monitor(host)
    finally:
        probe.xl.close()
    seen = again.vms["one-3"]
    assert seen.state is PollState.RUNNING and seen.memory == 128 * 1024 and seen.cpu > 0
    assert seen.extra["XEN_UUID"]
    assert float(again.values["USEDCPU"]) > 0
    assert int(again.values["FREEMEMORY"]) == (16384 - 1024 - 128) * 1024


def test_an_unknown_target_fails_the_migration_with_xls_words(
        xen: XenVMM, hosts: tuple[Host, Host], guest: VmView) -> None:
    one = _host(hosts[0])
    running = replace(guest, deploy_id=xen.deploy(guest, one))
    nowhere = HostView(id=9, name="nowhere.invalid", state=HostState.MONITORED, im_mad="xen",
                       vm_mad="xen")
    with pytest.raises(RemoteError, match="migration sender: Target has stopped"):
        xen.migrate(running, one, nowhere)
    assert xen.poll(running, one).state is PollState.RUNNING


@pytest.mark.parametrize("command, line", [
    ("xl", "xl list one-3"),
    ("sudo xl", "sudo xl list one-3"),
    ("/usr/lib/xen-4.17/bin/xl", "/usr/lib/xen-4.17/bin/xl list one-3"),
])
def test_the_xl_command_is_a_setting(command: str, line: str) -> None:
    xl = Xl({"XL": command})
    assert xl.line("list", "one-3") == line
    assert xl.line("create", "/var/lib/one/a b/deployment.cfg").endswith(
        "create '/var/lib/one/a b/deployment.cfg'")
