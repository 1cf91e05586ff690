"""What the dummy drivers do beyond the contract: the pretend hypervisor and the knobs."""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import one_dummy
import pytest
from one_dummy import ACTIONS, Datacenter, Domain, DomainError, DummyIM, DummyTM, DummyVMM, DummyVNM

from one.plugins import (
    HostView, Location, PluginManager, PollState, TemplateView, TransferStep, VmView,
)
from one.plugins.testing import CHANGE_ACTIONS, make_vm_view

HOST = HostView(id=0, name="node1", state=2, im_mad="dummy", vm_mad="dummy")
TARGET = HostView(id=1, name="node2", state=2, im_mad="dummy", vm_mad="dummy")
VM = make_vm_view(5, host=HOST.name, deploy_id="one-5", memory_mb=256)
VMM_ACTIONS = ("deploy", "shutdown", "cancel", "reboot", "reset", "save", "restore", "migrate",
               "poll", "attach_disk", "detach_disk", "attach_nic", "detach_nic") + CHANGE_ACTIONS
DEVICES = {"attach_disk": ({"DISK_ID": "2"},), "detach_disk": ({"DISK_ID": "2"},),
           "attach_nic": ({"NIC_ID": "1"},), "detach_nic": ({"NIC_ID": "1"},)}
# What each change in place is given, beyond the VM and host.
_CHANGE_ARGS: dict[str, tuple[Any, ...]] = {
    "snapshot_create": (0, "s"), "snapshot_revert": ("snap-0",), "snapshot_delete": ("snap-0",),
    "disk_snapshot_create": (0, 0), "disk_snapshot_revert": (0, 0), "disk_snapshot_delete": (0, 0),
    "disk_resize": (0, 80)}


@pytest.fixture
def datacenter() -> Datacenter:
    return Datacenter()


@pytest.fixture
def vmm(datacenter: Datacenter) -> DummyVMM:
    return DummyVMM(datacenter=datacenter)


def with_template(host: HostView, **attrs: str) -> HostView:
    return replace(host, template=TemplateView.of(attrs.items()))


def with_user_template(vm: VmView, **attrs: str) -> VmView:
    return replace(vm, user_template=TemplateView.of(attrs.items()))


def prepare(action: str, datacenter: Datacenter) -> None:
    """Leave the world as the action expects it: VM 5 running (with a snapshot, its disk 0
    with one), or saved for restore."""
    datacenter.hypervisor(HOST.name).create(Domain("one-5", memory_kib=1024, snapshots=("snap-0",)))
    datacenter.disks["5/0"] = {"size": 40, "snapshots": {0}}
    if action == "restore":
        datacenter.save(HOST.name, "one-5", VM.checkpoint)


def perform(action: str, datacenter: Datacenter, config: Mapping[str, str] | None = None,
            vm: VmView = VM, host: HostView = HOST) -> Any:
    """Run any action of any dummy driver on VM 5, by name."""
    if action in VMM_ACTIONS:
        extra: tuple[Any, ...] = {"save": (vm.checkpoint,), "restore": (vm.checkpoint,),
                                  "migrate": (TARGET,), **DEVICES, **_CHANGE_ARGS}.get(action, ())
        return getattr(DummyVMM(config, datacenter), action)(vm, host, *extra)
    if action == "monitor":
        return DummyIM(config, datacenter).monitor(host)
    if action == "execute":
        return DummyTM(config).execute(vm, [])
    return getattr(DummyVNM(config), action)(vm, host)


def test_actions_cover_every_driver_method() -> None:
    assert set(VMM_ACTIONS) | {"monitor", "execute", "pre", "post", "clean"} == ACTIONS


# --- the pretend hypervisor -----------------------------------------------------------------

def test_deploy_runs_a_domain_named_after_the_vm(vmm: DummyVMM) -> None:
    assert vmm.deploy(replace(VM, deploy_id=""), HOST) == "one-5"
    domain = vmm.hypervisor(HOST.name).domains()["one-5"]
    assert domain.memory_kib == 256 * 1024
    found = vmm.poll(VM, HOST)
    assert found.state is PollState.RUNNING
    assert (found.cpu, found.memory) == (1.0, 256 * 1024)
    assert found.netrx >= 0 and found.nettx >= 0


def test_deploy_again_keeps_the_running_domain(vmm: DummyVMM) -> None:
    vmm.deploy(VM, HOST)
    assert vmm.deploy(replace(VM, template=TemplateView.of([("MEMORY", "64")])), HOST) == "one-5"
    assert vmm.hypervisor(HOST.name).domains()["one-5"].memory_kib == 256 * 1024


def test_shutdown_removes_and_a_missing_domain_is_success(vmm: DummyVMM) -> None:
    vmm.deploy(VM, HOST)
    vmm.shutdown(VM, HOST)
    assert vmm.poll(VM, HOST).state is PollState.GONE
    vmm.shutdown(VM, HOST)
    assert vmm.hypervisor(HOST.name).domains() == {}


def test_cancel_of_a_missing_domain_is_success(vmm: DummyVMM) -> None:
    vmm.cancel(VM, HOST)
    assert vmm.hypervisor(HOST.name).domains() == {}


@pytest.mark.parametrize("action", ["reboot", "reset"])
def test_restarts_keep_running_and_need_the_domain(vmm: DummyVMM, action: str) -> None:
    with pytest.raises(DomainError):
        getattr(vmm, action)(VM, HOST)
    vmm.deploy(VM, HOST)
    getattr(vmm, action)(VM, HOST)
    assert vmm.poll(VM, HOST).state is PollState.RUNNING


def test_hotplug_changes_the_domain_once_and_needs_it(vmm: DummyVMM) -> None:
    with pytest.raises(DomainError):
        vmm.attach_disk(VM, HOST, {"DISK_ID": "2"})
    vmm.deploy(VM, HOST)
    for _ in range(2):
        vmm.attach_disk(VM, HOST, {"DISK_ID": "2"})
        vmm.attach_nic(VM, HOST, {"NIC_ID": "1"})
    assert vmm.hypervisor(HOST.name).require("one-5").devices == {"disk:2", "nic:1"}
    for _ in range(2):
        vmm.detach_disk(VM, HOST, {"DISK_ID": "2"})
    assert vmm.hypervisor(HOST.name).require("one-5").devices == {"nic:1"}


def test_save_then_restore_on_another_host(vmm: DummyVMM, datacenter: Datacenter) -> None:
    vmm.deploy(VM, HOST)
    vmm.save(VM, HOST, VM.checkpoint)
    assert vmm.poll(VM, HOST).state is PollState.GONE
    assert datacenter.checkpoints() == {VM.checkpoint: "one-5"}
    assert vmm.restore(VM, TARGET, VM.checkpoint) == "one-5"
    assert vmm.poll(VM, TARGET).state is PollState.RUNNING
    assert datacenter.checkpoints() == {}


def test_restore_without_checkpoint_fails(vmm: DummyVMM) -> None:
    with pytest.raises(DomainError, match="no checkpoint"):
        vmm.restore(VM, HOST, VM.checkpoint)


def test_migrate_moves_the_domain(vmm: DummyVMM) -> None:
    vmm.deploy(VM, HOST)
    vmm.migrate(VM, HOST, TARGET)
    assert vmm.poll(VM, HOST).state is PollState.GONE
    assert vmm.poll(VM, TARGET).state is PollState.RUNNING
    vmm.migrate(VM, HOST, TARGET)                  # already there: success
    assert vmm.poll(VM, TARGET).state is PollState.RUNNING
    with pytest.raises(DomainError):              # on neither host
        vmm.migrate(VM, HOST, replace(HOST, name="node3"))


def test_a_killed_domain_is_gone_for_poll_and_monitor(vmm: DummyVMM,
                                                      datacenter: Datacenter) -> None:
    vmm.deploy(VM, HOST)
    im = DummyIM(datacenter=datacenter)
    assert set(im.monitor(HOST).vms or {}) == {"one-5"}
    datacenter.hypervisor(HOST.name).kill("one-5")
    assert vmm.poll(VM, HOST).state is PollState.GONE
    assert im.monitor(HOST).vms == {}
    with pytest.raises(DomainError):
        datacenter.hypervisor(HOST.name).kill("one-5")


def test_driver_threads_share_the_datacenter_safely(vmm: DummyVMM,
                                                    datacenter: Datacenter) -> None:
    """Oned runs driver calls in pools: whole life cycles at once must not lose a domain."""
    def life(vm_id: int) -> None:
        vm = make_vm_view(vm_id, host=HOST.name, deploy_id=f"one-{vm_id}")
        vmm.deploy(vm, HOST)
        vmm.migrate(vm, HOST, TARGET)
        vmm.save(vm, TARGET, vm.checkpoint)
        vmm.restore(vm, HOST, vm.checkpoint)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(life, range(200)))
    assert len(datacenter.hypervisor(HOST.name).domains()) == 200
    assert datacenter.hypervisor(TARGET.name).domains() == datacenter.checkpoints() == {}


def test_module_helpers_see_what_default_drivers_do() -> None:
    host = replace(HOST, name="behaviour-shared-host")
    vm = replace(VM, host=host.name)
    assert DummyVMM().datacenter is DummyIM().datacenter is one_dummy.DATACENTER
    DummyVMM().deploy(vm, host)
    assert "one-5" in one_dummy.hypervisor(host.name).domains()
    one_dummy.hypervisor(host.name).kill("one-5")
    assert DummyVMM().poll(vm, host).state is PollState.GONE


def test_reset_forgets_hosts_and_checkpoints() -> None:
    datacenter = one_dummy.DATACENTER
    prepare("restore", datacenter)
    prepare("deploy", datacenter)
    one_dummy.reset()
    assert one_dummy.hypervisor(HOST.name).domains() == {} and datacenter.checkpoints() == {}


def test_monitor_reports_a_roomy_host(datacenter: Datacenter) -> None:
    probe = DummyIM(datacenter=datacenter).monitor(HOST)
    assert probe.values == {
        "HYPERVISOR": "dummy", "HOSTNAME": "node1", "TOTALCPU": "800", "CPUSPEED": "2200",
        "TOTALMEMORY": "16777216", "USEDMEMORY": "0", "FREEMEMORY": "16777216",
        "FREECPU": "800", "USEDCPU": "0", "NETRX": "0", "NETTX": "0"}
    assert probe.vms == {}


def test_monitor_capacity_from_settings(datacenter: Datacenter) -> None:
    im = DummyIM({"TOTALCPU": "400", "TOTALMEMORY": "1048576"}, datacenter)
    values = im.monitor(HOST).values
    assert (values["TOTALCPU"], values["FREECPU"]) == ("400", "400")
    assert (values["TOTALMEMORY"], values["FREEMEMORY"]) == ("1048576", "1048576")


def test_entry_point_registers_every_kind() -> None:
    manager = PluginManager()
    manager.load_entry_points()
    manager.collect_drivers()
    assert "dummy" in manager.plugin_names()
    for kind, cls in {"vmm": DummyVMM, "im": DummyIM, "tm": DummyTM, "vnm": DummyVNM}.items():
        assert isinstance(manager.driver(kind, "dummy"), cls)


# --- logging --------------------------------------------------------------------------------

@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_logs_one_line(caplog: pytest.LogCaptureFixture,
                                    datacenter: Datacenter, action: str) -> None:
    prepare(action, datacenter)
    with caplog.at_level(logging.DEBUG, logger="one.driver"):
        perform(action, datacenter)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("one.driver.")]
    assert len(lines) == 1 and lines[0].startswith(f"{action}: "), lines


def test_execute_logs_each_step(caplog: pytest.LogCaptureFixture) -> None:
    steps = [TransferStep("MKSWAP", Location("/var/lib/one/0/disk.1", "node1"), size_mb=64),
             TransferStep("DELETE", Location("/var/lib/one/0", "node1"))]
    with caplog.at_level(logging.INFO, logger="one.driver.tm.dummy"):
        DummyTM().execute(VM, steps)
    assert caplog.messages == ["execute: MKSWAP node1:/var/lib/one/0/disk.1 64",
                               "execute: DELETE node1:/var/lib/one/0",
                               "execute: 2 steps done for VM 5"]


# --- delays and failures --------------------------------------------------------------------

def elapsed(action: str, datacenter: Datacenter, **where: Any) -> float:
    start = time.monotonic()
    perform(action, datacenter, **where)
    return time.monotonic() - start


def test_delay_from_settings(datacenter: Datacenter) -> None:
    assert elapsed("deploy", datacenter, config={"DELAY": "0.01"}) >= 0.01


def test_most_specific_delay_wins(datacenter: Datacenter) -> None:
    slow = {"config": {"DELAY": "0.5"}, "host": with_template(HOST, DUMMY_DELAY="0.5")}
    assert elapsed("deploy", datacenter, vm=with_user_template(VM, DUMMY_DELAY="0.01"),
                   **slow) < 0.4
    assert 0.01 <= elapsed("monitor", datacenter, config={"DELAY": "0.5"},
                           host=with_template(HOST, DUMMY_DELAY="0.01")) < 0.4


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_injected_failure_from_settings(datacenter: Datacenter, action: str) -> None:
    prepare(action, datacenter)
    with pytest.raises(RuntimeError, match=f"^dummy: injected failure of {action}$"):
        perform(action, datacenter, config={"FAIL": f"reboot {action.upper()}"})


def test_injected_failure_from_the_vm(datacenter: Datacenter) -> None:
    vm = with_user_template(VM, DUMMY_FAIL="deploy execute pre")
    for action in ("deploy", "execute", "pre"):
        with pytest.raises(RuntimeError, match=f"failure of {action}"):
            perform(action, datacenter, vm=vm)
    perform("post", datacenter, vm=vm)
    assert datacenter.hypervisor(HOST.name).domains() == {}, "a failed deploy boots nothing"


def test_injected_failure_from_the_host(datacenter: Datacenter) -> None:
    host = with_template(HOST, DUMMY_FAIL="monitor deploy")
    for action in ("monitor", "deploy"):
        with pytest.raises(RuntimeError, match=f"failure of {action}"):
            perform(action, datacenter, host=host)
    perform("deploy", datacenter)


def test_migration_fails_when_the_target_says_so(datacenter: Datacenter) -> None:
    prepare("migrate", datacenter)
    vmm = DummyVMM(datacenter=datacenter)
    with pytest.raises(RuntimeError, match="failure of migrate"):
        vmm.migrate(VM, HOST, with_template(TARGET, DUMMY_FAIL="migrate"))
    assert "one-5" in datacenter.hypervisor(HOST.name).domains()


def test_failure_comes_after_the_delay(datacenter: Datacenter) -> None:
    start = time.monotonic()
    with pytest.raises(RuntimeError):
        perform("cancel", datacenter, config={"DELAY": "0.01", "FAIL": "cancel"})
    assert time.monotonic() - start >= 0.01


# --- bad knob values ------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "message"), [
    ({"config": {"DELAY": "abc"}}, "DELAY in the driver settings is 'abc'"),
    ({"config": {"DELAY": "nan"}}, "DELAY in the driver settings is 'nan'"),
    ({"vm": with_user_template(VM, DUMMY_DELAY="-1")},
     "DUMMY_DELAY in the USER_TEMPLATE of VM 5 is '-1'"),
    ({"host": with_template(HOST, DUMMY_DELAY="soon")},
     "DUMMY_DELAY in the TEMPLATE of host node1 is 'soon'"),
    ({"config": {"FAIL": "deplyo"}}, r"FAIL in the driver settings names unknown .*deplyo"),
    ({"host": with_template(HOST, DUMMY_FAIL="boot")},
     r"DUMMY_FAIL in the TEMPLATE of host node1 names unknown .*boot"),
    ({"vm": replace(VM, template=TemplateView.of([("MEMORY", "lots")]))},
     "MEMORY in the TEMPLATE of VM 5 is 'lots'"),
])
def test_bad_values_name_the_attribute(datacenter: Datacenter, where: dict[str, Any],
                                       message: str) -> None:
    with pytest.raises(ValueError, match=message):
        perform("deploy", datacenter, **where)


def test_bad_vm_value_fails_even_when_another_place_fails_first(datacenter: Datacenter) -> None:
    with pytest.raises(ValueError, match="DUMMY_FAIL in the USER_TEMPLATE"):
        perform("deploy", datacenter, config={"FAIL": "deploy"},
                vm=with_user_template(VM, DUMMY_FAIL="typo"))


@pytest.mark.parametrize("attr", ["TOTALCPU", "TOTALMEMORY"])
def test_bad_capacity_names_the_attribute(datacenter: Datacenter, attr: str) -> None:
    with pytest.raises(ValueError, match=f"{attr} in the driver settings is '1.5'"):
        perform("monitor", datacenter, config={attr: "1.5"})
