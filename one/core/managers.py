"""The managers of one oned, built over one set of pools."""
from __future__ import annotations

from dataclasses import dataclass

from one.config import Config
from one.core.accounting import Accounting
from one.core.acl import AclManager
from one.core.acl_rules import RuleSet
from one.core.auth import Authenticator
from one.core.clusters import ClusterManager
from one.core.datastores import DatastoreManager
from one.core.documents import DocumentManager
from one.core.ec2keys import Ec2KeyManager
from one.core.groups import GroupManager
from one.core.hooks import Hooks
from one.core.hosts import HostManager
from one.core.hotplug import Hotplug
from one.core.images import ImageManager
from one.core.lifecycle.engine import LifeCycle
from one.core.monitor import Monitor
from one.core.quotas import QuotaManager
from one.core.sched_actions import Runner as SchedActions
from one.core.scheduling import SchedulerLoop
from one.core.templates import TemplateManager
from one.core.throttle import Throttle
from one.core.users import UserManager
from one.core.vms import VmManager
from one.core.vmlog import VmLogs
from one.core.vnets import VnetManager
from one.plugins.manager import PluginManager
from one.pool.pools import Pools


@dataclass
class Managers:
    pools: Pools
    config: Config
    auth: Authenticator
    users: UserManager
    groups: GroupManager
    clusters: ClusterManager
    hosts: HostManager
    vnets: VnetManager
    vms: VmManager
    plugins: PluginManager
    lifecycle: LifeCycle
    logs: VmLogs
    hooks: Hooks
    monitor: Monitor
    scheduler: SchedulerLoop | None
    images: ImageManager
    templates: TemplateManager
    acl: AclManager
    datastores: DatastoreManager
    accounting: Accounting
    quotas: QuotaManager
    ec2keys: Ec2KeyManager
    documents: DocumentManager
    sched_actions: SchedActions
    hotplug: Hotplug

    def start(self) -> None:
        """The threads: driver operations and events, monitoring, scheduling."""
        config = self.config
        self.lifecycle.start(config.driver_threads, config.driver_timeout, config.driver_retries)
        self.lifecycle.resume_in_flight()
        self.images.start()
        self.monitor.start()
        if self.scheduler is not None:
            self.scheduler.start()
        self.sched_actions.start()

    def stop(self) -> None:
        for part in (self.sched_actions, self.scheduler, self.monitor, self.lifecycle, self.images,
                     self.hooks):
            if part is not None:
                part.stop()
        self.logs.close()


def build_managers(pools: Pools, config: Config, plugins: PluginManager) -> Managers:
    """Every manager over one set of pools; `Managers.start` starts the threads."""
    rules = RuleSet()
    auth = Authenticator(Throttle(config.auth_user_failures, config.auth_source_failures,
                                  config.auth_failure_window, config.auth_throttle_exempt.split()),
                         rules=rules)
    acl = AclManager(pools.store, rules)
    vnets = VnetManager(pools, config, plugins)
    logs = VmLogs(config.var_location)
    hooks = Hooks(config, plugins)
    lifecycle = LifeCycle(pools, config, plugins, logs, notify=hooks)
    scheduler = SchedulerLoop(pools, config, lifecycle) if config.sched.lower() != "no" else None
    if scheduler is not None:
        lifecycle.on_pending = scheduler.wake
    monitor = Monitor(pools, config, plugins, lifecycle, host_changed=hooks.host_changed)
    hosts = HostManager(pools, plugins)
    images = ImageManager(pools, config)

    def host_changed(host, previous: int) -> None:
        hooks.host_changed(host, previous)
        monitor.wake()

    hosts.changed = host_changed
    hosts.probe_soon = monitor.wake
    vms = VmManager(pools, config, vnets, lifecycle, images)
    return Managers(
        pools=pools, config=config, auth=auth, users=UserManager(pools, auth, acl),
        groups=GroupManager(pools, acl), clusters=ClusterManager(pools, acl), hosts=hosts,
        vnets=vnets, vms=vms, plugins=plugins, lifecycle=lifecycle,
        logs=logs, hooks=hooks, monitor=monitor, scheduler=scheduler, images=images, acl=acl,
        templates=TemplateManager(pools, vms, images),
        datastores=DatastoreManager(pools, config, plugins),
        accounting=Accounting(pools, config),
        quotas=QuotaManager(pools),
        ec2keys=Ec2KeyManager(pools, config.var_location),
        documents=DocumentManager(pools, config.default_umask),
        sched_actions=SchedActions(pools, vms.perform, config.sched_action_interval),
        hotplug=Hotplug(vms, lifecycle),
    )
