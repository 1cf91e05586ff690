"""Clusters: groups of hosts with the datastores and networks they reach.

A host is in exactly one cluster; a datastore or a network may be in several
(or none). Cluster membership of a VM's datastores and networks limits where
it may run (`one.core.placement`). Deleting a cluster that still has members
is refused, as in OpenNebula 7.4; a classic (2.x) caller's delete moves them
back to the default cluster instead, as 2.0 did.
"""
from __future__ import annotations

from one.core.auth import Session
from one.core.acl import AclManager
from one.core.authz import ADMIN, MANAGE, require
from one.core.groups import DEFAULT_CLUSTER, allocate_named
from one.core.ownership import check_name, updated_template
from one.errors import ActionError
from one.pool.models import Cluster, Datastore, Host, Vnet
from one.pool.pool import Pool
from one.pool.pools import Pools
from one.pool.render import user as render
from one.pool.template import Template, parse

DEFAULT = DEFAULT_CLUSTER[0]


def members(model: type[Datastore] | type[Vnet], cid: int) -> list[int]:
    """Datastores or networks whose CLUSTERS list the cluster."""
    return [row.oid for row in model.select(model.oid, model.clusters).order_by(model.oid)
            if cid in row.clusters]


def _hosts(cid: int) -> list[int]:
    return [h.oid for h in Host.select(Host.oid).where(Host.cluster_id == cid).order_by(Host.oid)]


class ClusterManager:
    def __init__(self, pools: Pools, acl: AclManager) -> None:
        self.pools = pools
        self.acl = acl

    def allocate(self, session: Session, name: str) -> int:
        return allocate_named(session, self.pools.clusters, Cluster(name=name, template=Template()))

    def delete(self, session: Session, cid: int) -> None:
        """7.4: only an empty cluster; a classic caller's members go back to default."""
        with self.pools.store.write():
            cluster = self.pools.clusters.get(cid)
            require(session, cluster, ADMIN, "CLUSTER")
            if cluster.oid == DEFAULT:
                raise ActionError("The default cluster cannot be deleted.")
            if session.classic:
                self._empty(cid)
            for kind, found in (("hosts", _hosts(cid)), ("datastores", members(Datastore, cid)),
                                ("vnets", members(Vnet, cid))):
                if found:
                    raise ActionError(f"Cluster {cid} is not empty, it contains {len(found)} {kind}.")
            self.pools.clusters.drop(cluster)
            self.acl.drop_cluster(cid)

    def _empty(self, cid: int) -> None:
        """Hosts to the default cluster; datastores and networks leave the cluster,
        into the default one if it was their only cluster."""
        default = self.pools.clusters.get(DEFAULT)
        for hid in _hosts(cid):
            with self.pools.hosts.modify(hid) as host:
                host.cluster_id, host.cluster = default.oid, default.name
        for pool, model in ((self.pools.datastores, Datastore), (self.pools.vnets, Vnet)):
            for oid in members(model, cid):
                self._leave(pool, oid, cid)

    @staticmethod
    def _leave(pool: Pool, oid: int, cid: int) -> None:
        with pool.modify(oid) as obj:
            obj.clusters = [c for c in obj.clusters if c != cid] or [DEFAULT]

    def update(self, session: Session, cid: int, text: str, append: int) -> None:
        new = parse(text, self.pools.limits)
        with self.pools.clusters.modify(cid) as cluster:
            require(session, cluster, MANAGE, "CLUSTER")
            cluster.template = updated_template(cluster.template, new, append, self.pools.limits)

    def rename(self, session: Session, cid: int, name: str) -> None:
        check_name(name, "cluster")
        with self.pools.clusters.modify(cid) as cluster:
            require(session, cluster, MANAGE, "CLUSTER")
            cluster.name = name
            for host in self.pools.hosts.select(Host.cluster_id == cid):
                host.cluster = name
                self.pools.hosts.save(host)

    def set_host(self, session: Session, cid: int, hid: int) -> None:
        """Move a host into a cluster (delhost moves it back to default)."""
        with self.pools.store.write():
            cluster = self.pools.clusters.get(cid)
            require(session, cluster, ADMIN, "CLUSTER")
            with self.pools.hosts.modify(hid) as host:
                require(session, host, ADMIN, "HOST")
                host.cluster_id, host.cluster = cluster.oid, cluster.name

    def set_vnet(self, session: Session, cid: int, vid: int, add: bool) -> None:
        self._member(session, self.pools.vnets, "NET", cid, vid, add)

    def set_datastore(self, session: Session, cid: int, dsid: int, add: bool) -> None:
        self._member(session, self.pools.datastores, "DATASTORE", cid, dsid, add)

    def _member(self, session: Session, pool: Pool, kind: str, cid: int, oid: int,
                add: bool) -> None:
        """A network or datastore joins (or leaves) the cluster; it keeps its others."""
        with self.pools.store.write():
            cluster = self.pools.clusters.get(cid)
            require(session, cluster, ADMIN, "CLUSTER")
            with pool.modify(oid) as obj:
                require(session, obj, ADMIN, kind)
                clusters = set(obj.clusters)
                obj.clusters = sorted(clusters | {cluster.oid} if add else clusters - {cluster.oid})

    def xml(self, cluster: Cluster) -> str:
        return render.cluster_xml(cluster, _hosts(cluster.oid), members(Datastore, cluster.oid),
                                  members(Vnet, cluster.oid))
