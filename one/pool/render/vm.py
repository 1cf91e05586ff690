"""VM documents of the 7.4 API: `one.vm.info` (vm.xsd) and the pool element (vm_pool.xsd)."""
from __future__ import annotations

from typing import Any, Mapping

from one.pool.models import Vm
from one.pool.render.common import el, fields, ids, permissions
from one.pool.render.vm_template import SHORT_ORDER, system_xml

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
_HISTORY_STRINGS = {"HOSTNAME": "", "VM_MAD": "", "TM_MAD": "", "REQUEST_ID": "-1"}


def _history(record: Mapping[str, Any], order: tuple[str, ...]) -> str:
    values = {**{k: v for k, v in _HISTORY_STRINGS.items() if k in order}, **record}
    return f"<HISTORY>{fields(order, values)}</HISTORY>"


def _monitoring(vm: Vm) -> str:
    data = dict(vm.monitoring or {})
    data.setdefault("ID", vm.oid)
    return f"<MONITORING>{fields(MONITORING_ORDER, data, optional=True)}</MONITORING>"


def _head(vm: Vm) -> str:
    return (f"<ID>{vm.oid}</ID><UID>{vm.uid}</UID><GID>{vm.gid}</GID>"
            f"{el('UNAME', vm.uname)}{el('GNAME', vm.gname)}{el('NAME', vm.name)}")


def _times(vm: Vm) -> str:
    return (f"<RESCHED>{vm.resched}</RESCHED><STIME>{vm.stime}</STIME>"
            f"<ETIME>{vm.etime}</ETIME>{el('DEPLOY_ID', vm.deploy_id)}")


def vm_xml(vm: Vm) -> str:
    """The full document `one.vm.info` returns."""
    history = "".join(_history(h, HISTORY_ORDER) for h in vm.history)
    return (
        f"<VM>{_head(vm)}{permissions(vm.perms)}<LAST_POLL>{vm.last_poll}</LAST_POLL>"
        f"<STATE>{vm.state}</STATE><LCM_STATE>{vm.lcm_state}</LCM_STATE>"
        f"<PREV_STATE>{vm.prev_state}</PREV_STATE>"
        f"<PREV_LCM_STATE>{vm.prev_lcm_state}</PREV_LCM_STATE>{_times(vm)}"
        f"{_monitoring(vm)}<SCHED_ACTIONS/>{system_xml(vm.template)}"
        f"{vm.user_template.to_xml('USER_TEMPLATE')}"
        f"<HISTORY_RECORDS>{history}</HISTORY_RECORDS>"
        f"<BACKUPS><BACKUP_CONFIG/>{ids('BACKUP_IDS', ())}</BACKUPS></VM>"
    )


def vm_pool_xml(vm: Vm) -> str:
    """The short element `one.vmpool.info` lists (last history record only)."""
    last = _history(vm.history[-1], SHORT_HISTORY_ORDER) if vm.history else ""
    return (
        f"<VM>{_head(vm)}<LAST_POLL>{vm.last_poll}</LAST_POLL>"
        f"<STATE>{vm.state}</STATE><LCM_STATE>{vm.lcm_state}</LCM_STATE>{_times(vm)}"
        f"{system_xml(vm.template, SHORT_ORDER)}{_monitoring(vm)}"
        f"{vm.user_template.to_xml('USER_TEMPLATE')}"
        f"<HISTORY_RECORDS>{last}</HISTORY_RECORDS></VM>"
    )


def render_vm(vm: Vm) -> tuple[str, str]:
    return vm_xml(vm), vm_pool_xml(vm)
