"""May this caller do that? OpenNebula's permission bits and pool filters.

Without ACLs beyond OpenNebula's defaults: oneadmin (uid 0) and members of the
oneadmin group may do anything; others act through the owner/group/other
USE/MANAGE/ADMIN bits of each object.
"""
from __future__ import annotations

import peewee as pw

from one.core.auth import Session
from one.errors import ApiError, AuthorizationError
from one.pool.models import Owned

USE, MANAGE, ADMIN = 4, 2, 1
_RIGHT_NAMES = {USE: "USE", MANAGE: "MANAGE", ADMIN: "ADMIN"}


def allowed(session: Session, obj: Owned, right: int) -> bool:
    if session.is_admin:
        return True
    if obj.uid == session.uid and (obj.perms >> 6) & right:
        return True
    if obj.gid in session.groups and (obj.perms >> 3) & right:
        return True
    return bool(obj.perms & right)


def require(session: Session, obj: Owned, right: int, kind: str) -> None:
    if not allowed(session, obj, right):
        raise AuthorizationError(
            f"User [{session.uid}] : Not authorized to perform {_RIGHT_NAMES[right]} "
            f"{kind} [{obj.oid}].")


def require_admin(session: Session, what: str) -> None:
    if not session.is_admin:
        raise AuthorizationError(f"User [{session.uid}] : Not authorized to perform {what}.")


def _visible(model: type[Owned], session: Session) -> pw.Expression:
    mine = model.uid == session.uid
    group = model.gid.in_(list(session.groups)) & (model.perms.bin_and(0o040) != 0)
    other = model.perms.bin_and(0o004) != 0
    return mine | group | other


def pool_filter(model: type[Owned], session: Session, flag: int) -> pw.Expression | None:
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
    visible = _visible(model, session)
    return visible if expr is None else expr & visible
