"""one.cluster.* (modern, cluster id first) and the classic add/remove (host first)."""
from __future__ import annotations

from one.core.auth import Session
from one.core.managers import Managers
from one.pool.render import classic
from one.pool.render.common import wrap
from one.xmlrpc.api import Api, B, I, S, returns_id

DEFAULT = 0


def register(api: Api, m: Managers) -> None:
    clusters = m.clusters

    def xml(s: Session, cluster) -> str:
        return classic.cluster_xml(cluster) if s.classic else clusters.xml(cluster)

    api.add("one.cluster.allocate", [S("name")], clusters.allocate, "Allocates a cluster.")
    api.add("one.cluster.delete", [I("id")], returns_id(clusters.delete),
            "Deletes an empty cluster (classic: its hosts go back to default).")
    api.add("one.cluster.info", [I("id"), B("decrypt", False)],
            lambda s, cid, decrypt=False: xml(s, m.pools.clusters.get(cid)), "Returns a cluster.")
    api.add("one.cluster.update", [I("id"), S("template"), I("append", 0)],
            returns_id(clusters.update), "Replaces (0) or merges (1) the cluster template.")
    api.add("one.cluster.rename", [I("id"), S("name")], returns_id(clusters.rename),
            "Renames a cluster.")
    api.add("one.cluster.addhost", [I("id"), I("host_id")], returns_id(clusters.set_host),
            "Moves a host into the cluster.")
    api.add("one.cluster.delhost", [I("id"), I("host_id")],
            returns_id(lambda s, cid, hid: clusters.set_host(s, DEFAULT, hid)),
            "Moves a host back to the default cluster.")
    api.add("one.cluster.addvnet", [I("id"), I("vnet_id")],
            returns_id(lambda s, cid, vid: clusters.set_vnet(s, cid, vid, True)),
            "Adds a virtual network to the cluster.")
    api.add("one.cluster.delvnet", [I("id"), I("vnet_id")],
            returns_id(lambda s, cid, vid: clusters.set_vnet(s, cid, vid, False)),
            "Removes a virtual network from the cluster.")
    api.add("one.cluster.adddatastore", [I("id"), I("ds_id")],
            returns_id(lambda s, cid, dsid: clusters.set_datastore(s, cid, dsid, True)),
            "Adds a datastore to the cluster.")
    api.add("one.cluster.deldatastore", [I("id"), I("ds_id")],
            returns_id(lambda s, cid, dsid: clusters.set_datastore(s, cid, dsid, False)),
            "Removes a datastore from the cluster.")
    # Classic 2.x: host id first.
    def classic_add(s: Session, hid: int, cid: int) -> int:
        clusters.set_host(s, cid, hid)
        return cid

    api.add("one.cluster.add", [I("host_id"), I("id")], classic_add,
            "Classic form: moves a host (first) into a cluster.")
    api.add("one.cluster.remove", [I("host_id")],
            returns_id(lambda s, hid: clusters.set_host(s, DEFAULT, hid)),
            "Classic form: moves a host back to the default cluster.")
    api.add("one.clusterpool.info", [],
            lambda s: wrap("CLUSTER_POOL", (xml(s, c) for c in m.pools.clusters.select())),
            "Lists clusters.")
