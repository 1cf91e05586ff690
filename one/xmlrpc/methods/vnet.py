"""one.vn.* and one.vnpool.info, with the classic publish/addleases/rmleases."""
from __future__ import annotations

from one.core import ownership
from one.core.auth import Session
from one.core.authz import MANAGE
from one.core.leases import find_address
from one.core.managers import Managers
from one.pool.models import Lease, Vnet, rows
from one.pool.render import classic
from one.pool.render.common import wrap
from one.pool.template import Template, parse
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import classic_owned, owned_listing
from one.xmlrpc.methods.ownership import register_ownership
from one.xmlrpc.wire import Escaped

def register(api: Api, m: Managers) -> None:
    vnets, pool = m.vnets, m.pools.vnets

    api.add("one.vn.allocate", [S("template"), I("cluster_id", -1)], vnets.allocate,
            "Allocates a network (RANGED/FIXED or AR = [...]); the 7.x form needs VN_MAD.")

    def info(s: Session, nid: int, decrypt: bool = False) -> str | Escaped:
        vnet = vnets.get(s, nid)
        return classic.vnet_xml(vnet) if s.classic else Escaped([pool.text(nid)])

    api.add("one.vn.info", [I("id"), B("decrypt", False)], info, "Returns a network.")
    api.add("one.vn.delete", [I("id")], returns_id(vnets.delete), "Deletes a network.")
    api.add("one.vn.update", [I("id"), S("template"), I("append", 0)],
            returns_id(vnets.update), "Replaces (0) or merges (1) the network template.")
    api.add("one.vn.rename", [I("id"), S("name")], returns_id(vnets.rename), "Renames.")
    register_ownership(api, "one.vn", pool, vnets.get, rename=False)
    api.add("one.vn.add_ar", [I("id"), S("template")], returns_id(vnets.add_ar),
            "Adds an address range.")
    api.add("one.vn.update_ar", [I("id"), S("template")], returns_id(vnets.update_ar),
            "Changes SIZE or attributes of AR = [ AR_ID = n, ... ].")
    api.add("one.vn.rm_ar", [I("id"), I("ar_id"), B("force", False)], returns_id(vnets.rm_ar),
            "Removes an address range without leases in use (or with force).")
    api.add("one.vn.free_ar", [I("id"), I("ar_id")], returns_id(vnets.free_ar),
            "Gives a reserved address range back to its parent network.")
    api.add("one.vn.hold", [I("id"), S("template")], returns_id(vnets.hold),
            "Puts LEASES = [ IP = ... ] on hold.")
    api.add("one.vn.release", [I("id"), S("template")],
            returns_id(lambda s, nid, text: vnets.hold(s, nid, text, hold=False)),
            "Frees an address on hold.")
    api.add("one.vn.reserve", [I("id"), S("template")], vnets.reserve,
            "Reserves SIZE addresses into a new network NAME.")
    _register_classic(api, m)

    def pool_info(s: Session, flag: int, start: int = -1, end: int = -1) -> str | Escaped:
        if s.classic:
            return _classic_listing(m, s, flag)
        return owned_listing(pool, "VNET_POOL", s, flag, start, end)

    api.add("one.vnpool.info", [I("filter"), I("start", -1), I("end", -1)], pool_info,
            "Lists networks (filter -4..uid, id range).")


def _register_classic(api: Api, m: Managers) -> None:
    vnets, pool = m.vnets, m.pools.vnets

    def publish(s: Session, nid: int, public: bool) -> None:
        bit = 1 if public else 0
        vnets.get(s, nid, MANAGE)
        ownership.chmod(s, pool, nid, [-1] * 6 + [bit, -1, -1])

    api.add("one.vn.publish", [I("id"), B("publish")], returns_id(publish),
            "Classic: makes a network usable by everyone (OTHER USE).")
    api.add("one.vn.addleases", [I("id"), S("template")], returns_id(
        lambda s, nid, text: vnets.add_ar(s, nid, _leases_to_ar(text))),
        "Classic: adds LEASES = [ IP = ..., MAC = ... ] to a FIXED network.")
    api.add("one.vn.rmleases", [I("id"), S("template")], returns_id(
        lambda s, nid, text: _rm_lease(m, s, nid, text)), "Classic: removes a free lease.")


def _leases_to_ar(text: str) -> str:
    lease = parse(text).vector("LEASES") or {}
    return Template([("AR", {"TYPE": "IP4", "SIZE": "1", **lease})]).to_text()


def _rm_lease(m: Managers, s: Session, nid: int, text: str) -> None:
    lease = parse(text).vector("LEASES") or {}
    vnet = m.vnets.get(s, nid, MANAGE)
    ar, _ = find_address(vnet, lease.get("IP"), lease.get("MAC"))
    m.vnets.rm_ar(s, nid, ar["AR_ID"])


def _classic_listing(m: Managers, s: Session, flag: int) -> str:
    """2.x's listing, with its filter (`classic_owned`)."""
    where = classic_owned(Vnet, s, flag)
    query = Vnet.select() if where is None else Vnet.select().where(where)
    used: dict[int, int] = {}
    for (vnet_id,) in rows(Lease.select(Lease.vnet).where(Lease.vm >= 0)):
        used[vnet_id] = used.get(vnet_id, 0) + 1
    return wrap("VNET_POOL", (classic.vnet_pool_xml(v, used.get(v.oid, 0))
                              for v in query.order_by(Vnet.oid)))
