"""The EC2 information driver: an account's size, what it runs, in one call.

TOTALCPU/TOTALMEMORY come from CAPACITY and the instance type table; used is
what the instances tagged with this host take (any state but gone: a stopped
instance is a powered-off VM that keeps its place). The host reports
`PUBLIC_CLOUD = YES` so the scheduler only sends it VMs that ask for EC2 and
the core runs no transfer or network driver for it. EC2's own error (bad
credentials, endpoint down) fails the probe, and the host goes to ERROR with
it until EC2 answers again.
"""
from __future__ import annotations

from typing import Mapping

from one.plugins import HostProbe, HostView, IMDriver
from one_vmm_ec2 import instances
from one_vmm_ec2.account import Clients
from one_vmm_ec2.instance_types import capacity, instance_types, totals


class Ec2IM(IMDriver):
    """Settings: TYPES (extra instance types, see `instance_types`), RETRIES."""

    name = "ec2"

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.clients = Clients(self.config)
        self.types = instance_types(self.config)

    def monitor(self, host: HostView) -> HostProbe:
        allowed = capacity(host.template.vector("CAPACITY"), self.types)
        found = instances.of_host(self.clients.get(host), host)
        held: dict[str, int] = {}
        for instance in found:
            if instances.state(instance) in instances.LIVE:
                held[instance["InstanceType"]] = held.get(instance["InstanceType"], 0) + 1
        total_cpu, total_memory = totals(allowed, self.types)
        used_cpu, used_memory = totals(held, self.types)
        values = {
            "HYPERVISOR": "ec2", "PUBLIC_CLOUD": "YES", "HOSTNAME": host.name,
            "TOTALCPU": str(total_cpu), "TOTALMEMORY": str(total_memory),
            "USEDCPU": str(used_cpu), "USEDMEMORY": str(used_memory),
            "FREECPU": str(max(0, total_cpu - used_cpu)),
            "FREEMEMORY": str(max(0, total_memory - used_memory)),
            "RUNNING_INSTANCES": " ".join(f"{name}={n}" for name, n in sorted(held.items())),
        }
        self.log.debug("monitor: %s runs %d instances", host.name, sum(held.values()))
        return HostProbe(values, {str(i["InstanceId"]): instances.poll_of(i, self.types)
                                  for i in found})
