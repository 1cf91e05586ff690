"""oned as the console reads it: rows of the lists, the dashboard's numbers, logins.

Every call goes with the signed-in user's own session, so oned decides what each
person sees. The VM list pages through `one.vmpool.info` (offset, -size) with the
lists' shared mechanism (one.web.listing).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from one.cli.client import Client
from one.states import HostState, LcmState, VmState
from one.web.charts import Sample
from one.web.listing import Source

SORTS = ("id", "name", "owner", "state")


def state_label(state: int, lcm_state: int) -> str:
    """The word people know: RUNNING, PENDING, POWEROFF... (the LCM state while ACTIVE)."""
    try:
        if state == VmState.ACTIVE:
            return LcmState(lcm_state).name
        return VmState(state).name
    except ValueError:
        return "UNKNOWN"


@dataclass(frozen=True)
class VmRow:
    id: int
    name: str
    owner: str
    group: str
    state: str
    cpu: str
    memory: str
    host: str

    def words(self) -> tuple[str, ...]:
        return self.name, self.owner, self.group, self.state, self.host, str(self.id)

    def key(self, column: str) -> tuple[object, int]:
        value = {"name": self.name, "owner": self.owner, "state": self.state}.get(column, self.id)
        return value, self.id


def vm_row(vm: etree._Element) -> VmRow:
    """One pass over the VM's children: a search builds 10,000 of these."""
    top = {child.tag: child.text or "" for child in vm}
    template = vm.find("TEMPLATE")
    cpu, memory = ("", "") if template is None else (template.findtext("CPU", ""),
                                                      template.findtext("MEMORY", ""))
    state = state_label(int(top.get("STATE") or 0), int(top.get("LCM_STATE") or 0))
    return VmRow(int(top.get("ID") or 0), top.get("NAME", ""), top.get("UNAME", ""),
                 top.get("GNAME", ""), state, cpu, memory, _last_host(vm))


def _last_host(vm: etree._Element) -> str:
    """The last history record's host (a plain child walk: `[last()]` paths cost 10x)."""
    records = vm.find("HISTORY_RECORDS")
    return records[-1].findtext("HOSTNAME", "") if records is not None and len(records) else ""


def vm_source(state: int = -1) -> Source[VmRow]:
    """The VMs the caller may see in `state` (-1: all but DONE), by oned's state filter."""
    return Source("one.vmpool.info", "VM", True, vm_row, (state,))


def vm_states(client: Client, ids: list[int]) -> dict[int, str]:
    """The states of the VMs a page shows, for its live refresh."""
    if not ids:
        return {}
    doc = client.document("one.vmpool.infoset", ",".join(map(str, ids)), False)
    return {row.id: row.state for row in map(vm_row, doc.iterfind("VM"))}


@dataclass
class Capacity:
    used: float = 0.0
    total: float = 0.0


@dataclass
class Dashboard:
    hosts: Counter[str] = field(default_factory=Counter)
    vms: Counter[str] = field(default_factory=Counter)
    cpu: Capacity = field(default_factory=Capacity)        # in CPUs (oned's percent / 100)
    memory: Capacity = field(default_factory=Capacity)     # in MB (oned's KB / 1024)


def dashboard(client: Client, hosts: etree._Element) -> Dashboard:
    """Counts by state and the cloud's allocated vs total capacity (`hosts`: the host pool)."""
    board = Dashboard()
    for row in vm_source().scan(client):
        board.vms[row.state] += 1
    for host in hosts.iterfind("HOST"):
        board.hosts[_host_state(host)] += 1
        cpu, memory = host_capacity(host)
        board.cpu.used += cpu.used
        board.cpu.total += cpu.total
        board.memory.used += memory.used
        board.memory.total += memory.total
    return board


def host_capacity(host: etree._Element) -> tuple[Capacity, Capacity]:
    """A host's allocated vs total CPU (in CPUs) and memory (in MB)."""
    return (Capacity(_number(host, "HOST_SHARE/CPU_USAGE") / 100,
                     _number(host, "HOST_SHARE/MAX_CPU") / 100),
            Capacity(_number(host, "HOST_SHARE/MEM_USAGE") / 1024,
                     _number(host, "HOST_SHARE/MAX_MEM") / 1024))


# where a sample of each kind holds CPU (percent) and memory (KB), and its method
MONITORED = {"vm": ("one.vm.monitoring", "CPU", "MEMORY"),
             "host": ("one.host.monitoring", "CAPACITY/USED_CPU", "CAPACITY/USED_MEMORY")}


def usage(client: Client, kind: str, oid: int) -> tuple[list[Sample], list[Sample]]:
    """CPU (percent) and memory (MB) over time, oldest first, from oned's kept samples."""
    method, cpu_path, memory_path = MONITORED[kind]
    cpu: list[Sample] = []
    memory: list[Sample] = []
    for sample in client.document(method, oid).iterfind("MONITORING"):
        stamp = int(_number(sample, "TIMESTAMP"))
        cpu.append((stamp, _number(sample, cpu_path)))
        memory.append((stamp, _number(sample, memory_path) / 1024))
    return cpu, memory


def _host_state(host: etree._Element) -> str:
    try:
        return HostState(int(host.findtext("STATE", "0"))).name
    except ValueError:
        return "UNKNOWN"


def _number(element: etree._Element, path: str) -> float:
    try:
        return float(element.findtext(path, "0") or 0)
    except ValueError:
        return 0.0
