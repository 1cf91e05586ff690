"""The managers of one oned, built over one set of pools."""
from __future__ import annotations

from dataclasses import dataclass

from one.config import Config
from one.core.auth import Authenticator
from one.core.groups import ClusterManager, GroupManager
from one.core.hosts import HostManager
from one.core.users import UserManager
from one.core.vms import VmManager
from one.core.vnets import VnetManager
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


def build_managers(pools: Pools, config: Config) -> Managers:
    auth = Authenticator()
    vnets = VnetManager(pools, config)
    return Managers(
        pools=pools, config=config, auth=auth, users=UserManager(pools, auth),
        groups=GroupManager(pools), clusters=ClusterManager(pools), hosts=HostManager(pools),
        vnets=vnets, vms=VmManager(pools, config, vnets),
    )
