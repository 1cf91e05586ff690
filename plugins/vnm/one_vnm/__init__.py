"""OpenNebula's Linux-bridge network drivers for one (entry point `vnm`).

`bridge`, `ebtables`, `vxlan` and `802.1Q` run `ip` and `ebtables` on each
host through `one.drivers.remote`, the executor the transfer drivers use: over
SSH, or locally for the front-end's own host. See README.md.
"""
from __future__ import annotations

from one.plugins import DriverRegistry, VNMDriver, hookimpl
from one_vnm.drivers import (
    BridgedVNM, BridgeVNM, Dot1qVNM, EbtablesVNM, TaggedVNM, Uplink, VxlanVNM, filters,
)
from one_vnm.host import MARK, Change, Executor, HostNet, Link, Links
from one_vnm.nics import NetworkError, Nic, nics_for

__all__ = [
    "BridgeVNM", "BridgedVNM", "Change", "Dot1qVNM", "EbtablesVNM", "Executor", "HostNet", "Link",
    "Links", "MARK", "NetworkError", "Nic", "TaggedVNM", "Uplink", "VxlanVNM", "filters",
    "nics_for",
]


@hookimpl
def one_register_vnm_drivers(registry: DriverRegistry[VNMDriver]) -> None:
    for driver in (BridgeVNM, EbtablesVNM, VxlanVNM, Dot1qVNM):
        registry.add(driver)
