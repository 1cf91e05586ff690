"""Groups and clusters: small admin-managed pools whose documents list members."""
from __future__ import annotations

from one.core.auth import Session
from one.core.authz import require_admin
from one.core.ownership import check_name, updated_template
from one.core.quotas import default_quotas
from one.errors import ActionError, AllocateError
from one.pool.models import Cluster, Group, Host, User, Vnet
from one.pool.pool import Pool
from one.pool.pools import Pools
from one.pool.render import user as render
from one.pool.template import Template, parse

SYSTEM_GROUPS = {0: "oneadmin", 1: "users"}
DEFAULT_CLUSTER = (0, "default")


def _allocate(session: Session, pool: Pool, obj: Group | Cluster) -> int:
    require_admin(session, f"CREATE {pool.kind}")
    check_name(obj.name, pool.kind, strict=pool.kind == "group")
    with pool.store.write():
        taken = pool.get_by_name(obj.name)
        if taken is not None:
            raise AllocateError(f"NAME is already taken by {pool.kind.upper()} {taken.oid}.")
        pool.allocate(obj)
    return obj.oid


class GroupManager:
    def __init__(self, pools: Pools) -> None:
        self.pools = pools

    def bootstrap(self) -> None:
        for oid, name in SYSTEM_GROUPS.items():
            self.pools.groups.allocate(Group(name=name, template=Template()), oid=oid)
        self.pools.clusters.allocate(Cluster(name=DEFAULT_CLUSTER[1], template=Template()),
                                     oid=DEFAULT_CLUSTER[0])

    def allocate(self, session: Session, name: str) -> int:
        return _allocate(session, self.pools.groups, Group(name=name, template=Template()))

    def delete(self, session: Session, gid: int) -> None:
        require_admin(session, f"DELETE group [{gid}]")
        with self.pools.store.write():
            group = self.pools.groups.get(gid)
            if group.oid in SYSTEM_GROUPS:
                raise ActionError(f"System group {group.name} cannot be deleted.")
            if User.select().where(User.gid == gid).exists():
                raise ActionError(f"Group {gid} is not empty.")
            self.pools.groups.drop(group)
            self.pools.quotas.drop("group", gid)

    def update(self, session: Session, gid: int, text: str, append: int) -> None:
        require_admin(session, f"MANAGE group [{gid}]")
        new = parse(text, self.pools.limits)
        with self.pools.groups.modify(gid) as group:
            group.template = updated_template(group.template, new, append, self.pools.limits)

    def xml(self, group: Group, full: bool = True) -> str:
        members = [u.oid for u in User.select(User.oid, User.groups).order_by(User.oid)
                   if group.oid in u.groups]
        quotas = self.pools.quotas.bodies("group", [group.oid])[group.oid]
        defaults = default_quotas(self.pools, "group") if full else None
        return render.group_xml(group, members, quotas, defaults)


class ClusterManager:
    def __init__(self, pools: Pools) -> None:
        self.pools = pools

    def allocate(self, session: Session, name: str) -> int:
        return _allocate(session, self.pools.clusters, Cluster(name=name, template=Template()))

    def delete(self, session: Session, cid: int) -> None:
        require_admin(session, f"DELETE cluster [{cid}]")
        with self.pools.store.write():
            cluster = self.pools.clusters.get(cid)
            if cluster.oid == DEFAULT_CLUSTER[0]:
                raise ActionError("The default cluster cannot be deleted.")
            if Host.select().where(Host.cluster_id == cid).exists():
                raise ActionError(f"Cluster {cid} is not empty.")
            self.pools.clusters.drop(cluster)

    def update(self, session: Session, cid: int, text: str, append: int) -> None:
        require_admin(session, f"MANAGE cluster [{cid}]")
        new = parse(text, self.pools.limits)
        with self.pools.clusters.modify(cid) as cluster:
            cluster.template = updated_template(cluster.template, new, append, self.pools.limits)

    def rename(self, session: Session, cid: int, name: str) -> None:
        require_admin(session, f"MANAGE cluster [{cid}]")
        check_name(name, "cluster")
        with self.pools.clusters.modify(cid) as cluster:
            cluster.name = name
            for host in self.pools.hosts.select(Host.cluster_id == cid):
                host.cluster = name
                self.pools.hosts.save(host)

    def set_host(self, session: Session, cid: int, hid: int) -> None:
        """Move a host into a cluster (delhost moves it back to default)."""
        require_admin(session, f"MANAGE cluster [{cid}]")
        with self.pools.store.write():
            cluster = self.pools.clusters.get(cid)
            with self.pools.hosts.modify(hid) as host:
                host.cluster_id, host.cluster = cluster.oid, cluster.name

    def set_vnet(self, session: Session, cid: int, vid: int, add: bool) -> None:
        require_admin(session, f"MANAGE cluster [{cid}]")
        with self.pools.store.write():
            cluster = self.pools.clusters.get(cid)
            with self.pools.vnets.modify(vid) as vnet:
                clusters = set(vnet.clusters)
                vnet.clusters = sorted(clusters | {cluster.oid} if add else clusters - {cluster.oid})

    def xml(self, cluster: Cluster) -> str:
        hosts = [h.oid for h in Host.select(Host.oid).where(Host.cluster_id == cluster.oid)
                 .order_by(Host.oid)]
        vnets = [v.oid for v in Vnet.select(Vnet.oid, Vnet.clusters).order_by(Vnet.oid)
                 if cluster.oid in v.clusters]
        return render.cluster_xml(cluster, hosts, [], vnets)
