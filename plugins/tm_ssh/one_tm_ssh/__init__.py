"""OpenNebula's `ssh` transfer driver for one: `TM_MAD = [ NAME = "ssh", ... ]`."""
from __future__ import annotations

from one.plugins import DriverRegistry, TMDriver, hookimpl
from one_tm_ssh.driver import SshTM

__all__ = ["SshTM"]


@hookimpl
def one_register_tm_drivers(registry: DriverRegistry[TMDriver]) -> None:
    registry.add(SshTM)
