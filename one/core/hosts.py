"""Hosts: registration, enable/disable/offline, template updates.

Monitoring (which moves hosts out of INIT) is the information manager's job;
this manager only keeps the records an operator edits.
"""
from __future__ import annotations

from typing import Callable

from one.core import capacity
from one.core.auth import Session
from one.core.authz import ADMIN, require, require_create, require_type
from one.core.ownership import check_name, updated_template
from one.errors import ActionError, AllocateError, ApiError
from one.plugins.manager import PluginManager
from one.pool.models import Host
from one.pool.pools import Pools
from one.pool.render.host import MASK, SECRET_ATTRS
from one.pool.template import Template, parse
from one.states import HostState, HostStatus

_STATUS_STATE = {HostStatus.ENABLED: HostState.INIT, HostStatus.DISABLED: HostState.DISABLED,
                 HostStatus.OFFLINE: HostState.OFFLINE}


def empty_share() -> dict[str, int]:
    return {"MEM_USAGE": 0, "CPU_USAGE": 0, "TOTAL_MEM": 0, "TOTAL_CPU": 0, "MAX_MEM": 0,
            "MAX_CPU": 0, "RUNNING_VMS": 0, "VMS_THREAD": 0, "DISK_USAGE": 0,
            "FREE_DISK": 0, "MAX_DISK": 0, "USED_DISK": 0}


class HostManager:
    def __init__(self, pools: Pools, plugins: PluginManager) -> None:
        self.pools = pools
        self.plugins = plugins
        # Set by the composition root: hooks and the monitor hear of changes.
        self.changed: Callable[[Host, int], None] = lambda host, previous: None
        # Set by the composition root: a host whose template changed (credentials,
        # CAPACITY...) is probed again at once, not a MONITORING_INTERVAL later.
        self.probe_soon: Callable[[], None] = lambda: None

    def _announce(self, host: Host, previous: int) -> None:
        self.pools.store.on_commit(lambda: self.changed(host, previous))

    def allocate(self, session: Session, name: str, im_mad: str, vm_mad: str,
                 cluster_id: int = -1, tm_mad: str = "") -> int:
        require_create(session, "HOST")
        check_name(name, "host", strict=True)
        for label, value in (("IM_MAD", im_mad), ("VM_MAD", vm_mad)):
            if not value:
                raise ApiError(f"{label} cannot be empty.")
        self.plugins.registries["im"].check(im_mad)
        self.plugins.registries["vmm"].check(vm_mad)
        if tm_mad:
            self.plugins.registries["tm"].check(tm_mad)
        cluster = self.pools.clusters.get(0 if cluster_id == -1 else cluster_id)
        require(session, cluster, ADMIN, "CLUSTER")
        with self.pools.store.write():
            taken = self.pools.hosts.get_by_name(name)
            if taken is not None:
                raise AllocateError(f"NAME is already taken by HOST {taken.oid}.")
            host = Host(name=name, state=HostState.INIT, im_mad=im_mad, vm_mad=vm_mad,
                        tm_mad=tm_mad, cluster_id=cluster.oid, cluster=cluster.name,
                        share=empty_share(), vms=[], monitoring={}, template=Template())
            self.pools.hosts.allocate(host)
            self._announce(host, -1)
        return host.oid

    def delete(self, session: Session, hid: int) -> None:
        with self.pools.store.write():
            host = self.pools.hosts.get(hid)
            require(session, host, ADMIN, "HOST")
            if host.vms:
                raise ActionError(f"Cannot delete host {hid}: it has {len(host.vms)} VMs.")
            self.pools.hosts.drop(host)

    def status(self, session: Session, hid: int, status: int) -> None:
        """one.host.status: enabled hosts start again from INIT and are re-monitored."""
        if status not in _STATUS_STATE:
            raise ApiError(f"Wrong status {status}: 0 enable, 1 disable, 2 offline.")
        new = _STATUS_STATE[HostStatus(status)]
        with self.pools.hosts.modify(hid) as host:
            require(session, host, ADMIN, "HOST")
            if host.state != new:
                host.prev_state, host.state = host.state, new
                self._announce(host, host.prev_state)

    def update(self, session: Session, hid: int, text: str, append: int) -> None:
        new = parse(text, self.pools.limits)
        with self.pools.hosts.modify(hid) as host:
            require(session, host, ADMIN, "HOST")
            stored = host.template
            host.template = updated_template(stored, new, append, self.pools.limits)
            for name in SECRET_ATTRS:   # a template read back from a document keeps its secrets
                if host.template.get(name) == MASK and stored.get(name):
                    host.template.set(name, stored.get(name) or "")
            self.pools.store.on_commit(self.probe_soon)

    def sync(self, session: Session) -> str:
        """one.hostpool.sync: host shares rebuilt from the VMs placed; one line per repair."""
        require_type(session, ADMIN, "HOST")
        return "\n".join(capacity.sync(self.pools))

    def rename(self, session: Session, hid: int, name: str) -> None:
        with self.pools.hosts.modify(hid) as host:
            require(session, host, ADMIN, "HOST")
            check_name(name, "host", strict=True)
            taken = self.pools.hosts.get_by_name(name)
            if taken is not None and taken.oid != hid:
                raise ActionError(f"NAME is already taken by HOST {taken.oid}.")
            host.name = name
