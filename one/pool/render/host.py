"""HOST documents of the 7.4 API (host.xsd); the pool lists the same element."""
from __future__ import annotations

from one.pool.models import Host
from one.pool.render.common import el, fields, ids
from one.pool.template import Template

SHARE_ORDER = ("MEM_USAGE", "CPU_USAGE", "TOTAL_MEM", "TOTAL_CPU", "MAX_MEM", "MAX_CPU",
               "RUNNING_VMS", "VMS_THREAD")
DATASTORE_ORDER = ("FREE_DISK", "MAX_DISK", "USED_DISK")
DS_ORDER = ("FREE_MB", "ID", "TOTAL_MB", "USED_MB")
CAPACITY_ORDER = ("FREE_CPU", "FREE_MEMORY", "USED_CPU", "USED_MEMORY")
SYSTEM_ORDER = ("NETRX", "NETTX")
# Host attributes only drivers read (OpenNebula's HOST_ENCRYPTED_ATTR): stored as
# given, masked in every document; oneadmin reads them with one.host.info(id, true).
SECRET_ATTRS = ("EC2_ACCESS", "EC2_SECRET")
MASK = "********"


def shown_template(host: Host, reveal: bool = False) -> Template:
    """The host TEMPLATE as documents show it: secrets masked unless `reveal`."""
    if reveal or not any(name in host.template for name in SECRET_ATTRS):
        return host.template
    template = host.template.copy()
    for name in SECRET_ATTRS:
        if name in template:
            template.set(name, MASK)
    return template


def _share(host: Host) -> str:
    share = host.share or {}
    datastores = "".join(f"<DS>{fields(DS_ORDER, ds)}</DS>" for ds in share.get("DS", []))
    return (
        f"<HOST_SHARE>{fields(SHARE_ORDER, share)}"
        f"<DATASTORES><DISK_USAGE>{share.get('DISK_USAGE', 0)}</DISK_USAGE>{datastores}"
        f"{fields(DATASTORE_ORDER, share)}</DATASTORES>"
        f"<PCI_DEVICES/><NUMA_NODES/></HOST_SHARE>"
    )


def monitoring_xml(host: Host) -> str:
    """The host's `<MONITORING>` (host.xsd): in its document and in its monitoring history."""
    mon = host.monitoring or {}
    if not mon:
        return "<MONITORING/>"
    head = fields(("TIMESTAMP",), mon, optional=True) + f"<ID>{host.oid}</ID>"
    capacity = fields(CAPACITY_ORDER, mon, optional=True)
    system = fields(SYSTEM_ORDER, mon, optional=True)
    return f"<MONITORING>{head}<CAPACITY>{capacity}</CAPACITY><SYSTEM>{system}</SYSTEM></MONITORING>"


def host_xml(host: Host, reveal: bool = False) -> str:
    return (
        f"<HOST><ID>{host.oid}</ID>{el('NAME', host.name)}<STATE>{host.state}</STATE>"
        f"<PREV_STATE>{host.prev_state}</PREV_STATE>{el('IM_MAD', host.im_mad)}"
        f"{el('VM_MAD', host.vm_mad)}<CLUSTER_ID>{host.cluster_id}</CLUSTER_ID>"
        f"{el('CLUSTER', host.cluster)}{_share(host)}{ids('VMS', host.vms)}"
        f"{shown_template(host, reveal).to_xml()}{monitoring_xml(host)}</HOST>"
    )


def render_host(host: Host) -> tuple[str, str]:
    body = host_xml(host)
    return body, body
