"""Virtual networks: classic RANGED/FIXED and modern address ranges, leases,
holds and reservations."""
from __future__ import annotations

from typing import Any

from one.config import Config
from one.core import leases, quotas
from one.core.auth import Session
from one.core.authz import ADMIN, MANAGE, USE, require, require_create
from one.core.ownership import check_name, updated_template
from one.core.restricted import RestrictedAttributes
from one.errors import ActionError, AllocateError, ApiError
from one.plugins.manager import PluginManager
from one.pool import address_range as ars
from one.pool.models import Lease, Vnet
from one.pool.pools import Pools
from one.pool.template import Template, parse
from one.states import VnetState

_CLASSIC_SIZES = {"B": 65536, "C": 256}
_VLAN_DRIVERS = {"802.1Q", "vxlan", "ovswitch"}
MAX_VLAN = 4094
_COLUMNS = ("BRIDGE", "VN_MAD", "PHYDEV", "VLAN_ID")


def _classic_ranges(template: Template, network_size: int) -> tuple[int, list[dict[str, str]]]:
    """RANGED: one range without network and broadcast; FIXED: one range per lease."""
    kind = (template.get("TYPE") or "").upper()
    if kind == "RANGED":
        address = template.get("NETWORK_ADDRESS")
        if not address:
            raise AllocateError("A RANGED network needs NETWORK_ADDRESS.")
        size_text = (template.get("NETWORK_SIZE") or str(network_size)).upper()
        size = _CLASSIC_SIZES.get(size_text) or (int(size_text) if size_text.isdigit() else 0)
        if size < 3:
            raise AllocateError(f"Wrong NETWORK_SIZE '{size_text}'.")
        first = ars.int_to_ip(ars.ip_to_int(address) + 1)
        return 0, [{"TYPE": "IP4", "IP": first, "SIZE": str(size - 2)}]
    if kind == "FIXED":
        fixed = [{"TYPE": "IP4", "SIZE": "1", **v} for v in template.vectors("LEASES")]
        return 1, fixed
    raise AllocateError(f"Wrong network TYPE '{kind}': RANGED or FIXED.")


class VnetManager:
    def __init__(self, pools: Pools, config: Config, plugins: PluginManager) -> None:
        self.pools = pools
        self.config = config
        self.plugins = plugins
        self.restricted = RestrictedAttributes(config)

    def get(self, session: Session, nid: int, right: int = USE) -> Vnet:
        vnet = self.pools.vnets.get(nid)
        require(session, vnet, right, "NET")
        return vnet

    def _new_ar(self, vnet: Vnet, spec: dict[str, str]) -> dict[str, Any]:
        next_id = max((ar["AR_ID"] for ar in vnet.ars), default=-1) + 1
        return ars.make_ar(next_id, spec, self.config.mac_prefix)

    def allocate(self, session: Session, text: str, cluster_id: int = -1) -> int:
        require_create(session, "NET")
        cluster = self.pools.clusters.get(0 if cluster_id == -1 else cluster_id)
        require(session, cluster, ADMIN, "CLUSTER")
        template = parse(text, self.pools.limits)
        name = template.get("NAME") or ""
        check_name(name, "virtual network")
        self.restricted.check(session, "VNET", template)
        classic_type, specs = -1, template.vectors("AR")
        if template.get("TYPE"):
            classic_type, specs = _classic_ranges(template, self.config.network_size)
        elif not (template.get("VN_MAD") or session.classic):
            raise AllocateError("No VN_MAD in template: the network driver is mandatory.")
        self._check_driver(template.get("VN_MAD"))
        template.remove("NAME")
        template.remove("AR")
        vnet = Vnet(name=name, uid=session.uid, gid=session.gid, uname=session.uname,
                    gname=session.gname, perms=0o777 & ~self.config.default_umask,
                    state=VnetState.READY, classic_type=classic_type, clusters=[cluster.oid],
                    ars=[], template=template,
                    **{k.lower(): template.get(k) or "" for k in _COLUMNS})
        for spec in specs:
            vnet.ars.append(self._new_ar(vnet, spec))
        with self.pools.store.write():
            self._check_unique(vnet)
            self._vlan(vnet, template)
            self.pools.vnets.allocate(vnet)
            if not vnet.bridge:
                vnet.bridge = f"onebr{vnet.oid}"
                self.pools.vnets.save(vnet)
        return vnet.oid

    def _check_driver(self, vn_mad: str | None) -> None:
        """An unknown network driver is refused at once, as hosts' and datastores' are."""
        if vn_mad:
            self.plugins.registries["vnm"].check(vn_mad)

    def _vlan(self, vnet: Vnet, template: Template) -> None:
        """A VLAN_ID given is checked; none given for a VLAN driver (or
        AUTOMATIC_VLAN_ID = YES) takes the lowest free one from VLAN_START."""
        if vnet.vlan_id:
            if not vnet.vlan_id.isdigit() or not 0 < int(vnet.vlan_id) <= MAX_VLAN:
                raise AllocateError(f"VLAN_ID must be 1..{MAX_VLAN}, not '{vnet.vlan_id}'.")
            return
        automatic = (template.get("AUTOMATIC_VLAN_ID") or "").upper() == "YES"
        if not (automatic or vnet.vn_mad in _VLAN_DRIVERS):
            return
        used = {int(v.vlan_id) for v in Vnet.select(Vnet.vlan_id) if v.vlan_id.isdigit()}
        free = next((v for v in range(self.config.vlan_start, MAX_VLAN + 1) if v not in used), None)
        if free is None:
            raise AllocateError("No free VLAN_ID left.")
        vnet.vlan_id, vnet.vlan_id_automatic = str(free), "1"

    def _check_unique(self, vnet: Vnet) -> None:
        taken = Vnet.get_or_none((Vnet.name == vnet.name) & (Vnet.uid == vnet.uid))
        if taken is not None and taken.oid != vnet.oid:
            raise AllocateError(f"NAME is already taken by NET {taken.oid}.")

    def delete(self, session: Session, nid: int) -> None:
        self.get(session, nid, MANAGE)
        with self.pools.store.write():
            vnet = self.pools.vnets.get(nid)
            if Lease.select().where((Lease.vnet == nid) & (Lease.vm >= 0)).exists():
                raise ActionError(f"Cannot delete network {nid}: it has leases in use.")
            if Vnet.select().where(Vnet.parent_network_id == str(nid)).exists():
                raise ActionError(f"Cannot delete network {nid}: it has reservations.")
            for ar in vnet.ars:
                self._free_parent(vnet, ar)
            Lease.delete().where(Lease.vnet == nid).execute()
            self.pools.vnets.drop(vnet)

    def update(self, session: Session, nid: int, text: str, append: int) -> None:
        self.get(session, nid, MANAGE)
        new = parse(text, self.pools.limits)
        with self.pools.vnets.modify(nid) as vnet:
            merged = updated_template(vnet.template, new, append, self.pools.limits)
            self.restricted.check(session, "VNET", merged, vnet.template)
            if merged.get("VN_MAD") != vnet.template.get("VN_MAD"):
                self._check_driver(merged.get("VN_MAD"))
            vnet.template = merged
            for key in _COLUMNS:
                if key in vnet.template:
                    setattr(vnet, key.lower(), vnet.template.get(key) or "")

    def rename(self, session: Session, nid: int, name: str) -> None:
        self.get(session, nid, MANAGE)
        check_name(name, "virtual network")
        with self.pools.vnets.modify(nid) as vnet:
            vnet.name = name
            self._check_unique(vnet)

    def add_ar(self, session: Session, nid: int, text: str) -> None:
        self.get(session, nid, MANAGE)
        template = parse(text, self.pools.limits)
        self.restricted.check(session, "VNET", template)
        specs = template.vectors("AR")
        if len(specs) != 1:
            raise ApiError("The template must hold exactly one AR = [ ... ] vector.")
        with self.pools.vnets.modify(nid) as vnet:
            vnet.ars.append(self._new_ar(vnet, specs[0]))

    def update_ar(self, session: Session, nid: int, text: str) -> None:
        """AR = [ AR_ID = n, SIZE = ..., other attributes ]: TYPE, IP and MAC stay."""
        self.get(session, nid, MANAGE)
        template = parse(text, self.pools.limits)
        spec = template.vector("AR") or {}
        if not spec.get("AR_ID", "").isdigit():
            raise ApiError("The template must hold AR = [ AR_ID = n, ... ].")
        with self.pools.vnets.modify(nid) as vnet:
            ar = self._ar(vnet, int(spec.pop("AR_ID")))
            attrs = ar.get("ATTRS") or {}
            self.restricted.check(session, "VNET", template,
                                  Template([("AR", attrs)]) if attrs else None)
            size = spec.pop("SIZE", str(ar["SIZE"]))
            if not size.isdigit() or int(size) <= 0:
                raise ApiError(f"SIZE must be a positive integer, not '{size}'.")
            beyond = Lease.select().where((Lease.vnet == nid) & (Lease.ar_id == ar["AR_ID"])
                                          & (Lease.index >= int(size)))
            if beyond.exists():
                raise ActionError(f"Cannot shrink address range {ar['AR_ID']}: leases in use beyond {size}.")
            ar["SIZE"] = int(size)
            ar.setdefault("ATTRS", {}).update({k: v for k, v in spec.items()
                                               if k not in ("TYPE", "IP", "MAC")})

    def _ar(self, vnet: Vnet, ar_id: int) -> dict[str, Any]:
        for ar in vnet.ars:
            if ar["AR_ID"] == ar_id:
                return ar
        raise ApiError(f"Address range {ar_id} does not exist in network {vnet.oid}.")

    def rm_ar(self, session: Session, nid: int, ar_id: int, force: bool = False) -> None:
        self.get(session, nid, MANAGE)
        with self.pools.vnets.modify(nid) as vnet:
            ar = self._ar(vnet, ar_id)
            if not force and leases.used_in_ar(vnet, ar_id):
                raise ActionError(f"Address range {ar_id} has leases in use.")
            Lease.delete().where((Lease.vnet == nid) & (Lease.ar_id == ar_id)).execute()
            self._free_parent(vnet, ar)
            vnet.ars = [a for a in vnet.ars if a["AR_ID"] != ar_id]

    def free_ar(self, session: Session, nid: int, ar_id: int) -> None:
        """Give a reserved range back to the network it was reserved from."""
        vnet = self.get(session, nid, MANAGE)
        if not vnet.parent_network_id:
            raise ActionError(f"Network {nid} is not a reservation.")
        self.rm_ar(session, nid, ar_id)

    def _free_parent(self, vnet: Vnet, ar: dict[str, Any]) -> None:
        attrs = ar.get("ATTRS", {})
        if vnet.parent_network_id and "PARENT_FIRST" in attrs:
            parent = int(vnet.parent_network_id)
            leases.free_block(parent, int(attrs["PARENT_NETWORK_AR_ID"]),
                              int(attrs["PARENT_FIRST"]), ar["SIZE"])
            quotas.release(self.pools, vnet.uid, vnet.gid, quotas.lease_usage(parent, ar["SIZE"]))
            if Vnet.get_or_none(Vnet.oid == parent) is not None:
                self.pools.vnets.save(self.pools.vnets.get(parent))

    def hold(self, session: Session, nid: int, text: str, hold: bool = True) -> None:
        """LEASES = [ IP = ... ] (or MAC): put an address on hold, or free it."""
        self.get(session, nid, MANAGE)
        spec = parse(text, self.pools.limits).vector("LEASES") or {}
        ip, mac = spec.get("IP"), spec.get("MAC")
        if not (ip or mac):
            raise ApiError("The template must hold LEASES = [ IP = ... ] or a MAC.")
        with self.pools.vnets.modify(nid) as vnet:
            if hold:
                leases.take(vnet, -1, ip=ip, mac=mac)
            else:
                leases.release(vnet, ip, mac)

    def reserve(self, session: Session, nid: int, text: str) -> int:
        """A new network owning SIZE free addresses of this one."""
        self.get(session, nid, USE)
        spec = parse(text, self.pools.limits)
        size_text, name = spec.get("SIZE") or "", spec.get("NAME") or ""
        if not size_text.isdigit() or int(size_text) <= 0:
            raise ApiError("A reservation needs SIZE, a positive integer.")
        check_name(name, "virtual network")
        ar_id = spec.get("AR_ID")
        with self.pools.vnets.modify(nid) as parent:
            ar, first = leases.reserve_block(parent, int(size_text),
                                             int(ar_id) if ar_id and ar_id.isdigit() else None)
            child_spec = {"TYPE": ar["TYPE"], "SIZE": size_text,
                          "MAC": ars.lease_mac(ar, first), "PARENT_NETWORK_AR_ID": str(ar["AR_ID"]),
                          "PARENT_FIRST": str(first)}
            if "IP" in ar:
                child_spec["IP"] = ars.lease_ip(ar, first) or ""
            child = Vnet(name=name, uid=session.uid, gid=session.gid, uname=session.uname,
                         gname=session.gname, perms=parent.perms, state=VnetState.READY,
                         bridge=parent.bridge, vn_mad=parent.vn_mad, phydev=parent.phydev,
                         vlan_id=parent.vlan_id, parent_network_id=str(parent.oid),
                         clusters=parent.clusters, ars=[], template=parent.template.copy())
            child.ars.append(ars.make_ar(0, child_spec, self.config.mac_prefix))
            self._check_unique(child)
            quotas.charge(self.pools, session.uid, session.gid,
                          quotas.lease_usage(parent.oid, int(size_text)))
            self.pools.vnets.allocate(child)
            leases.hold_block(parent, ar, first, int(size_text), child.oid)
        return child.oid
