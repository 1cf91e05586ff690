"""one.host.* and one.hostpool.info, modern and classic forms."""
from __future__ import annotations

from one.core import monitoring
from one.core.auth import Session
from one.core.managers import Managers
from one.pool.render import classic
from one.pool.render.common import wrap
from one.pool.render.host import host_xml
from one.states import HostStatus
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import listing
from one.xmlrpc.wire import Escaped


def register(api: Api, m: Managers) -> None:
    hosts, pool = m.hosts, m.pools.hosts

    api.add("one.host.allocate", [S("name"), S("im_mad"), S("vmm_mad"), I("cluster_id", -1)],
            hosts.allocate, "Allocates a host (7.x: name, IM, VMM, cluster id).")
    api.add("one.host.allocate",
            [S("name"), S("im_mad"), S("vmm_mad"), S("tm_mad"), I("cluster_id", -1)],
            lambda s, name, im, vmm, tm, cid: hosts.allocate(s, name, im, vmm, cid, tm_mad=tm),
            "Classic form: name, IM, VMM, TM (or 3.x VNM) driver[, cluster id].")

    def info(s: Session, hid: int, decrypt: bool = False) -> str | Escaped:
        """`decrypt` shows oneadmin the secrets every other document masks."""
        if decrypt and s.is_admin:
            return host_xml(pool.get(hid), reveal=True)
        return classic.host_xml(pool.get(hid)) if s.classic else Escaped([pool.text(hid)])

    api.add("one.host.info", [I("id"), B("decrypt", False)], info, "Returns a host.")
    api.add("one.host.delete", [I("id")], returns_id(hosts.delete), "Deletes a host without VMs.")
    api.add("one.host.status", [I("id"), I("status")], returns_id(hosts.status),
            "0 enables, 1 disables, 2 sets offline.")
    api.add("one.host.enable", [I("id"), B("enable")],
            returns_id(lambda s, hid, on: hosts.status(
                s, hid, HostStatus.ENABLED if on else HostStatus.DISABLED)),
            "Classic form of one.host.status.")
    api.add("one.host.update", [I("id"), S("template"), I("append", 0)],
            returns_id(hosts.update), "Replaces (0) or merges (1) the host template.")
    api.add("one.host.rename", [I("id"), S("name")], returns_id(hosts.rename), "Renames a host.")

    def pool_info(s: Session) -> str | Escaped:
        if s.classic:
            return wrap("HOST_POOL", (classic.host_xml(h, pool=True) for h in pool.select()))
        return listing(pool, "HOST_POOL")

    api.add("one.hostpool.info", [], pool_info, "Lists every host.")
    api.add("one.host.monitoring", [I("id")], lambda s, hid: monitoring.host(m.pools, hid),
            "The host's kept monitoring samples.")
    api.add("one.hostpool.monitoring", [I("seconds", -1)],
            lambda s, seconds=-1: monitoring.host_pool(seconds),
            "Monitoring samples of every host: seconds -1 all, 0 the last of each, N the last N s.")
    api.add("one.hostpool.sync", [], hosts.sync,
            "Extension: rebuilds host shares from the VMs placed; returns the repairs made.")
