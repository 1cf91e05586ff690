"""one.vm.* and one.vmpool.*, modern and classic forms."""
from __future__ import annotations

from one.core.auth import Session
from one.core import monitoring
from one.core.authz import USE, pool_filter, require
from one.core.managers import Managers
from one.errors import ApiError
from one.pool.models import Vm
from one.pool.render import classic
from one.pool.render.common import wrap
from one.states import VmState
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import combine, listing, owned_listing
from one.xmlrpc.methods.ownership import register_ownership
from one.xmlrpc.wire import Escaped



def state_filter(state: int):
    """-2 any, -1 any but DONE, >= 0 exactly that state."""
    if state == -2:
        return None
    if state == -1:
        return Vm.state != VmState.DONE
    if state < 0:
        raise ApiError(f"Wrong state filter {state}.")
    return Vm.state == state


def register(api: Api, m: Managers) -> None:
    vms, pool = m.vms, m.pools.vms

    api.add("one.vm.allocate", [S("template"), B("hold", False)], vms.allocate,
            "Allocates a VM from a template (text or <TEMPLATE> XML), optionally on hold.")

    def info(s: Session, vid: int, decrypt: bool = False) -> str | Escaped:
        if s.classic:
            return classic.vm_xml(vms.visible(s, vid))
        if not s.is_admin:
            require(s, pool.peek(vid, Vm.uid, Vm.gid, Vm.perms), USE, "VM")
        return Escaped([pool.text(vid)])

    api.add("one.vm.info", [I("id"), B("decrypt", False)], info, "Returns a VM.")

    def action(s: Session, name: str, vid: int) -> int:
        vms.action(s, name, vid)
        return vid

    api.add("one.vm.action", [S("action"), I("id")], action,
            "terminate[-hard], hold, release, ... and the classic names.")
    api.add("one.vm.update", [I("id"), S("template"), I("append", 0)], returns_id(vms.update),
            "Replaces (0) or merges (1) the USER_TEMPLATE.")
    register_ownership(api, "one.vm", pool, vms.get, moved=m.quotas.chowned)
    api.add("one.vm.lock", [I("id"), I("level", 4), B("test", False)], returns_id(vms.lock),
            "Locks: 1 USE, 2 MANAGE, 3 ADMIN, 4 ALL (the operations of that level and above).")
    api.add("one.vm.schedadd", [I("id"), S("template")], vms.sched_add,
            "Adds a scheduled action (SCHED_ACTION = [ ACTION, TIME, REPEAT, DAYS, END_TYPE, "
            "END_VALUE ]); returns its ID.")
    api.add("one.vm.schedupdate", [I("id"), I("sched_id"), S("template")],
            returns_id(vms.sched_update), "Changes a scheduled action.")
    api.add("one.vm.scheddelete", [I("id"), I("sched_id")], returns_id(vms.sched_delete),
            "Deletes a scheduled action.")
    api.add("one.vm.monitoring", [I("id")],
            lambda s, vid: monitoring.vm(s, m.pools, vid), "The VM's kept monitoring samples.")
    api.add("one.vm.resize", [I("id"), S("template"), B("enforce", False)],
            returns_id(vms.resize), "Changes CPU, VCPU and MEMORY (live when RUNNING).")
    api.add("one.vm.unlock", [I("id")], returns_id(vms.unlock), "Lifts the lock.")
    api.add("one.vm.disksaveas", [I("id"), I("disk_id"), S("name"), S("type", ""), I("snap_id", -1)],
            lambda s, vid, disk, name, kind="", snap=-1: vms.disk_saveas(s, vid, disk, name, kind,
                                                                         snap_id=snap),
            "Saves a disk (or its snapshot snap_id) into a new image when the VM ends (epilog); "
            "returns the image id.")
    api.add("one.vm.savedisk", [I("id"), I("disk_id"), I("image_id")],
            returns_id(lambda s, vid, disk, iid: vms.disk_saveas(s, vid, disk, "", "", iid)),
            "Classic: saves a disk into an allocated image when the VM ends.")
    api.add("one.vm.deploy", [I("id"), I("host_id"), B("enforce", False), I("ds_id", -1),
                              S("nic_template", "")],
            returns_id(lambda s, vid, hid, enforce=False, ds=-1, nic="": vms.deploy(s, vid, hid, enforce)),
            "Deploys a PENDING/HOLD/STOPPED/UNDEPLOYED VM on a host.")
    api.add("one.vm.migrate", [I("id"), I("host_id"), B("live"), B("enforce", False),
                               I("ds_id", -1), I("type", 0)],
            returns_id(lambda s, vid, hid, live, enforce=False, ds=-1, kind=0:
                       vms.migrate(s, vid, hid, live, enforce, kind)),
            "Migrates a VM to another host (live or cold).")
    api.add("one.vm.recover", [I("id"), I("operation")], returns_id(vms.recover),
            "0 failure, 1 success, 2 retry, 3 delete, 4 delete-recreate, 5 delete-db.")
    _register_pool(api, m)


def _register_pool(api: Api, m: Managers) -> None:
    pool = m.pools.vms

    def pool_info(full: bool):
        def handler(s: Session, flag: int, start: int, end: int, state: int,
                    query: str = "") -> Escaped:
            return owned_listing(pool, "VM_POOL", s, flag, start, end, state_filter(state), full=full)
        return handler

    modern = [I("filter"), I("start"), I("end"), I("state"), S("query", "")]
    api.add("one.vmpool.info", modern, pool_info(False), "Lists VMs (short bodies).")
    api.add("one.vmpool.infoextended", modern, pool_info(True), "Lists VMs (full bodies).")

    def classic_listing(s: Session, flag: int, extended: bool = True,
                        state: int = -1) -> str | Escaped:
        if not s.classic:
            return pool_info(False)(s, flag, -1, -1, state)
        vms = pool.select(combine(pool_filter(Vm, s, flag, "VM"), state_filter(state)))
        return wrap("VM_POOL", (classic.vm_xml(v, v.uname if extended else None, history=extended)
                                for v in vms))

    api.add("one.vmpool.info", [I("filter"), B("extended", True), I("state", -1)],
            classic_listing, "Classic form: filter[, extended, state].")

    def infoset(s: Session, ids: str, extended: bool = False) -> Escaped:
        try:
            wanted = [int(x) for x in ids.replace(" ", "").split(",") if x]
        except ValueError:
            raise ApiError(f"Wrong id list '{ids}'.") from None
        return listing(pool, "VM_POOL", combine(Vm.oid.in_(wanted), pool_filter(Vm, s, -2, "VM")),
                       full=extended)

    api.add("one.vmpool.monitoring", [I("filter"), I("seconds", -1)], monitoring.vm_pool,
            "Monitoring samples of the VMs: seconds -1 all, 0 the last of each, N the last N s.")
    api.add("one.vmpool.infoset", [S("ids"), B("extended", False)], infoset,
            "Lists the VMs of a comma-separated id list.")
