"""Host shares checked against the VMs actually placed, and repaired.

The life cycle books and frees host capacity as VMs move; this check derives
every host's CPU_USAGE, MEM_USAGE, RUNNING_VMS and VM list from the history
records by which VMs hold it (`records.holding`), so that drift left by a bug,
an older version or a crash never outlives a restart. It first closes the
records that VMs off their hosts (DONE above all) left open. Each repair is
logged and returned; oned runs it at start and on `one.hostpool.sync`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from one.core.lifecycle import records
from one.pool.models import Host, Vm
from one.pool.pools import Pools
from one.states import VmState

log = logging.getLogger(__name__)


@dataclass
class Booked:
    """What the VMs placed on one host add up to."""

    cpu: int = 0
    memory: int = 0
    vms: list[int] = field(default_factory=list)

    def add(self, vm: Vm) -> None:
        cpu, memory = records.demand(vm)
        self.cpu, self.memory = self.cpu + cpu, self.memory + memory
        self.vms.append(vm.oid)


def sync(pools: Pools) -> list[str]:
    """Repair every drift in one write; returns (and logs) one line per repair."""
    with pools.store.write():
        repairs = _close_stray_records(pools)
        repairs += _repair_hosts(pools, _placed(pools))
    for line in repairs:
        log.warning("capacity: %s", line)
    log.debug("capacity: host shares checked, %d repaired", len(repairs))
    return repairs


def _stray(vm: Vm) -> list[dict[str, Any]]:
    """Open records by which the VM holds nothing: it left that host."""
    held = records.holding(vm)
    return [r for r in vm.history if not r["ETIME"] and not any(r is h for h in held)]


def _close_stray_records(pools: Pools) -> list[str]:
    repairs = []
    # DONE VMs pile up for ever: read only histories with an open record. JSON numbers
    # have no leading zero, so in the compact JSON stored this matches ETIME 0 alone
    # (a raw pattern: the field would encode it as JSON).
    with_open = Vm.history ** pw.Value('%"ETIME":0%', converter=str)
    for found in pools.vms.each(with_open, Vm.oid, Vm.state, Vm.lcm_state, Vm.history):
        if not _stray(found):
            continue
        vm = pools.vms.get(found.oid)
        for record in _stray(vm):
            records.close_record(record)
            repairs.append(f"VM {vm.oid} ({VmState(vm.state).name}): closed its history "
                           f"record {record['SEQ']} left open on host {record['HID']}")
        pools.vms.save(vm)
    return repairs


def _placed(pools: Pools) -> dict[int, Booked]:
    """Host id -> what the VMs holding it book."""
    placed: dict[int, Booked] = {}
    on_host = Vm.state.in_(records.ON_HOST)
    for vm in pools.vms.each(on_host, Vm.oid, Vm.state, Vm.lcm_state, Vm.history, Vm.template):
        for record in records.holding(vm):
            placed.setdefault(record["HID"], Booked()).add(vm)
    return placed


def _repair_hosts(pools: Pools, placed: dict[int, Booked]) -> list[str]:
    repairs = []
    for host in pools.hosts.each(Host.oid >= 0):
        changes = _rebook(host, placed.get(host.oid, Booked()))
        if changes:
            pools.hosts.save(host)
            repairs.append(f"host {host.oid} ({host.name}): {', '.join(changes)}")
    return repairs


def _rebook(host: Host, booked: Booked) -> list[str]:
    """Set the host's bookings to what is placed on it; says what changed."""
    share, changes = dict(host.share), []
    for key, value in (("CPU_USAGE", booked.cpu), ("MEM_USAGE", booked.memory),
                       ("RUNNING_VMS", len(booked.vms))):
        if share.get(key, 0) != value:
            changes.append(f"{key} {share.get(key, 0)} -> {value}")
            share[key] = value
    vms = sorted(booked.vms)
    if sorted(host.vms) != vms:
        gone, missing = sorted(set(host.vms) - set(vms)), sorted(set(vms) - set(host.vms))
        changes.append(f"VMS {vms}" + (f", removed {gone}" if gone else "")
                       + (f", added {missing}" if missing else ""))
    host.share, host.vms = share, vms
    return changes
