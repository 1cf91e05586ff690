"""The Xen information driver: `xl info` for capacity, `xl list` and `xl list -l` for VMs.

CPU use is the change of each domain's CPU time (the table's Time(s)) since
the previous probe; the host's is the sum over all domains, Domain-0 included.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from one.drivers.rates import CpuRates
from one.plugins import HostProbe, HostView, IMDriver, VmPoll
from one_vmm_xen import outputs
from one_vmm_xen.xl import Xl


class XenIM(IMDriver):
    name = "xen"

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.xl = Xl(self.config)
        self.rates = CpuRates()

    def monitor(self, host: HostView) -> HostProbe:
        values = outputs.capacity(outputs.info(self.xl.run(host.name, "info")))
        rows = outputs.domains(self.xl.run(host.name, "list"))
        configs = outputs.configs(self.xl.run(host.name, "list", "-l"))
        now = time.time()
        cpu = {name: self.rates.percent(f"{host.name}#{name}", row.cpu_seconds, now)
               for name, row in rows.items()}
        used = min(float(values["TOTALCPU"]), sum(cpu.values()))
        values.update(USEDCPU=str(int(used)), FREECPU=str(int(float(values["TOTALCPU"]) - used)))
        vms = {name: VmPoll(row.state, cpu=round(cpu[name], 2), memory=_memory_kib(row, configs),
                            extra=_extra(configs.get(name, {})))
               for name, row in rows.items() if name.startswith("one-")}
        return HostProbe(values, vms)


def _memory_kib(row: outputs.Domain, configs: Mapping[str, Mapping[str, Any]]) -> int:
    target = configs.get(row.name, {}).get("b_info", {}).get("target_memkb")
    return int(target) if isinstance(target, int) else row.memory_mb * 1024


def _extra(config: Mapping[str, Any]) -> dict[str, str]:
    uuid = config.get("c_info", {}).get("uuid")
    return {"XEN_UUID": str(uuid)} if uuid else {}
