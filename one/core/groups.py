"""Groups: a small admin-managed pool whose documents list their members."""
from __future__ import annotations

from one.core.acl import AclManager
from one.core.auth import Session
from one.core.authz import ADMIN, MANAGE, require, require_create
from one.core.ownership import check_name, updated_template
from one.core.quotas import default_quotas
from one.errors import ActionError, AllocateError, InternalError
from one.pool.models import Cluster, Group, User
from one.pool.pool import Pool
from one.pool.pools import Pools
from one.pool.render import user as render
from one.pool.template import Template, parse

SYSTEM_GROUPS = {0: "oneadmin", 1: "users"}
DEFAULT_CLUSTER = (0, "default")


def allocate_named(session: Session, pool: Pool, obj: Group | Cluster) -> int:
    require_create(session, pool.kind)
    check_name(obj.name, pool.kind, strict=pool.kind == "group")
    with pool.store.write():
        taken = pool.get_by_name(obj.name)
        if taken is not None:
            raise AllocateError(f"NAME is already taken by {pool.kind.upper()} {taken.oid}.")
        pool.allocate(obj)
    return obj.oid


class GroupManager:
    def __init__(self, pools: Pools, acl: AclManager) -> None:
        self.pools = pools
        self.acl = acl

    def bootstrap(self) -> None:
        for oid, name in SYSTEM_GROUPS.items():
            self.pools.groups.allocate(Group(name=name, template=Template()), oid=oid)
        self.pools.clusters.allocate(Cluster(name=DEFAULT_CLUSTER[1], template=Template()),
                                     oid=DEFAULT_CLUSTER[0])

    def allocate(self, session: Session, name: str) -> int:
        return allocate_named(session, self.pools.groups, Group(name=name, template=Template()))

    def delete(self, session: Session, gid: int) -> None:
        with self.pools.store.write():
            group = self.pools.groups.get(gid)
            require(session, group, ADMIN, "GROUP")
            if group.oid in SYSTEM_GROUPS:
                raise ActionError(f"System group {group.name} cannot be deleted.")
            if User.select().where(User.gid == gid).exists():
                raise ActionError(f"Group {gid} is not empty.")
            self.pools.groups.drop(group)
            self.acl.drop_group(gid)
            self.pools.quotas.drop("group", gid)

    def update(self, session: Session, gid: int, text: str, append: int) -> None:
        new = parse(text, self.pools.limits)
        with self.pools.groups.modify(gid) as group:
            require(session, group, MANAGE, "GROUP")
            group.template = updated_template(group.template, new, append, self.pools.limits)

    def set_admin(self, session: Session, gid: int, uid: int, add: bool) -> None:
        """one.group.addadmin/deladmin: ADMIN on both the group and the user, as oned
        asks; its failures are INTERNAL errors there, so they are here."""
        with self.pools.store.write():
            group, user = self.pools.groups.get(gid), self.pools.users.get(uid)
            require(session, group, ADMIN, "GROUP")
            require(session, user, ADMIN, "USER")
            if add and gid not in user.groups:
                raise InternalError(f"Cannot edit group. User {uid} is not part of Group {gid}.")
            if add == self.acl.is_admin(gid, uid):
                state = "already" if add else "not"
                raise InternalError(
                    f"Cannot edit group. User {uid} is {state} an administrator of Group {gid}.")
            (self.acl.promote if add else self.acl.demote)(gid, uid)

    def xml(self, group: Group, full: bool = True) -> str:
        members = [u.oid for u in User.select(User.oid, User.groups).order_by(User.oid)
                   if group.oid in u.groups]
        quotas = self.pools.quotas.bodies("group", [group.oid])[group.oid]
        defaults = default_quotas(self.pools, "group") if full else None
        return render.group_xml(group, members, self.acl.admins(group.oid), quotas, defaults)

