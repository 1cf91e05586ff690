"""Quota usage checked against the resources that exist, and repaired.

Charges and releases keep the `_USED` counters exact as resources come and go;
this check derives them again from the VMs not DONE, the images and the address
reservations, so that a database from before quotas, or drift left by a bug,
never outlives a restart. Limits are kept. oned runs it at start, as it
repairs host shares (`capacity.sync`); each repair is logged and returned.
"""
from __future__ import annotations

import logging
from typing import Any

from one.core.quotas import (
    DEFAULT, Usage, image_owner_snapshots, image_usage, is_running, lease_usage, new_entry,
    unused, vm_usage,
)
from one.pool.models import Image, Quota, Vm, Vnet, rows
from one.pool.pools import Pools
from one.pool.quotas import DEFAULTS
from one.states import VmState

log = logging.getLogger(__name__)
Owner = tuple[str, int]


def _counted(pools: Pools) -> dict[Owner, dict[str, Any]]:
    """What every owner holds: usage data as the quota rows keep it."""
    found: dict[Owner, dict[str, Any]] = {}

    def add(uid: int, gid: int, usage: Usage) -> None:
        for key in (("user", uid), ("group", gid)):
            if key[1] <= 0:
                continue
            data = found.setdefault(key, {})
            for kind, entries in usage.items():
                for qid, amounts in entries.items():
                    entry = data.setdefault(kind, {}).setdefault(qid, {})
                    for metric, amount in amounts.items():
                        entry[f"{metric}_USED"] = entry.get(f"{metric}_USED", 0.0) + amount

    for vm in pools.vms.each(Vm.state != VmState.DONE):
        add(vm.uid, vm.gid, vm_usage(vm.template, running=is_running(vm.state, vm.lcm_state)))
        for uid, gid, usage in image_owner_snapshots(pools, vm):
            add(uid, gid, usage)
    for image in pools.images.each(Image.oid >= 0):
        add(image.uid, image.gid, image_usage(image))
    for vnet in pools.vnets.each(Vnet.parent_network_id != ""):
        for ar in vnet.ars:
            if "PARENT_FIRST" in ar.get("ATTRS", {}):
                add(vnet.uid, vnet.gid, lease_usage(int(vnet.parent_network_id), ar["SIZE"]))
    return found


def _repaired(data: dict[str, Any], counted: dict[str, Any]) -> dict[str, Any]:
    """The owner's limits with the usage counted, entries that hold nothing dropped."""
    fixed: dict[str, Any] = {}
    for kind in set(data) | set(counted):
        for qid in set(data.get(kind, {})) | set(counted.get(kind, {})):
            entry = {k: (v if not k.endswith("_USED") else 0.0)
                     for k, v in data.get(kind, {}).get(qid, new_entry(kind)).items()}
            for key, amount in counted.get(kind, {}).get(qid, {}).items():
                entry[key] = round(amount, 6)
            if not unused(entry, DEFAULT):
                fixed.setdefault(kind, {})[qid] = entry
    return fixed


def sync(pools: Pools) -> list[str]:
    """Rewrite the usage of every owner whose counters differ from what it holds."""
    repairs = []
    with pools.store.write():
        counted = _counted(pools)
        stored = {(owner, oid) for owner, oid in rows(
            Quota.select(Quota.owner, Quota.oid).where(Quota.oid != DEFAULTS))}
        for owner, oid in sorted(stored | set(counted)):
            data = pools.quotas.load(owner, oid)
            fixed = _repaired(data, counted.get((owner, oid), {}))
            if fixed != data:
                pools.quotas.save(owner, oid, fixed)
                repairs.append(f"{owner} [{oid}]: quota usage recounted")
    for repair in repairs:
        log.warning(repair)
    return repairs
