"""OpenNebula's `shared` transfer driver for one: `TM_MAD = [ NAME = "shared", ... ]`."""
from __future__ import annotations

from one.plugins import DriverRegistry, TMDriver, hookimpl
from one_tm_shared.driver import SharedTM

__all__ = ["SharedTM"]


@hookimpl
def one_register_tm_drivers(registry: DriverRegistry[TMDriver]) -> None:
    registry.add(SharedTM)
