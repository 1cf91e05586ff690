"""The KVM information driver: one libvirt round of calls per host per cycle.

Host facts from nodeinfo, free memory and CPU times; the VMs (domains named
`one-<id>`) and their usage from the bulk domain statistics. CPU use is the
change of CPU time since the previous probe, so the first probe reports none.
"""
from __future__ import annotations

import time
from typing import Mapping

import libvirt

from one.drivers.rates import CpuRates
from one.plugins import HostProbe, HostView, IMDriver, PollState, VmPoll
from one_vmm_kvm.connections import Connections
from one_vmm_kvm.vmm import STATES

_STATS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
          | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_INTERFACE)


class KvmIM(IMDriver):
    name = "kvm"

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.connections = Connections(self.config)
        self.rates = CpuRates()

    def _rate(self, key: str, nanoseconds: float, now: float) -> float:
        return self.rates.percent(key, nanoseconds / 1e9, now)

    def monitor(self, host: HostView) -> HostProbe:
        uri = self.connections.uri(host)
        return self.connections.run(host, lambda conn: self._probe(conn, uri))

    def _probe(self, conn: libvirt.virConnect, uri: str) -> HostProbe:
        model, memory_mb, cpus, mhz = conn.getInfo()[:4]
        total_cpu, total_kib = cpus * 100, memory_mb * 1024
        free_kib = conn.getFreeMemory() // 1024
        used_cpu = self._host_cpu(conn, uri, cpus)
        values = {
            "HYPERVISOR": "kvm", "HOSTNAME": conn.getHostname(), "ARCH": model,
            "CPUSPEED": str(mhz), "TOTALCPU": str(total_cpu), "USEDCPU": str(int(used_cpu)),
            "FREECPU": str(max(0, total_cpu - int(used_cpu))), "TOTALMEMORY": str(total_kib),
            "FREEMEMORY": str(free_kib), "USEDMEMORY": str(max(0, total_kib - free_kib)),
            "HV_VERSION": _version(conn.getVersion()),
        }
        return HostProbe(values, self._domains(conn, uri))

    def _host_cpu(self, conn: libvirt.virConnect, uri: str, cpus: int) -> float:
        try:
            stats = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
        except libvirt.libvirtError:
            return 0.0  # drivers without node CPU statistics (test://)
        busy = sum(v for k, v in stats.items() if k != "idle")
        return min(cpus * 100.0, self._rate(f"{uri}#host", busy, time.time()))

    def _domains(self, conn: libvirt.virConnect, uri: str) -> dict[str, VmPoll]:
        now = time.time()
        try:
            stats = conn.getAllDomainStats(_STATS, 0)
        except libvirt.libvirtError:   # drivers without bulk statistics
            stats = [(d, {"state.state": d.info()[0], "balloon.current": d.info()[2],
                          "cpu.time": d.info()[4]}) for d in conn.listAllDomains()]
        polls = {}
        for domain, values in stats:
            name = domain.name()
            if not name.startswith("one-"):
                continue
            polls[name] = VmPoll(
                STATES.get(values.get("state.state", 0), PollState.UNKNOWN),
                cpu=round(self._rate(f"{uri}#{name}", values.get("cpu.time", 0), now), 2),
                memory=int(values.get("balloon.current", 0)),
                netrx=sum(v for k, v in values.items() if k.endswith(".rx.bytes")),
                nettx=sum(v for k, v in values.items() if k.endswith(".tx.bytes")))
        return polls


def _version(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"
