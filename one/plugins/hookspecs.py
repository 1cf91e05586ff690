"""The hooks a `one` plugin may implement (entry-point group `one.plugins`).

Few hooks, each called at one moment: drivers are registered once at start-up;
the notifications are called after the change they report is committed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from one.plugins.drivers import IMDriver, TMDriver, VMMDriver, VNMDriver
    from one.plugins.registry import DriverRegistry
    from one.plugins.views import HostView, VmView

PROJECT = "one"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def one_register_vmm_drivers(registry: "DriverRegistry[VMMDriver]") -> None:
    """Add `VMMDriver` subclasses with `registry.add(cls)`.

    Called once when oned starts. An exception is logged and that plugin's
    drivers are missing; oned still starts.
    """


@hookspec
def one_register_im_drivers(registry: "DriverRegistry[IMDriver]") -> None:
    """Add `IMDriver` subclasses; as `one_register_vmm_drivers`."""


@hookspec
def one_register_tm_drivers(registry: "DriverRegistry[TMDriver]") -> None:
    """Add `TMDriver` subclasses; as `one_register_vmm_drivers`."""


@hookspec
def one_register_vnm_drivers(registry: "DriverRegistry[VNMDriver]") -> None:
    """Add `VNMDriver` subclasses; as `one_register_vmm_drivers`."""


@hookspec
def one_vm_state_changed(vm: "VmView", previous_state: int, previous_lcm_state: int) -> None:
    """A VM's state changed and the change is committed.

    The return value is ignored. An exception is logged and never stops the
    other plugins or the life cycle; the hook should return quickly.
    """


@hookspec
def one_host_state_changed(host: "HostView", previous_state: int) -> None:
    """A host's state changed (monitored, error, disabled...); as `one_vm_state_changed`."""
