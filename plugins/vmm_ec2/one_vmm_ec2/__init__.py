"""Hybrid cloud for one: `onehost create ec2-east --im ec2 --vm ec2`.

An EC2 account (or any server of the EC2 Query API) is a host; VMs the
scheduler bursts there run as EC2 instances. See README.md.
"""
from __future__ import annotations

from one.plugins import DriverRegistry, IMDriver, VMMDriver, hookimpl
from one_vmm_ec2.probe import Ec2IM
from one_vmm_ec2.vmm import Ec2VMM

__all__ = ["Ec2IM", "Ec2VMM"]


@hookimpl
def one_register_vmm_drivers(registry: DriverRegistry[VMMDriver]) -> None:
    registry.add(Ec2VMM)


@hookimpl
def one_register_im_drivers(registry: DriverRegistry[IMDriver]) -> None:
    registry.add(Ec2IM)
