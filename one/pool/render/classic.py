"""Classic OpenNebula 2.2 documents, for callers of the classic dialect.

Shapes follow the 2.2 sources (see shared/reference/xml-samples/2.2): VMs
carry top-level MEMORY/CPU/NET_TX/NET_RX and a single HISTORY, hosts the old
HOST_SHARE, networks TYPE/PUBLIC/LEASES, users only ID/NAME/PASSWORD/ENABLED,
images PUBLIC/PERSISTENT/SOURCE/STATE without permissions.
They are rendered on demand: classic callers are few and their pools small.
"""
from __future__ import annotations

from one.pool import address_range as ars
from one.pool.models import Cluster, Host, Image, Lease, User, Vm, Vnet
from one.pool.render.common import el, fields
from one.pool.render.host import shown_template
from one.pool.template import Template

_HOST_STATE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 1, 6: 1, 7: 1, 8: 4}
_HISTORY = ("SEQ", "HOSTNAME", "HID", "STIME", "ETIME", "PSTIME", "PETIME", "RSTIME",
            "RETIME", "ESTIME", "EETIME", "REASON")
# Modern HISTORY/ACTION to classic REASON: 0 NONE, 1 ERROR, 2 STOP_RESUME, 3 USER, 4 CANCEL.
_REASON = {0: 0, 9: 2, 28: 4, 4: 4}


def _vm_template(vm: Vm) -> Template:
    merged = Template(vm.template.attrs + vm.user_template.attrs)
    merged.set("NAME", vm.name)
    return merged


def _history(vm: Vm) -> str:
    if not vm.history:
        return ""
    record = dict(vm.history[-1])
    action = record.get("ACTION", 0)
    record["REASON"] = _REASON.get(action, 3 if action else 0)
    return f"<HISTORY>{fields(_HISTORY, record)}</HISTORY>"


def vm_xml(vm: Vm, username: str | None = None, template: bool = True,
           history: bool = True) -> str:
    """`<VM>` of 2.2; `username` adds USERNAME as the pool listing does."""
    mon = vm.monitoring or {}
    user = el("USERNAME", username) if username is not None else ""
    return (
        f"<VM><ID>{vm.oid}</ID><UID>{vm.uid}</UID>{user}{el('NAME', vm.name)}"
        f"<LAST_POLL>{vm.last_poll}</LAST_POLL><STATE>{vm.state}</STATE>"
        f"<LCM_STATE>{vm.lcm_state}</LCM_STATE><STIME>{vm.stime}</STIME>"
        f"<ETIME>{vm.etime}</ETIME>{el('DEPLOY_ID', vm.deploy_id)}"
        f"<MEMORY>{int(float(mon.get('MEMORY', 0)))}</MEMORY><CPU>{int(float(mon.get('CPU', 0)))}</CPU>"
        f"<NET_TX>{int(float(mon.get('NETTX', 0)))}</NET_TX>"
        f"<NET_RX>{int(float(mon.get('NETRX', 0)))}</NET_RX>"
        f"<LAST_SEQ>{len(vm.history) - 1}</LAST_SEQ>"
        f"{_vm_template(vm).to_xml() if template else ''}{_history(vm) if history else ''}</VM>"
    )


def host_share(host: Host) -> str:
    share, mon = host.share or {}, host.monitoring or {}
    values = {
        "HID": host.oid, "DISK_USAGE": share.get("DISK_USAGE", 0),
        "MEM_USAGE": share.get("MEM_USAGE", 0), "CPU_USAGE": share.get("CPU_USAGE", 0),
        "MAX_DISK": share.get("MAX_DISK", 0), "MAX_MEM": share.get("MAX_MEM", 0),
        "MAX_CPU": share.get("MAX_CPU", 0), "FREE_DISK": share.get("FREE_DISK", 0),
        "FREE_MEM": mon.get("FREE_MEMORY", 0), "FREE_CPU": mon.get("FREE_CPU", 0),
        "USED_DISK": share.get("USED_DISK", 0), "USED_MEM": mon.get("USED_MEMORY", 0),
        "USED_CPU": mon.get("USED_CPU", 0), "RUNNING_VMS": share.get("RUNNING_VMS", 0),
    }
    return f"<HOST_SHARE>{fields(tuple(values), values)}</HOST_SHARE>"


def host_xml(host: Host, pool: bool = False) -> str:
    """`<HOST>` of 2.2: the pool listing puts TEMPLATE before HOST_SHARE."""
    head = (f"<HOST><ID>{host.oid}</ID>{el('NAME', host.name)}"
            f"<STATE>{_HOST_STATE.get(host.state, host.state)}</STATE>"
            f"{el('IM_MAD', host.im_mad)}{el('VM_MAD', host.vm_mad)}{el('TM_MAD', host.tm_mad)}"
            f"<LAST_MON_TIME>{host.last_mon_time}</LAST_MON_TIME>{el('CLUSTER', host.cluster)}")
    template, share = shown_template(host).to_xml(), host_share(host)
    return head + (template + share if pool else share + template) + "</HOST>"


def _public(obj: Vnet | Image) -> int:
    return (obj.perms >> 2) & 1  # OTHER_U


def _classic_type(vnet: Vnet) -> int:
    if vnet.classic_type >= 0:
        return vnet.classic_type
    return 0 if len(vnet.ars) == 1 and vnet.ars[0]["SIZE"] > 1 else 1


def _vnet_template(vnet: Vnet) -> Template:
    template = vnet.template.copy()
    template.set("NAME", vnet.name)
    return template


def vnet_xml(vnet: Vnet) -> str:
    by_ar = {ar["AR_ID"]: ar for ar in vnet.ars}
    used = {(l.ar_id, l.index): l.vm for l in Lease.select().where(Lease.vnet == vnet.oid)}
    if _classic_type(vnet) == 1:
        slots = [(ar["AR_ID"], i) for ar in vnet.ars for i in range(ar["SIZE"])]
    else:
        slots = sorted(used)
    leases = "".join(
        f"<LEASE>{el('IP', ars.lease_ip(by_ar[a], i) or '')}{el('MAC', ars.lease_mac(by_ar[a], i))}"
        f"<USED>{int((a, i) in used)}</USED><VID>{used.get((a, i), -1)}</VID></LEASE>"
        for a, i in slots)
    return (f"<VNET><ID>{vnet.oid}</ID><UID>{vnet.uid}</UID>{el('NAME', vnet.name)}"
            f"<TYPE>{_classic_type(vnet)}</TYPE>{el('BRIDGE', vnet.bridge)}"
            f"<PUBLIC>{_public(vnet)}</PUBLIC>{_vnet_template(vnet).to_xml()}"
            f"<LEASES>{leases}</LEASES></VNET>")


def vnet_pool_xml(vnet: Vnet, total_leases: int) -> str:
    return (f"<VNET><ID>{vnet.oid}</ID><UID>{vnet.uid}</UID>{el('USERNAME', vnet.uname)}"
            f"{el('NAME', vnet.name)}<TYPE>{_classic_type(vnet)}</TYPE>{el('BRIDGE', vnet.bridge)}"
            f"<PUBLIC>{_public(vnet)}</PUBLIC><TOTAL_LEASES>{total_leases}</TOTAL_LEASES></VNET>")


def user_xml(user: User) -> str:
    return (f"<USER><ID>{user.oid}</ID>{el('NAME', user.name)}{el('PASSWORD', user.password)}"
            f"<ENABLED>{int(user.enabled)}</ENABLED></USER>")


def cluster_xml(cluster: Cluster) -> str:
    return f"<CLUSTER><ID>{cluster.oid}</ID>{el('NAME', cluster.name)}</CLUSTER>"


# Modern image states 2.2 lacks, as the nearest 2.2 one: busy ones (LOCKED, ERROR, CLONE,
# DELETE...) cannot be used, as DISABLED; USED_PERS is USED.
_IMAGE_STATE = {0: 0, 1: 1, 2: 2, 3: 3, 8: 2}


def image_xml(image: Image, username: str | None = None) -> str:
    """`<IMAGE>` of 2.2; `username` adds USERNAME as the pool listing does."""
    user = el("USERNAME", username) if username is not None else ""
    template = image.template.copy()
    template.set("NAME", image.name)
    return (f"<IMAGE><ID>{image.oid}</ID><UID>{image.uid}</UID>{user}{el('NAME', image.name)}"
            f"<TYPE>{image.kind}</TYPE><PUBLIC>{_public(image)}</PUBLIC>"
            f"<PERSISTENT>{image.persistent}</PERSISTENT><REGTIME>{image.regtime}</REGTIME>"
            f"{el('SOURCE', image.source)}<STATE>{_IMAGE_STATE.get(image.state, 3)}</STATE>"
            f"<RUNNING_VMS>{image.running_vms}</RUNNING_VMS>{template.to_xml()}</IMAGE>")
