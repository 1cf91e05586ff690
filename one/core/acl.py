"""ACL rules: the acl table, its copy in memory, OpenNebula's default rules and
the rules that make a user a group administrator.

Every change is made under the store's writer lock and applied to the
in-memory `RuleSet` at once; a rolled-back write reloads the set from the
table, so memory never holds a rule the database lost.
"""
from __future__ import annotations

from typing import Callable

from one.acl_syntax import CLUSTER, GROUP, ID_MASK, INDIVIDUAL, ZONE_ID, number, parse
from one.core.acl_rules import Rule, RuleSet, malformed
from one.core.auth import Session
from one.core.authz import MANAGE, require_type
from one.errors import AllocateError, ApiError, NoExistsError
from one.pool.models import Acl, GroupAdmin, PoolControl, rows
from one.pool.pool import Store

_TABLE = "acl"
# AclManager's constructor on a new installation (OpenNebula 7).
DEFAULT_RULES = (
    "@1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VMGROUP+BACKUPJOB/* CREATE *",
    "* ZONE/* USE *",
    "* MARKETPLACE+MARKETPLACEAPP/* USE *",
)


def group_admin_rules(uid: int, gid: int) -> tuple[str, ...]:
    """What Group::add_admin_rules gives a group's administrator."""
    return (f"#{uid} USER/@{gid} USE+MANAGE+ADMIN+CREATE *",
            f"#{uid} VM+NET+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VROUTER+VMGROUP+BACKUPJOB/@{gid} "
            f"USE+MANAGE *",
            f"#{uid} VROUTER/* CREATE *",
            f"#{uid} GROUP/#{gid} MANAGE *")


class AclManager:
    def __init__(self, store: Store, rules: RuleSet) -> None:
        self.store = store
        self.rules = rules  # shared with the authenticator, which hands it to every session

    def load(self) -> None:
        self.rules.replace(Rule(a.oid, a.user, a.resource, a.rights, a.zone)
                           for a in Acl.select())

    def bootstrap(self) -> None:
        """Load the rules; a database that never had any gets OpenNebula's defaults
        (as oned, when the acl pool has no last id yet)."""
        self.load()
        with self.store.write():
            if PoolControl.get_or_none(PoolControl.pool == _TABLE) is None:
                PoolControl.create(pool=_TABLE, last_oid=-1)
                for text in DEFAULT_RULES:
                    self.add_rule(*parse(text))

    # -- changes ------------------------------------------------------------------
    def add_rule(self, user: int, resource: int, rights: int, zone: int) -> Rule:
        """A new rule, refused when it is malformed or exists already."""
        key = (user, resource, rights, zone)
        with self.store.write():
            found = self.rules.find(key)
            if found is not None:
                raise AllocateError(f"Rule {found.text} already exists")
            error = malformed(*key)
            if error:
                raise AllocateError(f"Rule {Rule(-1, *key).text} is malformed: {error}")
            oid = self._next_oid()
            Acl.create(oid=oid, user=user, resource=resource, rights=rights, zone=zone)
            rule = Rule(oid, *key)
            self.rules.add(rule)
            self.store.after_rollback(self.load)
        return rule

    @staticmethod
    def _next_oid() -> int:
        """Ids are never reused: the last one lives in pool_control, as oned keeps it."""
        control = PoolControl.get_or_none(PoolControl.pool == _TABLE)
        if control is None:
            control = PoolControl.create(pool=_TABLE, last_oid=-1)
        PoolControl.update(last_oid=control.last_oid + 1).where(
            PoolControl.pool == _TABLE).execute()
        return control.last_oid + 1

    def delete_rule(self, oid: int) -> None:
        with self.store.write():
            if self.rules.get(oid) is None:
                raise NoExistsError(f"Rule {oid} does not exist")
            self._drop(lambda rule: rule.oid == oid)

    def _drop(self, doomed: Callable[[Rule], bool]) -> None:
        """Delete every rule `doomed` picks; call inside a write."""
        oids = [rule.oid for rule in self.rules if doomed(rule)]
        if oids:
            Acl.delete().where(Acl.oid.in_(oids)).execute()
            for oid in oids:
                self.rules.remove(oid)
            self.store.after_rollback(self.load)

    def drop_user(self, uid: int) -> None:
        """A deleted user's rules and administrations go (del_uid_rules)."""
        GroupAdmin.delete().where(GroupAdmin.uid == uid).execute()
        self._drop(lambda rule: rule.user == INDIVIDUAL | uid)

    def drop_group(self, gid: int) -> None:
        """A deleted group's rules go: those for its members and those over its
        objects (del_gid_rules)."""
        GroupAdmin.delete().where(GroupAdmin.gid == gid).execute()
        self._drop(lambda rule: rule.user == GROUP | gid
                   or rule.resource & (GROUP | ID_MASK) == GROUP | gid)

    def drop_cluster(self, cid: int) -> None:
        """A deleted cluster's `%cid` rules go (del_cid_rules)."""
        self._drop(lambda rule: rule.resource & (CLUSTER | ID_MASK) == CLUSTER | cid)

    # -- group administrators -----------------------------------------------------------
    @staticmethod
    def admins(gid: int) -> list[int]:
        query = GroupAdmin.select(GroupAdmin.uid).where(GroupAdmin.gid == gid).order_by(GroupAdmin.uid)
        return [uid for (uid,) in rows(query)]

    @staticmethod
    def is_admin(gid: int, uid: int) -> bool:
        return GroupAdmin.select().where((GroupAdmin.gid == gid) & (GroupAdmin.uid == uid)).exists()

    def promote(self, gid: int, uid: int) -> None:
        """Make a member an administrator of the group, with oned's rules for it
        (rules that exist already are kept as they are)."""
        with self.store.write():
            GroupAdmin.create(gid=gid, uid=uid)
            for text in group_admin_rules(uid, gid):
                if self.rules.find(parse(text)) is None:
                    self.add_rule(*parse(text))

    def demote(self, gid: int, uid: int) -> None:
        """No longer an administrator (also when leaving the group): the rules go."""
        with self.store.write():
            GroupAdmin.delete().where((GroupAdmin.gid == gid) & (GroupAdmin.uid == uid)).execute()
            keys = {parse(text) for text in group_admin_rules(uid, gid)}
            self._drop(lambda rule: rule.key in keys)

    # -- the API ----------------------------------------------------------------------
    def addrule(self, session: Session, user: str, resource: str, rights: str,
                zone: str = "") -> int:
        """one.acl.addrule: hexadecimal numbers; no zone means this zone."""
        require_type(session, MANAGE, "ACL")
        try:
            key = (number(user, "user"), number(resource, "resource"), number(rights, "rights"),
                   number(zone, "zone") if zone.strip() else INDIVIDUAL | ZONE_ID)
        except ValueError as exc:
            raise ApiError(str(exc)) from None
        return self.add_rule(*key).oid

    def delrule(self, session: Session, oid: int) -> None:
        require_type(session, MANAGE, "ACL")
        self.delete_rule(oid)

    def xml(self, session: Session) -> str:
        require_type(session, MANAGE, "ACL")
        return f"<ACL_POOL>{''.join(rule.xml() for rule in self.rules)}</ACL_POOL>"

