"""Where a VM may run: the clusters of its datastores and networks.

As OpenNebula's `VirtualMachine::automatic_requirements`: at allocation every
DISK from an image and every NIC from a network gets CLUSTER_ID, the clusters
of its datastore or network (comma-separated), and the VM may only run on a
host of a cluster all of them share. The TEMPLATE keeps that as 7.4 writes it,
`AUTOMATIC_REQUIREMENTS = "(CLUSTER_ID = 0 | CLUSTER_ID = 100) & !(PIN_POLICY =
PINNED)"` (one has no CPU pinning, so its second half holds on every host);
the scheduler and `one.vm.migrate` read the per-device CLUSTER_IDs.
"""
from __future__ import annotations

from typing import Callable

from one.errors import ActionError, AllocateError
from one.pool.models import Datastore, Host, Vm, Vnet
from one.pool.pools import Pools
from one.pool.template import Template

NOT_PINNED = "!(PIN_POLICY = PINNED)"
# The devices whose resources belong to clusters, and what their messages call them.
_DEVICES = (("DISK", "DATASTORE_ID", "Datastore for DISK"), ("NIC", "NETWORK_ID", "Network for NIC"))


class IncompatibleClusters(AllocateError):
    """A VM's resources share no cluster, or one of them is in none."""


def set_requirements(pools: Pools, template: Template) -> None:
    """CLUSTER_ID on each DISK and NIC, and AUTOMATIC_REQUIREMENTS; raises
    IncompatibleClusters when no host could ever run the VM."""
    lookups: dict[str, Callable[[int], list[int] | None]] = {
        "DATASTORE_ID": lambda oid: _clusters(pools.datastores.find(oid)),
        "NETWORK_ID": lambda oid: _clusters(pools.vnets.find(oid))}
    for name, key, _ in _DEVICES:
        values = template.values(name)
        template.remove(name)
        for value in values:
            ref = value.get(key, "") if isinstance(value, dict) else ""
            found = lookups[key](int(ref)) if ref.isdigit() else None
            if isinstance(value, dict) and found is not None:
                value = {**value, "CLUSTER_ID": ",".join(map(str, found))}
            template.add(name, value)
    clusters = allowed_clusters(template)
    where = " | ".join(f"CLUSTER_ID = {c}" for c in sorted(clusters or ()))
    template.set("AUTOMATIC_REQUIREMENTS", f"({where}) & {NOT_PINNED}" if where else NOT_PINNED)


def _clusters(obj: Datastore | Vnet | None) -> list[int] | None:
    return None if obj is None else list(obj.clusters)


def allowed_clusters(template: Template) -> frozenset[int] | None:
    """The clusters every DISK and NIC with a CLUSTER_ID shares; None: any cluster."""
    allowed: set[int] | None = None
    for name, _, label in _DEVICES:
        for index, vector in enumerate(template.vectors(name)):
            if "CLUSTER_ID" not in vector:  # a device given by hand: no resource, no cluster
                continue
            ids = {int(c) for c in vector["CLUSTER_ID"].split(",") if c.strip().isdigit()}
            if not ids:
                raise IncompatibleClusters(f"Missing clusters. {label} {index} is not in any cluster")
            if allowed is not None and not allowed & ids:
                shared = ",".join(map(str, sorted(allowed)))
                raise IncompatibleClusters(
                    f"Incompatible clusters in {name}. {label} {index} is not in the same cluster "
                    f"as the one used by other VM elements (cluster {shared})")
            allowed = ids if allowed is None else allowed & ids
    return None if allowed is None else frozenset(allowed)


def check_host(vm: Vm, host: Host, verb: str) -> None:
    """An ACTION error when the host is outside the VM's clusters."""
    clusters = allowed_clusters(vm.template)
    if clusters is not None and host.cluster_id not in clusters:
        raise ActionError(
            f"Cannot {verb} VM [{vm.oid}] to host [{host.oid}]. Host is in cluster "
            f"[{host.cluster_id}], and VM requires to be placed on cluster "
            f"[{','.join(map(str, sorted(clusters)))}]")
