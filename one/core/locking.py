"""OpenNebula's object locks (one.<kind>.lock/unlock), for any model with a `lock` column.

A lock level names the operations it stops: USE (1) and ALL (4) stop every
operation, MANAGE (2) stops MANAGE and ADMIN ones, ADMIN (3) only ADMIN ones.
Reading the object (info, listings) is never stopped. A lock is the owner's
(or the oneadmin group's) to lift.
"""
from __future__ import annotations

import time
from typing import Any, Generic, TypeVar

from one.core.auth import Session
from one.core.authz import ADMIN, MANAGE, USE, require
from one.errors import ActionError, ApiError, LockedError
from one.pool.models import Owned
from one.pool.pool import Pool

LEVELS = {1: "USE", 2: "MANAGE", 3: "ADMIN", 4: "ALL"}
# The operation level of each right: a lock of level L stops operations of level >= L.
_OPERATION_LEVEL = {USE: 1, MANAGE: 2, ADMIN: 3}


def check(obj: Any, right: int, kind: str) -> None:
    """Refuse (LOCKED) an operation needing `right` that the object's lock stops."""
    level = int(obj.lock.get("LOCKED", 0)) if obj.lock else 0
    if not level:
        return
    if _OPERATION_LEVEL[right] >= (1 if level == 4 else level):
        raise LockedError(f"{kind} [{obj.oid}] is locked ({LEVELS[level]}): unlock it first.")


def lock(session: Session, pool: Pool, oid: int, level: int, test: bool, kind: str) -> None:
    """Lock at `level`; with `test`, an object locked already is refused (ACTION)."""
    if level not in LEVELS:
        raise ApiError(f"Wrong lock level {level}: 1 USE, 2 MANAGE, 3 ADMIN or 4 ALL.")
    with pool.modify(oid) as obj:
        require(session, obj, MANAGE, kind)
        if obj.lock and test:
            raise ActionError(f"{kind} [{oid}] is already locked.")
        if obj.lock and obj.lock.get("OWNER") != session.uid and not session.is_admin:
            raise LockedError(f"{kind} [{oid}] is locked by user [{obj.lock.get('OWNER')}].")
        obj.lock = {"LOCKED": level, "OWNER": session.uid, "TIME": int(time.time()), "REQ_ID": 0}


def unlock(session: Session, pool: Pool, oid: int, kind: str) -> None:
    """Lift the lock: its owner or the oneadmin group; unlocking an unlocked object is a no-op."""
    with pool.modify(oid) as obj:
        require(session, obj, MANAGE, kind)
        if obj.lock and obj.lock.get("OWNER") != session.uid and not session.is_admin:
            raise LockedError(f"{kind} [{oid}] is locked by user [{obj.lock.get('OWNER')}].")
        obj.lock = {}


LockableT = TypeVar("LockableT", bound=Owned)


class Lockable(Generic[LockableT]):
    """Reading, guarded access and locks of a manager over one pool of owned objects
    with a `lock` column (templates, documents): written once, inherited by each."""

    pool: Pool[LockableT]
    kind: str

    def visible(self, session: Session, oid: int) -> LockableT:
        """The object to read (info): USE, whatever its lock."""
        obj = self.pool.get(oid)
        require(session, obj, USE, self.kind)
        return obj

    def get(self, session: Session, oid: int, right: int = USE) -> LockableT:
        """The object to act on, with `right` checked and its lock respected."""
        obj = self.pool.get(oid)
        require(session, obj, right, self.kind)
        check(obj, right, self.kind)
        return obj

    def lock(self, session: Session, oid: int, level: int, test: bool = False) -> None:
        lock(session, self.pool, oid, level, test, self.kind)

    def unlock(self, session: Session, oid: int) -> None:
        unlock(session, self.pool, oid, self.kind)
