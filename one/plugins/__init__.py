"""The public plugin API of `one`: what a driver package imports.

A plugin is a module or object registered under the `one.plugins` entry-point
group that implements some of the hooks in `hookspecs` (prefixed `one_`).
"""
from one.errors import ActionNotSupported
from one.plugins.drivers import (
    Driver, HostProbe, IMDriver, Location, PollState, TMDriver, TransferStep, VMMDriver,
    VmPoll, VNMDriver,
)
from one.plugins.hookspecs import hookimpl
from one.plugins.manager import ENTRY_POINT_GROUP, PluginManager
from one.plugins.registry import DriverRegistry
from one.plugins.views import HostView, TemplateView, VmView

__all__ = [
    "ActionNotSupported", "Driver", "DriverRegistry", "ENTRY_POINT_GROUP", "HostProbe",
    "HostView", "IMDriver", "Location", "PluginManager", "PollState", "TMDriver",
    "TemplateView", "TransferStep", "VMMDriver", "VNMDriver", "VmPoll", "VmView", "hookimpl",
]
