"""Driver conformance suites, one per kind, as a pytest plugin.

A driver package proves it keeps the contract of its kind with one fixture:

    import pytest
    from one.plugins.testing import VMMConformance

    class TestMyVMM(VMMConformance):
        @pytest.fixture
        def driver(self):
            return MyVMM({"URI": "qemu:///system"})

Naming the driver's class in `driver_class` lets the suite read the
driver's capabilities (`Driver.supports`) when pytest collects the tests, so
that a check which does not apply to the driver is not collected at all
(pytest reports it deselected), and every collected check runs:

    class TestMyVMM(VMMConformance):
        driver_class = MyVMM

        @pytest.fixture
        def driver(self):
            return MyVMM({"URI": "qemu:///system"})

The `driver` fixture must then return an instance of that class (checked).
Without `driver_class` the suite learns the capabilities only when a test
runs, and skips there the checks that do not apply, as it always did.

The suites run the driver for real, so the fixtures `host`, `vm`, `workdir`
and `plugin` may be overridden with ones the driver can use. A VMM suite
tests migration on a `target_host` fixture, which a class naming a driver
that migrates must define. An IM suite checks that the probe reports a guest
running on the host when the class defines a `guest` fixture: set up such a
guest (with the matching VMM) and return its deploy id. Registered as a
`pytest11` entry point, pytest rewrites this module's assertions, so a failed
check also shows the values it compared.
"""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest

from one.errors import ActionNotSupported
from one.plugins.drivers import (
    REQUIRED_PROBE_KEYS,
    Driver, HostProbe, IMDriver, Location, PollState, TMDriver, TransferStep, VMMDriver, VmPoll,
    VNMDriver,
)
from one.plugins.manager import PluginManager
from one.plugins.registry import DriverRegistry
from one.plugins.views import HostView, TemplateView, ViewValue, VmView
from one.states import HostState, LcmState, VmState

__all__ = [
    "IMConformance", "TMConformance", "VMMConformance", "VNMConformance", "make_vm_view",
    "registered", "with_template",
]

# Changes to a VM in place (snapshots, resizes, configuration): see `VMMDriver`.
CHANGE_ACTIONS = ("snapshot_create", "snapshot_revert", "snapshot_delete", "disk_snapshot_create",
                  "disk_snapshot_revert", "disk_snapshot_delete", "disk_resize", "resize",
                  "update_conf")
VMM_ACTIONS = ("deploy", "shutdown", "cancel", "reboot", "reset", "save", "restore", "migrate",
               "poll", "attach_disk", "detach_disk", "attach_nic", "detach_nic") + CHANGE_ACTIONS
NUMERIC_PROBE_KEYS = tuple(k for k in REQUIRED_PROBE_KEYS if k != "HYPERVISOR")


def make_vm_view(vm_id: int = 0, *, host: str | None = None, deploy_id: str = "",
                 memory_mb: int = 128, system_dir: str = "",
                 user_template: Iterable[tuple[str, ViewValue]] = (),
                 state: int = VmState.ACTIVE, lcm_state: int = LcmState.BOOT) -> VmView:
    """A small but complete guest, as the core hands it over: one disk, one NIC, context."""
    ip, mac = "192.0.2.10", "02:00:c0:00:02:0a"
    template = TemplateView.of([
        ("NAME", f"conformance-{vm_id}"), ("VMID", str(vm_id)), ("CPU", "0.1"), ("VCPU", "1"),
        ("MEMORY", str(memory_mb)),
        ("DISK", {"DISK_ID": "0", "IMAGE": "ttylinux", "IMAGE_ID": "0", "DATASTORE_ID": "1",
                  "SOURCE": "/var/lib/one/datastores/1/ttylinux", "TYPE": "FILE", "SIZE": "40",
                  "TARGET": "vda", "DRIVER": "raw", "CLONE": "YES", "TM_MAD": "dummy"}),
        ("NIC", {"NIC_ID": "0", "NETWORK": "private", "NETWORK_ID": "0", "IP": ip, "MAC": mac,
                 "BRIDGE": "br0", "VN_MAD": "dummy", "TARGET": f"one-{vm_id}-0"}),
        ("CONTEXT", {"NETWORK": "YES", "ETH0_IP": ip, "ETH0_MAC": mac, "DISK_ID": "1",
                     "TARGET": "hda"}),
    ])
    return VmView(id=vm_id, name=f"conformance-{vm_id}", uid=0, gid=0, uname="oneadmin",
                  state=int(state), lcm_state=int(lcm_state), deploy_id=deploy_id,
                  template=template, user_template=TemplateView.of(user_template), host=host,
                  system_dir=system_dir or f"/var/lib/one/datastores/0/{vm_id}")


def registered(plugin: object) -> dict[str, list[str]]:
    """The driver names, by kind, that `plugin` alone adds to a fresh plugin manager."""
    manager = PluginManager()
    manager.register(plugin)
    manager.collect_drivers()
    return {kind: registry.names() for kind, registry in manager.registries.items()}


def _perform(driver: Driver, action: str, *args: Any) -> Any:
    """Run an action the driver claims (by overriding it), telling a false claim apart."""
    try:
        return getattr(driver, action)(*args)
    except (ActionNotSupported, NotImplementedError) as exc:
        pytest.fail(f"{type(driver).__name__} overrides {action}, so supports({action!r}) is "
                    f"True, but it raised {exc!r}: leave an action the driver cannot do to "
                    f"the base class, which raises ActionNotSupported")


# Why a check does not apply to a driver class ("" when it does).
Applies = Callable[[type[Driver]], str]
_Test = TypeVar("_Test", bound=Callable[..., None])


def _applies_when(reason: Applies) -> Callable[[_Test], _Test]:
    """Marks a check that applies only to drivers for which `reason` gives ""."""
    def mark(test: _Test) -> _Test:
        test._conformance_applies = reason  # type: ignore[attr-defined]
        return test
    return mark


def _can(*actions: str) -> Applies:
    def reason(driver_class: type[Driver]) -> str:
        lacking = [action for action in actions if not driver_class.supports(action)]
        return f"the driver does not implement {' and '.join(lacking)}" if lacking else ""
    return reason


def _can_any(*actions: str) -> Applies:
    def reason(driver_class: type[Driver]) -> str:
        if any(driver_class.supports(action) for action in actions):
            return ""
        return f"the driver implements none of {', '.join(actions)}"
    return reason


def _lacks_any(*actions: str) -> Applies:
    def reason(driver_class: type[Driver]) -> str:
        return "" if not all(driver_class.supports(a) for a in actions) \
            else "the driver implements every action"
    return reason


def _both(*reasons: Applies) -> Applies:
    def reason(driver_class: type[Driver]) -> str:
        return next((why for why in (r(driver_class) for r in reasons) if why), "")
    return reason


def _why_not(function: object, driver_class: type[Driver]) -> str:
    applies: Applies | None = getattr(function, "_conformance_applies", None)
    return applies(driver_class) if applies is not None else ""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselects the checks that do not apply to the driver a conformance class names."""
    kept, deselected = [], []
    for item in items:
        cls = getattr(item, "cls", None)
        driver_class = getattr(cls, "driver_class", None) \
            if isinstance(cls, type) and issubclass(cls, _Conformance) else None
        function = getattr(item, "function", None)
        if driver_class is not None and _why_not(function, driver_class):
            deselected.append(item)
        elif function is IMConformance.test_monitor_reports_the_guest \
                and "guest" not in getattr(item, "_fixtureinfo").name2fixturedefs:
            deselected.append(item)   # the class sets up no guest for the probe to find
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_vm_poll(found: object, what: str) -> VmPoll:
    """A poll the core can store: the right types, no negative counters."""
    assert isinstance(found, VmPoll), f"{what} returned {found!r}, not a VmPoll"
    assert isinstance(found.state, PollState), f"{what}: state {found.state!r} is no PollState"
    cpu = found.cpu
    assert isinstance(cpu, (int, float)) and not isinstance(cpu, bool) and math.isfinite(cpu) \
        and cpu >= 0, f"{what}: cpu {cpu!r} is not a percentage"
    for counter in ("memory", "netrx", "nettx"):
        value = getattr(found, counter)
        assert _is_count(value), f"{what}: {counter} {value!r} is not a count (int >= 0)"
    assert isinstance(found.extra, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.extra.items()), \
        f"{what}: extra {found.extra!r} is not a str -> str mapping"
    return found


class _Conformance:
    """What every driver kind promises: identity, capabilities, registration."""

    kind: ClassVar[str] = ""
    base: ClassVar[type[Driver]] = Driver
    required: ClassVar[tuple[str, ...]] = ()    # without these the core cannot use the driver
    # The class of the `driver` fixture's driver: its capabilities choose the checks collected.
    driver_class: ClassVar[type[Driver] | None] = None

    @pytest.fixture(autouse=True)
    def _applies(self, request: pytest.FixtureRequest) -> None:
        """The driver is the class named; without a name, an inapplicable check skips here."""
        driver: Driver = request.getfixturevalue("driver")
        if self.driver_class is not None:
            assert isinstance(driver, self.driver_class), \
                f"driver_class is {self.driver_class.__name__}, but the driver is {driver!r}"
            differ = [action for action in vars(self.base) if not action.startswith("_")
                      and callable(getattr(self.base, action))
                      and type(driver).supports(action) != self.driver_class.supports(action)]
            assert not differ, f"{type(driver).__name__} and driver_class " \
                f"{self.driver_class.__name__} differ in what they implement: {differ}"
            return
        why = _why_not(request.function, type(driver))
        if why:
            pytest.skip(f"{why} (name the driver's class in `driver_class` so that checks "
                        f"which do not apply are not collected)")

    @pytest.fixture
    def workdir(self, tmp_path: Path) -> Path:
        """Where the default VM keeps its files (checkpoint, disks): writable, per test."""
        return tmp_path

    @pytest.fixture
    def host(self, driver: Driver) -> HostView:
        return HostView(id=0, name="localhost", state=HostState.MONITORED,
                        im_mad=driver.name, vm_mad=driver.name)

    @pytest.fixture
    def vm(self, host: HostView, workdir: Path) -> VmView:
        return make_vm_view(0, host=host.name, system_dir=str(workdir / "0"))

    @pytest.fixture
    def plugin(self, driver: Driver) -> object:
        """The module whose hooks register the driver; by default its top-level package."""
        return importlib.import_module(type(driver).__module__.partition(".")[0])

    def test_identity(self, driver: Driver) -> None:
        assert isinstance(driver, self.base), f"{driver!r} is not a {self.base.__name__}"
        assert driver.kind == self.kind, f"kind is {driver.kind!r}, not {self.kind!r}"
        assert isinstance(driver.name, str) and driver.name, "a driver needs a name hosts use"
        registry: DriverRegistry[Driver] = DriverRegistry(self.kind, self.base)
        registry.add(type(driver))
        assert driver.name in registry

    def test_required_actions(self, driver: Driver) -> None:
        missing = [action for action in self.required if not driver.supports(action)]
        assert not missing, f"a {self.kind} driver must implement {missing}"

    def test_registered_by_plugin(self, driver: Driver, plugin: object) -> None:
        names = registered(plugin)
        assert driver.name in names[self.kind], (
            f"{getattr(plugin, '__name__', plugin)} registers {names}, not the {self.kind} driver "
            f"{driver.name!r}: implement one_register_{self.kind}_drivers (a hook that raised is "
            f"logged above) or override the `plugin` fixture")


def _deploy(driver: Driver, vm: VmView, host: HostView) -> VmView:
    deploy_id = _perform(driver, "deploy", vm, host)
    assert isinstance(deploy_id, str) and deploy_id, \
        f"deploy returned {deploy_id!r}, not a non-empty DEPLOY_ID"
    return replace(vm, deploy_id=deploy_id, host=host.name)


def hotplugged_disk(vm: VmView, make_file: bool = False) -> dict[str, str]:
    """A raw 1 MiB disk for `vm`; with `make_file`, made at disk.<DISK_ID> in its
    directory, as the transfer driver leaves a disk before the VMM attaches it."""
    if make_file:
        path = Path(vm.system_dir) / "disk.2"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            out.truncate(2**20)
    return {"DISK_ID": "2", "TYPE": "FILE", "TARGET": "sdb", "BUS": "usb", "DRIVER": "raw",
            "SIZE": "1"}


def hotplugged_nic(vm: VmView) -> dict[str, str]:
    """A second NIC for `vm`, on no bridge (a tap the hypervisor makes). Both devices
    are USB ones: a guest with no OS to release a PCI device still lets them go."""
    return {"NIC_ID": "1", "MAC": "02:00:c0:00:02:0b", "IP": "192.0.2.11",
            "TARGET": f"one-{vm.id}-1", "MODEL": "usb-net"}


def _vmm_arguments(action: str, vm: VmView, host: HostView) -> tuple[Any, ...]:
    if action in ("save", "restore"):
        return (vm, host, vm.checkpoint)
    if action in ("attach_disk", "detach_disk"):
        return (vm, host, hotplugged_disk(vm))
    if action in ("attach_nic", "detach_nic"):
        return (vm, host, hotplugged_nic(vm))
    if action.startswith("snapshot_"):
        return (vm, host, 0, "conformance") if action == "snapshot_create" else (vm, host, "s0")
    if action.startswith("disk_"):
        return (vm, host, 0, 64 if action == "disk_resize" else 0)
    return (vm, host, host) if action == "migrate" else (vm, host)


class VMMConformance(_Conformance):
    """The `VMMDriver` contract, run against a VM deployed for each test."""

    kind, base, required = "vmm", VMMDriver, ("deploy", "shutdown", "cancel")

    @pytest.fixture
    def running(self, driver: VMMDriver, vm: VmView, host: HostView) -> Iterator[VmView]:
        """A deployed VM, destroyed afterwards whatever the test did (cancel may repeat)."""
        deployed = _deploy(driver, vm, host)
        yield deployed
        driver.cancel(deployed, host)

    def _state(self, driver: VMMDriver, vm: VmView, host: HostView) -> PollState:
        """The polled state (the checks calling it apply only to drivers that poll)."""
        return _check_vm_poll(_perform(driver, "poll", vm, host), f"poll of {vm.deploy_id}").state

    def test_deploy_returns_deploy_id(self, driver: VMMDriver, vm: VmView,
                                      host: HostView) -> None:
        driver.cancel(_deploy(driver, vm, host), host)

    @_applies_when(_can("poll"))
    def test_poll_after_deploy_is_running(self, driver: VMMDriver, running: VmView,
                                          host: HostView) -> None:
        assert self._state(driver, running, host) is PollState.RUNNING

    @_applies_when(_can("poll"))
    def test_shutdown_then_gone(self, driver: VMMDriver, running: VmView, host: HostView) -> None:
        _perform(driver, "shutdown", running, host)
        assert self._state(driver, running, host) is PollState.GONE

    @pytest.mark.parametrize("action", ["shutdown", "cancel"])
    @_applies_when(_can("poll"))
    def test_stopping_twice_is_success(self, driver: VMMDriver, running: VmView,
                                       host: HostView, action: str) -> None:
        _perform(driver, action, running, host)
        _perform(driver, action, running, host)
        assert self._state(driver, running, host) is PollState.GONE

    @_applies_when(_can("poll"))
    def test_deploy_twice_keeps_one_guest(self, driver: VMMDriver, running: VmView,
                                          host: HostView) -> None:
        again = _perform(driver, "deploy", running, host)
        assert again == running.deploy_id, \
            f"deploy of a running guest returned {again!r}, not its id {running.deploy_id!r}"
        assert self._state(driver, running, host) is PollState.RUNNING

    @_applies_when(_both(_can("poll"), _can_any("reboot", "reset")))
    def test_reboot_and_reset_keep_running(self, driver: VMMDriver, running: VmView,
                                           host: HostView) -> None:
        actions = [action for action in ("reboot", "reset") if driver.supports(action)]
        assert actions, "the check applies only to a driver that reboots or resets"
        for action in actions:
            _perform(driver, action, running, host)
            assert self._state(driver, running, host) is PollState.RUNNING, f"after {action}"

    @_applies_when(_lacks_any(*VMM_ACTIONS))
    def test_unsupported_actions_raise_action_not_supported(
            self, driver: VMMDriver, vm: VmView, host: HostView) -> None:
        unsupported = [action for action in VMM_ACTIONS if not driver.supports(action)]
        assert unsupported, "the check applies only to a driver that lacks an action"
        wrong = {}
        for action in unsupported:
            try:
                result = getattr(driver, action)(*_vmm_arguments(action, vm, host))
                wrong[action] = f"returned {result!r}"
            except ActionNotSupported:
                pass
            except Exception as exc:  # noqa: BLE001 - any other exception is the finding
                wrong[action] = f"raised {exc!r}"
        assert not wrong, f"unsupported actions must raise ActionNotSupported: {wrong}"

    def test_save_and_restore_come_together(self, driver: VMMDriver) -> None:
        assert driver.supports("save") == driver.supports("restore"), \
            "a VM the driver saves must be restorable, and only a saved VM can be restored"

    @_applies_when(_can("poll", "save", "restore"))
    def test_save_restore_cycle(self, driver: VMMDriver, running: VmView, host: HostView) -> None:
        for _ in range(2):         # each twice: the second finds its work done
            _perform(driver, "save", running, host, running.checkpoint)
        assert self._state(driver, running, host) is PollState.GONE
        restored_ids = [_perform(driver, "restore", running, host, running.checkpoint)
                        for _ in range(2)]
        deploy_id = restored_ids[0]
        assert isinstance(deploy_id, str) and deploy_id, f"restore returned {deploy_id!r}"
        assert restored_ids[1] == deploy_id, f"restore twice returned {restored_ids}"
        restored = replace(running, deploy_id=deploy_id)
        try:
            assert self._state(driver, restored, host) is PollState.RUNNING
        finally:
            driver.cancel(restored, host)

    @_applies_when(_can("poll", "migrate"))
    def test_migrate(self, driver: VMMDriver, running: VmView, host: HostView,
                     request: pytest.FixtureRequest) -> None:
        try:
            target: HostView = request.getfixturevalue("target_host")
        except pytest.FixtureLookupError:
            message = "the driver migrates: define a `target_host` fixture to test migration"
            if self.driver_class is None:
                pytest.skip(message)
            pytest.fail(message)
        for _ in range(2):         # the second finds the guest already on the target
            _perform(driver, "migrate", running, host, target)
        moved = replace(running, host=target.name, previous_host=host.name)
        try:
            assert self._state(driver, moved, target) is PollState.RUNNING, "on the target"
            assert self._state(driver, running, host) is PollState.GONE, "on the source"
        finally:
            driver.cancel(moved, target)


    def test_hotplug_comes_in_pairs(self, driver: VMMDriver) -> None:
        for device in ("disk", "nic"):
            assert driver.supports(f"attach_{device}") == driver.supports(f"detach_{device}"), \
                f"a {device} the driver attaches must be detachable, and only such one"

    @_applies_when(_can("poll", "attach_disk"))
    def test_disk_hotplug_keeps_running(self, driver: VMMDriver, running: VmView,
                                        host: HostView) -> None:
        self._plug_twice(driver, running, host, "disk", hotplugged_disk(running, make_file=True))

    @_applies_when(_can("poll", "attach_nic"))
    def test_nic_hotplug_keeps_running(self, driver: VMMDriver, running: VmView,
                                       host: HostView) -> None:
        self._plug_twice(driver, running, host, "nic", hotplugged_nic(running))

    def _plug_twice(self, driver: VMMDriver, running: VmView, host: HostView, device: str,
                    vector: Mapping[str, str]) -> None:
        """Attach and detach, each twice (the second finds its work done), on a running guest."""
        for action in (f"attach_{device}", f"detach_{device}"):
            for _ in range(2):
                _perform(driver, action, running, host, vector)
            assert self._state(driver, running, host) is PollState.RUNNING, f"after {action}"
    # -- changes in place: each twice, the second finds its work done ------------------------
    def _twice(self, driver: VMMDriver, action: str, *args: Any) -> list[Any]:
        return [_perform(driver, action, *args) for _ in range(2)]

    @_applies_when(_can("poll", "snapshot_create", "snapshot_revert", "snapshot_delete"))
    def test_system_snapshot_cycle(self, driver: VMMDriver, running: VmView,
                                   host: HostView) -> None:
        ids = self._twice(driver, "snapshot_create", running, host, 0, "conformance")
        assert isinstance(ids[0], str) and ids[0], f"snapshot_create returned {ids[0]!r}"
        assert ids[1] == ids[0], f"snapshot_create twice returned {ids}"
        self._twice(driver, "snapshot_revert", running, host, ids[0])
        assert self._state(driver, running, host) is PollState.RUNNING, "after the revert"
        self._twice(driver, "snapshot_delete", running, host, ids[0])
        assert self._state(driver, running, host) is PollState.RUNNING, "after the delete"

    @_applies_when(_can("poll", "disk_snapshot_create", "disk_snapshot_delete"))
    def test_disk_snapshots_of_a_running_guest(self, driver: VMMDriver, running: VmView,
                                               host: HostView) -> None:
        self._twice(driver, "disk_snapshot_create", running, host, 0, 0)
        self._twice(driver, "disk_snapshot_delete", running, host, 0, 0)
        assert self._state(driver, running, host) is PollState.RUNNING

    @_applies_when(_can("disk_snapshot_create", "disk_snapshot_revert", "disk_snapshot_delete"))
    def test_disk_snapshot_revert_powered_off(self, driver: VMMDriver, running: VmView,
                                              host: HostView) -> None:
        driver.cancel(running, host)    # powered off: the guest is gone, its disks stay
        off = replace(running, state=int(VmState.POWEROFF), lcm_state=int(LcmState.LCM_INIT))
        for action in ("disk_snapshot_create", "disk_snapshot_revert", "disk_snapshot_delete"):
            self._twice(driver, action, off, host, 0, 1)

    @_applies_when(_can("poll", "disk_resize"))
    def test_disk_resize(self, driver: VMMDriver, running: VmView, host: HostView) -> None:
        size = int(running.template.vectors("DISK")[0].get("SIZE", "1")) * 2
        self._twice(driver, "disk_resize", running, host, 0, size)
        assert self._state(driver, running, host) is PollState.RUNNING

    @_applies_when(_can("poll", "resize"))
    def test_live_resize(self, driver: VMMDriver, vm: VmView, host: HostView) -> None:
        """A guest booted with room (VCPU_MAX, MEMORY_MAX) takes more vCPUs and memory."""
        memory = int(vm.template.get("MEMORY") or 128)
        roomy = _deploy(driver, with_template(vm, VCPU_MAX="2", MEMORY_MAX=str(memory * 2)), host)
        try:
            self._twice(driver, "resize", with_template(roomy, VCPU="2",
                                                        MEMORY=str(memory * 2)), host)
            assert self._state(driver, roomy, host) is PollState.RUNNING
        finally:
            driver.cancel(roomy, host)

    @_applies_when(_can("poll", "update_conf"))
    def test_update_conf_keeps_running(self, driver: VMMDriver, running: VmView,
                                       host: HostView) -> None:
        self._twice(driver, "update_conf", running, host)
        assert self._state(driver, running, host) is PollState.RUNNING


def with_template(vm: VmView, **attrs: str) -> VmView:
    """The VM with these single attributes of its TEMPLATE replaced (or added)."""
    kept = [(name, value) for name, value in vm.template.attrs if name not in attrs]
    return replace(vm, template=TemplateView.of(kept + list(attrs.items())))


class IMConformance(_Conformance):
    """The `IMDriver` contract: a probe oned can store and schedule with."""

    kind, base, required = "im", IMDriver, ("monitor",)

    def _probe(self, driver: IMDriver, host: HostView) -> HostProbe:
        probe = _perform(driver, "monitor", host)
        assert isinstance(probe, HostProbe), f"monitor returned {probe!r}, not a HostProbe"
        return probe

    def test_monitor_reports_capacity(self, driver: IMDriver, host: HostView) -> None:
        values = self._probe(driver, host).values
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()), \
            f"probe values must be str -> str: {values!r}"
        assert values.get("HYPERVISOR"), f"no HYPERVISOR in {values!r}"
        numbers = {}
        for key in NUMERIC_PROBE_KEYS:
            assert key in values, f"no {key} in {values!r}"
            try:
                numbers[key] = float(values[key])
            except ValueError:
                pytest.fail(f"{key}={values[key]!r} is not a number")
            assert numbers[key] >= 0, f"{key}={values[key]!r} is negative"
        assert numbers["FREECPU"] <= numbers["TOTALCPU"], "more CPU free than there is"
        assert numbers["FREEMEMORY"] <= numbers["TOTALMEMORY"], "more memory free than there is"

    def _vms(self, driver: IMDriver, host: HostView) -> Mapping[str, VmPoll] | None:
        vms = self._probe(driver, host).vms
        if vms is None:
            return None
        assert isinstance(vms, Mapping), f"probe VMs {vms!r}: neither None nor a mapping"
        for deploy_id, found in vms.items():
            assert isinstance(deploy_id, str) and deploy_id, f"VM key {deploy_id!r}"
            _check_vm_poll(found, f"VM {deploy_id} in the probe")
        return vms

    def test_monitor_reports_vms_well_typed(self, driver: IMDriver, host: HostView) -> None:
        self._vms(driver, host)

    def test_monitor_reports_the_guest(self, driver: IMDriver, host: HostView,
                                       guest: str) -> None:
        """Collected when the class defines `guest`: a VM it runs on `host`, by deploy id."""
        vms = self._vms(driver, host)
        assert vms is not None, f"the probe does not report VMs, yet {guest} runs on the host"
        assert guest in vms, f"the probe reports {sorted(vms)}, not the guest {guest}"
        assert vms[guest].state is PollState.RUNNING, f"the guest {guest}: {vms[guest]!r}"


class TMConformance(_Conformance):
    """The `TMDriver` contract: plans run whole and in order."""

    kind, base, required = "tm", TMDriver, ("execute",)

    @pytest.fixture
    def plan(self, workdir: Path, host: HostView, vm: VmView) -> list[TransferStep]:
        """Steps that only succeed in order: the clone must exist before it is deleted."""
        image = workdir / "image.img"
        image.write_bytes(bytes(1024 * 1024))
        disk = Location(f"{vm.system_dir}/disk.0", host.name)
        return [
            TransferStep("CLONE", dst=disk, src=Location(str(image))),
            TransferStep("MKIMAGE", dst=Location(f"{vm.system_dir}/disk.1", host.name),
                         size_mb=1, fstype="raw"),
            TransferStep("DELETE", dst=disk),
        ]

    def test_empty_plan(self, driver: TMDriver, vm: VmView) -> None:
        _perform(driver, "execute", vm, [])

    def test_plan_in_order(self, driver: TMDriver, vm: VmView, plan: list[TransferStep]) -> None:
        _perform(driver, "execute", vm, plan)

    def test_each_step_runs_again_after_it_finished(self, driver: TMDriver, vm: VmView,
                                                    plan: list[TransferStep]) -> None:
        """CLONE and MKIMAGE onto their own result, MV with its source gone, DELETE of nothing."""
        clone, mkimage, delete = plan
        moved = TransferStep("MV", dst=replace(mkimage.dst, path=f"{vm.system_dir}/disk.2"),
                             src=mkimage.dst)
        for step in (clone, mkimage, moved, delete):
            _perform(driver, "execute", vm, [step])
            _perform(driver, "execute", vm, [step])


class VNMConformance(_Conformance):
    """The `VNMDriver` contract around a VM's life on a host."""

    kind, base, required = "vnm", VNMDriver, ("pre", "post", "clean")

    def test_pre_post_clean_in_order(self, driver: VNMDriver, vm: VmView,
                                     host: HostView) -> None:
        for action in ("pre", "post", "clean"):
            _perform(driver, action, vm, host)

    def test_clean_is_idempotent(self, driver: VNMDriver, vm: VmView, host: HostView) -> None:
        _perform(driver, "pre", vm, host)
        _perform(driver, "clean", vm, host)
        _perform(driver, "clean", vm, host)

    def test_each_action_runs_again_after_it_finished(self, driver: VNMDriver, vm: VmView,
                                                      host: HostView) -> None:
        for action in ("pre", "post", "clean"):
            _perform(driver, action, vm, host)
            _perform(driver, action, vm, host)
