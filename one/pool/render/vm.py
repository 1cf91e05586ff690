"""VM documents of the 7.4 API: `one.vm.info` (vm.xsd) and the pool element (vm_pool.xsd)."""
from __future__ import annotations

from typing import Any, Mapping

from one.pool.models import Vm
from one.pool.render.common import el, fields, ids, permissions
from one.pool.render.vm_template import system_xml
from one.pool.render.vmtemplate import lock_xml
from one.pool.template import Template

MONITORING_ORDER = (
    "CPU", "CPU_FORECAST", "CPU_FORECAST_FAR", "DISKRDBYTES", "DISKRDBYTES_BW",
    "DISKRDBYTES_BW_FORECAST", "DISKRDBYTES_BW_FORECAST_FAR", "DISKRDIOPS", "DISKRDIOPS_BW",
    "DISKRDIOPS_BW_FORECAST", "DISKRDIOPS_BW_FORECAST_FAR", "DISKWRBYTES", "DISKWRBYTES_BW",
    "DISKWRBYTES_BW_FORECAST", "DISKWRBYTES_BW_FORECAST_FAR", "DISKWRIOPS", "DISKWRIOPS_BW",
    "DISKWRIOPS_BW_FORECAST", "DISKWRIOPS_BW_FORECAST_FAR", "ID", "MEMORY", "MEMORY_FORECAST",
    "MEMORY_FORECAST_FAR", "NETRX", "NETRX_BW", "NETRX_BW_FORECAST", "NETRX_BW_FORECAST_FAR",
    "NETTX", "NETTX_BW", "NETTX_BW_FORECAST", "NETTX_BW_FORECAST_FAR", "TIMESTAMP",
)
HISTORY_ORDER = (
    "OID", "SEQ", "HOSTNAME", "HID", "CID", "STIME", "ETIME", "VM_MAD", "TM_MAD", "DS_ID",
    "PLAN_ID", "ACTION_ID", "PSTIME", "PETIME", "RSTIME", "RETIME", "ESTIME", "EETIME",
    "ACTION", "UID", "GID", "REQUEST_ID",
)
SHORT_HISTORY_ORDER = ("OID", "SEQ", "HOSTNAME", "HID", "CID", "DS_ID", "VM_MAD", "TM_MAD", "ACTION")
# What oned's pool listing keeps of each part (VirtualMachine*::to_xml_short).
SHORT_DISK = ("DISK_ID", "DATASTORE", "DATASTORE_ID", "IMAGE", "IMAGE_ID", "SIZE", "TYPE",
              "CLONE", "CLONE_TARGET", "LN_TARGET", "DISK_SNAPSHOT_TOTAL_SIZE")
SHORT_NIC_OPTIONAL = ("IP", "EXTERNAL_IP", "IP6", "IP6_ULA", "IP6_LINK", "IP6_GLOBAL",
                      "NETWORK_MODE", "SCHED_REQUIREMENTS", "SCHED_RANK")
SHORT_NIC = ("MAC", "NETWORK", "NETWORK_ID", "NIC_ID", "SECURITY_GROUPS")
SHORT_USER_SINGLES = ("LABELS", "ERROR", "SCHED_MESSAGE", "SCHED_RANK", "SCHED_DS_RANK",
                      "SCHED_REQUIREMENTS", "SCHED_DS_REQUIREMENTS", "USER_PRIORITY")
SHORT_USER_VECTORS = ("PUBLIC_CLOUD", "SCHED_ACTION")
# Beyond oned's list: the facts one-econe keeps of an instance (type, AMI, reservation, tags),
# so that DescribeInstances reads the short listing, a third of the bytes of the full one.
SHORT_USER_PREFIX = "EC2_"
_HISTORY_STRINGS = {"HOSTNAME": "", "VM_MAD": "", "TM_MAD": "", "REQUEST_ID": "-1"}


def _history(record: Mapping[str, Any], order: tuple[str, ...], inner: str = "") -> str:
    values = {**{k: v for k, v in _HISTORY_STRINGS.items() if k in order}, **record}
    return f"<HISTORY>{fields(order, values)}{inner}</HISTORY>"


def accounting_xml(record: Mapping[str, Any], vm: Vm, without_records: str | None = None) -> str:
    """A HISTORY record as `one.vmpool.accounting` lists it (acct.xsd): the record
    followed by the VM as it was when the record last changed, without its records
    (`without_records`, when the caller has that document already)."""
    return _history(record, HISTORY_ORDER, without_records or vm_xml(vm, records=False))


def without_records(vm: Vm, body: str) -> str:
    """The VM's document `body` (just rendered) with its HISTORY_RECORDS emptied, as
    accounting shows the VM: cut out of the text rather than rendered a second time."""
    records = "".join(_history(h, HISTORY_ORDER) for h in vm.history)
    whole = f"<HISTORY_RECORDS>{records}</HISTORY_RECORDS>"
    if body.count(whole) != 1:  # not a document of this VM as it is: render it
        return vm_xml(vm, records=False)
    return body.replace(whole, "<HISTORY_RECORDS></HISTORY_RECORDS>")


def _monitoring(vm: Vm) -> str:
    data = dict(vm.monitoring or {})
    data.setdefault("ID", vm.oid)
    return f"<MONITORING>{fields(MONITORING_ORDER, data, optional=True)}</MONITORING>"


def _head(vm: Vm) -> str:
    return (f"<ID>{vm.oid}</ID><UID>{vm.uid}</UID><GID>{vm.gid}</GID>"
            f"{el('UNAME', vm.uname)}{el('GNAME', vm.gname)}{el('NAME', vm.name)}")


def _times(vm: Vm) -> str:
    """RESCHED to DEPLOY_ID, and the LOCK that follows them in both documents."""
    return (f"<RESCHED>{vm.resched}</RESCHED><STIME>{vm.stime}</STIME>"
            f"<ETIME>{vm.etime}</ETIME>{el('DEPLOY_ID', vm.deploy_id)}{lock_xml(vm.lock or {})}")


def _sched_ids(vm: Vm) -> list[str]:
    return [action.get("ID", "") for action in vm.template.vectors("SCHED_ACTION")]


DISK_SNAPSHOT_ORDER = ("ACTIVE", "CHILDREN", "DATE", "ID", "NAME", "PARENT", "SIZE")


def _disk_snapshots(vm: Vm) -> str:
    """VM/SNAPSHOTS: one element per disk that has snapshots (one.core.snapshot_books)."""
    return "".join(
        f"<SNAPSHOTS>{el('ALLOW_ORPHANS', t['ALLOW_ORPHANS'])}"
        f"<CURRENT_BASE>{t['CURRENT_BASE']}</CURRENT_BASE><DISK_ID>{t['DISK_ID']}</DISK_ID>"
        f"<NEXT_SNAPSHOT>{t['NEXT_SNAPSHOT']}</NEXT_SNAPSHOT>"
        + "".join(f"<SNAPSHOT>{fields(DISK_SNAPSHOT_ORDER, s, optional=True)}</SNAPSHOT>"
                  for s in t["SNAPSHOT"]) + "</SNAPSHOTS>"
        for t in vm.snapshots or ())


def vm_xml(vm: Vm, records: bool = True) -> str:
    """The full document `one.vm.info` returns."""
    history = "".join(_history(h, HISTORY_ORDER) for h in vm.history) if records else ""
    return (
        f"<VM>{_head(vm)}{permissions(vm.perms)}<LAST_POLL>{vm.last_poll}</LAST_POLL>"
        f"<STATE>{vm.state}</STATE><LCM_STATE>{vm.lcm_state}</LCM_STATE>"
        f"<PREV_STATE>{vm.prev_state}</PREV_STATE>"
        f"<PREV_LCM_STATE>{vm.prev_lcm_state}</PREV_LCM_STATE>{_times(vm)}"
        f"{_monitoring(vm)}{ids('SCHED_ACTIONS', _sched_ids(vm))}{system_xml(vm.template)}"
        f"{vm.user_template.to_xml('USER_TEMPLATE')}"
        f"<HISTORY_RECORDS>{history}</HISTORY_RECORDS>{_disk_snapshots(vm)}"
        f"<BACKUPS><BACKUP_CONFIG/>{ids('BACKUP_IDS', ())}</BACKUPS></VM>"
    )


def _short_template(t: Template) -> str:
    disks = "".join(f"<DISK>{''.join(el(k, d.get(k, '')) for k in SHORT_DISK)}</DISK>"
                    for d in t.vectors("DISK"))
    nics = "".join(
        f"<NIC>{''.join(el(k, n[k]) for k in SHORT_NIC_OPTIONAL if n.get(k))}"
        f"{''.join(el(k, n.get(k, '')) for k in SHORT_NIC)}</NIC>" for n in t.vectors("NIC"))
    graphics = t.vector("GRAPHICS")
    graphics_xml = Template([("GRAPHICS", graphics)]).xml_body() if graphics else ""
    return (f"<TEMPLATE>{el('CPU', t.get('CPU', ''))}{el('MEMORY', t.get('MEMORY', ''))}"
            f"{disks}{nics}{graphics_xml}</TEMPLATE>")


def _short_monitoring(vm: Vm) -> str:
    mon = vm.monitoring or {}
    if not mon:
        return "<MONITORING/>"
    return f"<MONITORING>{''.join(el(k, mon.get(k, '')) for k in ('CPU', 'MEMORY', 'STATE'))}</MONITORING>"


def _short_user_template(t: Template) -> str:
    singles = "".join(el(k, t.get(k)) for k in SHORT_USER_SINGLES if t.get(k) is not None)
    singles += "".join(el(k, v) for k, v in t.attrs
                       if k.startswith(SHORT_USER_PREFIX) and isinstance(v, str))
    vectors = Template([(k, v) for k in SHORT_USER_VECTORS for v in t.vectors(k)]).xml_body()
    return f"<USER_TEMPLATE>{singles}{vectors}</USER_TEMPLATE>"


def vm_pool_xml(vm: Vm) -> str:
    """The short element `one.vmpool.info` lists, with what oned keeps in it."""
    last = _history(vm.history[-1], SHORT_HISTORY_ORDER) if vm.history else ""
    return (
        f"<VM>{_head(vm)}<LAST_POLL>{vm.last_poll}</LAST_POLL>"
        f"<STATE>{vm.state}</STATE><LCM_STATE>{vm.lcm_state}</LCM_STATE>{_times(vm)}"
        f"{_short_template(vm.template)}{_short_monitoring(vm)}"
        f"{_short_user_template(vm.user_template)}"
        f"<HISTORY_RECORDS>{last}</HISTORY_RECORDS></VM>"
    )


def render_vm(vm: Vm) -> tuple[str, str]:
    return vm_xml(vm), vm_pool_xml(vm)
