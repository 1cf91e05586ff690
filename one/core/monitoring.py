"""The monitoring methods: a VM's or host's kept samples, and those of a pool.

`seconds` is oned's: -1 every sample kept, 0 only each object's last one, N
those of the last N seconds. Reading a VM's samples needs USE of it (as its
document does); a pool's lists the VMs the filter flag lets the caller see.
Hosts are read by every user, as their documents are.
"""
from __future__ import annotations

from one.core.auth import Session
from one.core.authz import USE, pool_filter, require
from one.core.lifecycle import records
from one.errors import ApiError
from one.pool import monitoring as history
from one.pool.models import Vm
from one.pool.pools import Pools


def _since(seconds: int) -> int | None:
    if seconds < -1:
        raise ApiError(f"Wrong number of seconds {seconds}: -1 (all), 0 (last) or more.")
    if seconds == -1:
        return 0
    return None if seconds == 0 else records.now() - seconds


def vm(session: Session, pools: Pools, vid: int) -> str:
    require(session, pools.vms.peek(vid, Vm.uid, Vm.gid, Vm.perms), USE, "VM")
    return history.document(history.VM, [vid], 0)


def vm_pool(session: Session, flag: int, seconds: int) -> str:
    where = pool_filter(Vm, session, flag, "VM")
    oids = None if where is None else Vm.select(Vm.oid).where(where)
    return history.document(history.VM, oids, _since(seconds))


def host(pools: Pools, hid: int) -> str:
    pools.hosts.peek(hid)  # NO_EXISTS for a host that is not there
    return history.document(history.HOST, [hid], 0)


def host_pool(seconds: int) -> str:
    return history.document(history.HOST, None, _since(seconds))
