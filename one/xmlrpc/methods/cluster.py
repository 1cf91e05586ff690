"""one.cluster.* (modern, cluster id first) and the classic add/remove (host first)."""
from __future__ import annotations

from typing import Callable

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
    for noun, param, label, change in (("vnet", "vnet_id", "virtual network", clusters.set_vnet),
                                       ("datastore", "ds_id", "datastore", clusters.set_datastore)):
        _membership(api, noun, param, label, change)
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


def _membership(api: Api, noun: str, param: str, label: str,
                change: Callable[[Session, int, int, bool], None]) -> None:
    """`add<noun>` and `del<noun>`: (cluster id, object id), as in 7.4."""
    for verb, add, how in (("add", True, "Adds a {} to"), ("del", False, "Removes a {} from")):
        api.add(f"one.cluster.{verb}{noun}", [I("id"), I(param)],
                returns_id(lambda s, cid, oid, add=add: change(s, cid, oid, add)),
                f"{how.format(label)} the cluster.")
