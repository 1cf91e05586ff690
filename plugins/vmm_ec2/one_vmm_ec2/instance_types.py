"""Instance types and an account's CAPACITY: how an EC2 host gets a size.

An EC2 account has no CPUs of its own; what bounds it is how many instances
of each type it may run (OpenNebula 5's hybrid model). The host template says
`CAPACITY = [ M1_SMALL = "4", M1_LARGE = "2" ]`; the table below turns that
into the TOTALCPU (100 per vCPU) and TOTALMEMORY (KiB) the scheduler books
VMs against. The table is overridable in the driver settings, because Amazon
adds types faster than this file changes:
`IM_MAD = [ NAME = "ec2", TYPES = "m7g.large:2:8192 t4g.nano:2:512" ]`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class InstanceType:
    """What one instance of a type offers."""

    vcpus: int
    memory_mib: int

    @property
    def cpu(self) -> int:
        """In OpenNebula's unit: 100 per CPU."""
        return self.vcpus * 100

    @property
    def memory_kib(self) -> int:
        return self.memory_mib * 1024


# vCPUs and MiB, from Amazon's published instance type table.
DEFAULT_TYPES: Mapping[str, InstanceType] = {
    "t2.nano": InstanceType(1, 512), "t2.micro": InstanceType(1, 1024),
    "t2.small": InstanceType(1, 2048), "t2.medium": InstanceType(2, 4096),
    "t2.large": InstanceType(2, 8192), "t3.micro": InstanceType(2, 1024),
    "t3.small": InstanceType(2, 2048), "t3.medium": InstanceType(2, 4096),
    "m1.small": InstanceType(1, 1740), "m1.medium": InstanceType(1, 3840),
    "m1.large": InstanceType(2, 7680), "m1.xlarge": InstanceType(4, 15360),
    "m5.large": InstanceType(2, 8192), "m5.xlarge": InstanceType(4, 16384),
    "m5.2xlarge": InstanceType(8, 32768), "c5.large": InstanceType(2, 4096),
    "c5.xlarge": InstanceType(4, 8192), "r5.large": InstanceType(2, 16384),
}
DEFAULT_INSTANCE_TYPE = "m1.small"   # EC2's own default when a template names none


def type_name(key: str) -> str:
    """`M1_SMALL` (a template attribute name) or `m1.small` -> `m1.small`."""
    name = key.strip().lower()
    return name if "." in name else name.replace("_", ".", 1)


def instance_types(settings: Mapping[str, str]) -> dict[str, InstanceType]:
    """The default table with the driver settings' `TYPES` added or overriding."""
    table = dict(DEFAULT_TYPES)
    for entry in settings.get("TYPES", "").split():
        name, _, rest = entry.partition(":")
        vcpus, _, memory = rest.partition(":")
        if not (name and vcpus.isdigit() and memory.isdigit()):
            raise ValueError(f"ec2: TYPES entry {entry!r} in the driver settings is not "
                             f"name:vcpus:memory_mib")
        table[type_name(name)] = InstanceType(int(vcpus), int(memory))
    return table


def capacity(vector: Mapping[str, str] | None,
             table: Mapping[str, InstanceType]) -> dict[str, int]:
    """CAPACITY as {type: instances}; unknown types and bad counts are named."""
    if not vector:
        raise ValueError("ec2: the host template has no CAPACITY = [ M1_SMALL = \"4\", ... ]")
    counts = {}
    for key, value in vector.items():
        name = type_name(key)
        if name not in table:
            raise ValueError(f"ec2: CAPACITY names the unknown instance type {key} "
                             f"(add it to the driver's TYPES setting)")
        if not value.strip().isdigit():
            raise ValueError(f"ec2: CAPACITY {key} is {value!r}, not a number of instances")
        counts[name] = int(value)
    return counts


def totals(counts: Mapping[str, int], table: Mapping[str, InstanceType]) -> tuple[int, int]:
    """(CPU, memory KiB) of that many instances of each type; unknown types count as 0."""
    known = [(table[name], n) for name, n in counts.items() if name in table]
    return (sum(t.cpu * n for t, n in known), sum(t.memory_kib * n for t, n in known))
