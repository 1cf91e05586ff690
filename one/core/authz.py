"""May this caller do that? OpenNebula's permission bits, ACL rules and pool filters.

As in oned (AuthRequest::add_auth, AclManager::authorize): oneadmin (uid 0) and
members of the oneadmin group may do anything; anyone else is granted a right
by the owner/group/other USE/MANAGE/ADMIN bits of the object, or else by an ACL
rule (`one.core.acl_rules`) that names the user, one of their groups or
everyone, and the object by id, group, cluster or type. Creating asks for
CREATE on the type, with the caller's group as the new object's group.

Kinds are OpenNebula's type names ("VM", "NET", "TEMPLATE", ...); the pools'
own labels ("virtual machine", ...) are accepted for the same types.
"""
from __future__ import annotations

import peewee as pw

from one.acl_syntax import ACL_TYPE, RIGHTS, TYPES
from one.core.acl_rules import Request
from one.core.auth import Session
from one.errors import ApiError, AuthorizationError
from one.pool.models import Datastore, Group, Host, Owned, PoolObject, User, Vnet, rows

USE, MANAGE, ADMIN, CREATE = 4, 2, 1, 8  # the first three are the permission bits
_RIGHT_NAMES = {USE: "USE", MANAGE: "MANAGE", ADMIN: "ADMIN", CREATE: "CREATE"}
_ACL_RIGHTS = {USE: RIGHTS["USE"], MANAGE: RIGHTS["MANAGE"], ADMIN: RIGHTS["ADMIN"],
               CREATE: RIGHTS["CREATE"]}
_ALIASES = {"VIRTUAL MACHINE": "VM", "VIRTUAL NETWORK": "NET", "VNET": "NET",
            "VM TEMPLATE": "TEMPLATE", "VMTEMPLATE": "TEMPLATE"}
_GROUP_PERMS = 0o640  # oned's groups: owned by oneadmin, members may USE (see) them


def type_bit(kind: str) -> int:
    """The ACL type bit of a kind name, 0 for a kind no rule can name."""
    name = _ALIASES.get(kind.upper(), kind.upper())
    return ACL_TYPE if name == "ACL" else TYPES.get(name, 0)


def _ownership(obj: PoolObject) -> tuple[int, int, int]:
    """(uid, gid, permission bits) as oned's PoolObjectAuth holds them: users and
    hosts have no owner, a group is its own group."""
    if isinstance(obj, Owned):
        return obj.uid, obj.gid, obj.perms
    if isinstance(obj, User):
        return -1, obj.gid, 0
    if isinstance(obj, Group):
        return 0, obj.oid, _GROUP_PERMS
    return -1, -1, 0


def _clusters(obj: PoolObject) -> tuple[int, ...]:
    if isinstance(obj, Host):
        return (obj.cluster_id,)
    if isinstance(obj, (Vnet, Datastore)):
        return tuple(obj.clusters or ())
    return ()


def _by_bits(session: Session, uid: int, gid: int, perms: int, right: int) -> bool:
    if right == CREATE:
        return False
    if uid == session.uid and (perms >> 6) & right:
        return True
    if gid in session.groups and (perms >> 3) & right:
        return True
    return bool(perms & right)


def allowed(session: Session, obj: PoolObject, right: int, kind: str = "") -> bool:
    if session.is_admin:
        return True
    uid, gid, perms = _ownership(obj)
    if _by_bits(session, uid, gid, perms, right):
        return True
    bit = type_bit(kind)
    return bool(bit) and session.rules.grants(
        session.uid, session.groups,
        Request(bit, _ACL_RIGHTS[right], obj.oid, gid, _clusters(obj)))


def _refused(session: Session, right: int, kind: str, oid: int | None) -> AuthorizationError:
    where = "" if oid is None else f" [{oid}]"
    return AuthorizationError(f"User [{session.uid}] : Not authorized to perform "
                              f"{_RIGHT_NAMES[right]} {kind}{where}.")


def require(session: Session, obj: PoolObject, right: int, kind: str) -> None:
    if not allowed(session, obj, right, kind):
        raise _refused(session, right, kind, obj.oid)


def may_create(session: Session, kind: str) -> bool:
    """CREATE on a type, for an object of the caller's group (add_create_auth)."""
    bit = type_bit(kind)
    return session.is_admin or (bool(bit) and session.rules.grants(
        session.uid, session.groups, Request(bit, RIGHTS["CREATE"], -1, session.gid)))


def require_create(session: Session, kind: str) -> None:
    if not may_create(session, kind):
        raise _refused(session, CREATE, kind, None)


def require_type(session: Session, right: int, kind: str) -> None:
    """A right over a whole type (the ACL rule set, a pool-wide action): only an
    ALL (`TYPE/*`) rule grants it, as for oned's requests without an object."""
    bit = type_bit(kind)
    if not (session.is_admin or (bit and session.rules.grants(
            session.uid, session.groups, Request(bit, _ACL_RIGHTS[right])))):
        raise _refused(session, right, kind, None)


def require_admin(session: Session, what: str) -> None:
    """Only for what no ACL rule can grant (oned's configuration)."""
    if not session.is_admin:
        raise AuthorizationError(f"User [{session.uid}] : Not authorized to perform {what}.")


def _visible(model: type[Owned], session: Session) -> pw.Expression:
    mine = model.uid == session.uid
    group = model.gid.in_(list(session.groups)) & (model.perms.bin_and(0o040) != 0)
    other = model.perms.bin_and(0o004) != 0
    return mine | group | other


def acl_visible(model: type[PoolObject], session: Session, kind: str) -> pw.Expression | None:
    """Objects ACL rules let the caller USE (PoolSQL::acl_filter); None when all."""
    reach = session.rules.reach(session.uid, session.groups, type_bit(kind), RIGHTS["USE"])
    if reach.all:
        return None
    oids = set(reach.oids)
    if reach.cids:
        oids |= _in_clusters(model, reach.cids)
    expr: pw.Expression = model.oid.in_(sorted(oids))
    if reach.gids and hasattr(model, "gid"):
        expr = expr | getattr(model, "gid").in_(sorted(reach.gids))
    return expr


def _in_clusters(model: type[PoolObject], cids: set[int]) -> set[int]:
    """Hosts by their column; networks and datastores by their (few) cluster lists."""
    if model is Host:
        return {oid for (oid,) in rows(Host.select(Host.oid).where(Host.cluster_id.in_(cids)))}
    if model in (Vnet, Datastore):
        query = model.select(model.oid, getattr(model, "clusters"))
        return {obj.oid for obj in query if cids & set(obj.clusters or ())}
    return set()


def pool_filter(model: type[Owned], session: Session, flag: int,
                kind: str = "") -> pw.Expression | None:
    """The WHERE of a pool listing for OpenNebula's filter flag (-4 .. uid)."""
    if flag == -4:
        expr = model.gid == session.gid
    elif flag == -3 or (flag == -1 and session.classic):
        expr = model.uid == session.uid
    elif flag == -2:
        expr = None
    elif flag == -1:
        expr = (model.uid == session.uid) | model.gid.in_(list(session.groups))
    elif flag >= 0:
        expr = model.uid == flag
    else:
        raise ApiError(f"Incorrect filter_flag {flag}.")
    if session.is_admin:
        return expr
    visible: pw.Expression | None = _visible(model, session)
    if kind:
        extra = acl_visible(model, session, kind)
        visible = None if extra is None else visible | extra
    if visible is None:
        return expr
    return visible if expr is None else expr & visible
