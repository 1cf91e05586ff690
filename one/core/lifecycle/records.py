"""History records and host capacity: what a placement leaves in the books.

A VM placed on a host opens a HISTORY record (host, drivers, times) and books
CPU×100 and MEMORY×1024 KiB of the host's capacity, as oned does; leaving the
host closes the record with the action that ended it and frees the capacity.
So the open records of a VM say where it holds capacity (`holding`), which is
what the capacity check rebuilds the hosts' shares from.
"""
from __future__ import annotations

import time
from typing import Any

from one.core.lifecycle.phases import TWO_HOSTS
from one.pool.models import Host, Vm
from one.states import VmState

SYSTEM_DS = 0
# States in which a VM is on a host (ACTIVE covers its transitional and failure phases).
ON_HOST = frozenset({VmState.ACTIVE, VmState.POWEROFF, VmState.SUSPENDED})


def now() -> int:
    return int(time.time())


def current(vm: Vm) -> dict[str, Any] | None:
    return vm.history[-1] if vm.history else None


def previous(vm: Vm) -> dict[str, Any] | None:
    return vm.history[-2] if len(vm.history) > 1 else None


def holding(vm: Vm) -> list[dict[str, Any]]:
    """The records by which the VM holds host capacity: its open current record while it
    is on a host, and its source's too while it migrates (SAVE_MIGRATE, MIGRATE)."""
    record, source = current(vm), previous(vm)
    if vm.state not in ON_HOST or record is None or record["ETIME"]:
        return []
    if (vm.state, vm.lcm_state) in TWO_HOSTS and source is not None and not source["ETIME"]:
        return [source, record]
    return [record]


def open_record(vm: Vm, host: Host, tm_mad: str, action: int) -> dict[str, Any]:
    stamp = now()
    record = {
        "OID": vm.oid, "SEQ": len(vm.history), "HOSTNAME": host.name, "HID": host.oid,
        "CID": host.cluster_id, "STIME": stamp, "ETIME": 0, "VM_MAD": host.vm_mad,
        "TM_MAD": tm_mad, "DS_ID": SYSTEM_DS, "PLAN_ID": -1, "ACTION_ID": -1,
        "PSTIME": 0, "PETIME": 0, "RSTIME": 0, "RETIME": 0, "ESTIME": 0, "EETIME": 0,
        "ACTION": action, "UID": vm.uid, "GID": vm.gid, "REQUEST_ID": "-1",
    }
    vm.history = vm.history + [record]
    return record


def stamp(vm: Vm, key: str, only_if_unset: bool = True) -> None:
    record = current(vm)
    if record is not None and (not only_if_unset or not record.get(key)):
        record[key] = now()


def close_record(record: dict[str, Any], action: int | None = None) -> None:
    record["ETIME"] = record["ETIME"] or now()
    if action is not None:
        record["ACTION"] = action


def demand(vm: Vm) -> tuple[int, int]:
    """(CPU×100, MEMORY KiB) a VM books on its host."""
    try:
        cpu = int(round(float(vm.template.get("CPU") or 0) * 100))
        memory = int(vm.template.get("MEMORY") or 0) * 1024
    except ValueError:
        return 0, 0
    return cpu, memory


def fits(host: Host, vm: Vm) -> bool:
    """Whether the host's free share (MAX less USAGE) takes the VM's demand."""
    cpu, memory = demand(vm)
    share = host.share
    return (share.get("MAX_CPU", 0) - share.get("CPU_USAGE", 0) >= cpu
            and share.get("MAX_MEM", 0) - share.get("MEM_USAGE", 0) >= memory)


def book(host: Host, vm: Vm) -> None:
    cpu, memory = demand(vm)
    share = dict(host.share)
    share["CPU_USAGE"] = share.get("CPU_USAGE", 0) + cpu
    share["MEM_USAGE"] = share.get("MEM_USAGE", 0) + memory
    share["RUNNING_VMS"] = share.get("RUNNING_VMS", 0) + 1
    host.share = share
    host.vms = sorted(set(host.vms) | {vm.oid})


def release(host: Host, vm: Vm) -> None:
    if vm.oid not in host.vms:
        return
    cpu, memory = demand(vm)
    share = dict(host.share)
    share["CPU_USAGE"] = max(0, share.get("CPU_USAGE", 0) - cpu)
    share["MEM_USAGE"] = max(0, share.get("MEM_USAGE", 0) - memory)
    share["RUNNING_VMS"] = max(0, share.get("RUNNING_VMS", 0) - 1)
    host.share = share
    host.vms = [v for v in host.vms if v != vm.oid]


def copy_record(vm: Vm, action: int, running: bool) -> None:
    """oned's close_cp_history: the current record ends with `action` and a copy on
    the same host goes on from now. The host's booking is the copy's, untouched; a
    VM not `running` (POWEROFF) stays so in the copy (its RETIME set too)."""
    record = current(vm)
    if record is None or record["ETIME"]:
        return
    stamp_now = now()
    not_running = not running
    record["RETIME"] = record["RETIME"] or stamp_now
    record["ETIME"], record["ACTION"] = stamp_now, action
    copy = {**record, "SEQ": len(vm.history), "STIME": stamp_now, "ETIME": 0, "ACTION": 0,
            "PSTIME": 0, "PETIME": 0, "RSTIME": stamp_now, "RETIME": stamp_now if not_running else 0,
            "ESTIME": 0, "EETIME": 0}
    vm.history = vm.history + [copy]
