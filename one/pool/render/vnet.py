"""VNET documents of the 7.4 API (vnet.xsd, vnet_pool.xsd)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping

from one.pool import address_range as ars
from one.pool.models import Lease, Vnet
from one.pool.render.common import el, ids, permissions

_AR_TAIL = ("VN_MAD", "MAC_END", "IP_END")


def _leases_by_ar(vnet: Vnet) -> dict[int, list[Lease]]:
    by_ar: dict[int, list[Lease]] = defaultdict(list)
    for lease in Lease.select().where(Lease.vnet == vnet.oid).order_by(Lease.ar_id, Lease.index):
        by_ar[lease.ar_id].append(lease)
    return by_ar


def _lease_xml(ar: Mapping[str, Any], lease: Lease) -> str:
    ip = ars.lease_ip(ar, lease.index)
    return (f"<LEASE>{el('IP', ip) if ip else ''}{el('MAC', ars.lease_mac(ar, lease.index))}"
            f"{_owner(lease)}</LEASE>")


def _owner(lease: Lease) -> str:
    if lease.reserved_by >= 0:
        return f"<VNET>{lease.reserved_by}</VNET>"
    return f"<VM>{lease.vm}</VM>"


def _ar_head(ar: Mapping[str, Any]) -> str:
    ip = el("IP", ar["IP"]) if "IP" in ar else ""
    return (f"<AR_ID>{ar['AR_ID']}</AR_ID>{ip}{el('MAC', ar['MAC'])}"
            f"<NEXT_INDEX>{ar['NEXT_INDEX']}</NEXT_INDEX><SIZE>{ar['SIZE']}</SIZE>"
            f"{el('TYPE', ar['TYPE'])}")


def _ar_full(ar: Mapping[str, Any], leases: list[Lease]) -> str:
    tail = {**ar.get("ATTRS", {}), **ars.ar_end(ar)}
    extra = "".join(el(k, tail[k]) for k in _AR_TAIL if k in tail)
    body = "".join(_lease_xml(ar, lease) for lease in leases)
    return (f"<AR>{_ar_head(ar)}{extra}<USED_LEASES>{len(leases)}</USED_LEASES>"
            f"<LEASES>{body}</LEASES></AR>")


def _ar_short(ar: Mapping[str, Any]) -> str:
    vn_mad = ar.get("ATTRS", {}).get("VN_MAD")
    return (f"<AR>{_ar_head(ar)}"
            f"{el('VN_MAD', vn_mad) if vn_mad else ''}</AR>")


def _head(vnet: Vnet, used: int) -> str:
    vlan = el("VLAN_ID", vnet.vlan_id) if vnet.vlan_id else ""
    empty_ids = "".join(ids(n, ()) for n in ("VROUTERS", "UPDATED_VMS", "OUTDATED_VMS",
                                              "UPDATING_VMS", "ERROR_VMS"))
    return (
        f"<ID>{vnet.oid}</ID><UID>{vnet.uid}</UID><GID>{vnet.gid}</GID>"
        f"{el('UNAME', vnet.uname)}{el('GNAME', vnet.gname)}{el('NAME', vnet.name)}"
        f"{permissions(vnet.perms)}{ids('CLUSTERS', vnet.clusters)}{el('BRIDGE', vnet.bridge)}"
        f"{el('BRIDGE_TYPE', vnet.bridge_type)}"
        f"<STATE>{vnet.state}</STATE><PREV_STATE>{vnet.prev_state}</PREV_STATE>"
        f"{el('PARENT_NETWORK_ID', vnet.parent_network_id)}<TEMPLATE_ID>-1</TEMPLATE_ID>"
        f"{el('VN_MAD', vnet.vn_mad)}{el('PHYDEV', vnet.phydev)}{vlan}"
        f"{el('VLAN_ID_AUTOMATIC', vnet.vlan_id_automatic)}"
        f"<OUTER_VLAN_ID_AUTOMATIC>0</OUTER_VLAN_ID_AUTOMATIC>"
        f"<USED_LEASES>{used}</USED_LEASES>{empty_ids}{vnet.template.to_xml()}"
    )


def render_vnet(vnet: Vnet) -> tuple[str, str]:
    leases = _leases_by_ar(vnet)
    used = sum(len(v) for v in leases.values())
    full = "".join(_ar_full(ar, leases.get(ar["AR_ID"], [])) for ar in vnet.ars)
    short = "".join(_ar_short(ar) for ar in vnet.ars)
    head = _head(vnet, used)
    return (f"<VNET>{head}<AR_POOL>{full}</AR_POOL></VNET>",
            f"<VNET>{head}<AR_POOL>{short}</AR_POOL></VNET>")
