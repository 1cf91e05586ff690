"""Verbs every owned object shares: rename, chown, chmod, update.

The VM, network (and later image) managers call these with their pool, so the
rules live once: names checked, permission bits validated, owners resolved.
Each verb loads the object it changes inside the write that saves it.
"""
from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from one.core.auth import Session
from one.core.authz import ADMIN, MANAGE, USE, require
from one.errors import AllocateError, ApiError, NoExistsError
from one.pool.models import Group, Owned, User
from one.pool.pool import Pool
from one.pool.render.common import permission_bits
from one.pool.template import Limits, Template, parse

MAX_NAME = 128
OwnedT = TypeVar("OwnedT", bound=Owned)


def check_name(name: str, kind: str, strict: bool = False) -> str:
    """Reject empty, over-long or unprintable names (and, strictly, blanks and ':')."""
    if not name or not name.strip():
        raise ApiError(f"Invalid NAME for {kind}: it cannot be empty.")
    if len(name) > MAX_NAME:
        raise ApiError(f"Invalid NAME for {kind}: max length is {MAX_NAME} chars.")
    if any(ord(c) < 32 for c in name) or (strict and any(c.isspace() or c == ":" for c in name)):
        bad = "blanks, ':' or control characters" if strict else "control characters"
        raise ApiError(f"Invalid NAME for {kind}: it cannot contain {bad}.")
    return name


def rename(session: Session, pool: Pool, oid: int, name: str) -> None:
    check_name(name, pool.kind)
    with pool.modify(oid) as obj:
        require(session, obj, MANAGE, pool.kind)
        obj.name = name


def updated_template(current: Template, text: str | Template, append: int,
                     limits: Limits) -> Template:
    """OpenNebula's update: 0 replaces the template, 1 merges into it; either way
    the result must fit ``limits``, so appends cannot grow it without bound. The
    text may come parsed (with ``limits``), so parsing happens before the writer
    lock is taken."""
    if append not in (0, 1):
        raise ApiError(f"Wrong update type {append}: 0 replaces, 1 merges.")
    new = parse(text, limits) if isinstance(text, str) else text
    if append == 0:
        return new
    merged = current.copy()
    merged.merge(new)
    return limits.check(merged)


def with_attribute(current: Template, name: str, value: str, limits: Limits) -> Template:
    """The classic one-attribute update: a valid name, and a result within ``limits``."""
    try:
        change = Template([(name, value)])
    except ValueError:
        raise ApiError(f"Invalid attribute name '{name[:64]}'.") from None
    merged = current.copy()
    merged.merge(change)
    return limits.check(merged)


def chmod(session: Session, pool: Pool, oid: int, bits: Sequence[int]) -> None:
    """Nine values, -1 keeps a bit; touching ADMIN bits needs the ADMIN right."""
    if len(bits) != 9 or any(b not in (-1, 0, 1) for b in bits):
        raise ApiError("Permissions must be nine values, each -1, 0 or 1.")
    with pool.modify(oid) as obj:
        require(session, obj, MANAGE, pool.kind)
        current = permission_bits(obj.perms)
        if any(b != -1 and b != current[i] for i, b in enumerate(bits) if i % 3 == 2):
            require(session, obj, ADMIN, pool.kind)
        new = [current[i] if b == -1 else b for i, b in enumerate(bits)]
        obj.perms = sum(bit << (8 - i) for i, bit in enumerate(new))


def chown(session: Session, pool: Pool, oid: int, uid: int, gid: int,
          moved: Callable[[Owned, int, int], None] | None = None) -> None:
    """As oned: MANAGE on the object, MANAGE on a new owner (oneadmin's group, or a
    group admin over its users), USE on a new group (its members have it);
    `moved(obj, old_uid, old_gid)` then runs in the same write (quotas follow)."""
    with pool.modify(oid) as obj:
        require(session, obj, MANAGE, pool.kind)
        old = obj.uid, obj.gid
        if uid >= 0:
            user = User.get_or_none(User.oid == uid)
            if user is None:
                raise NoExistsError(f"Error getting user [{uid}].")
            if user.oid != obj.uid:
                require(session, user, MANAGE, "USER")
            obj.uid, obj.uname = user.oid, user.name
        if gid >= 0:
            group = Group.get_or_none(Group.oid == gid)
            if group is None:
                raise NoExistsError(f"Error getting group [{gid}].")
            if group.oid != obj.gid:
                require(session, group, USE, "GROUP")
            obj.gid, obj.gname = group.oid, group.name
        if moved is not None:
            moved(obj, *old)


def referenced(session: Session, model: type[OwnedT], vector: dict[str, str], key: str,
               label: str) -> OwnedT | None:
    """The object a template vector names by `<KEY>_ID`, or `<KEY>` (+ `<KEY>_UNAME`,
    default the caller), which the caller must be allowed to USE; None if it names none."""
    if f"{key}_ID" in vector:
        wanted = vector[f"{key}_ID"]
        if not wanted.isdigit():
            raise AllocateError(f"Wrong {key}_ID '{wanted}'.")
        found = model.get_or_none(model.oid == int(wanted))
    elif key in vector:
        wanted = vector[key]
        owner = vector.get(f"{key}_UNAME", session.uname)
        found = model.get_or_none((model.name == wanted) & (model.uname == owner))
    else:
        return None
    if found is None:
        raise AllocateError(f"{label.capitalize()} {wanted} does not exist.")
    require(session, found, USE, label.upper())
    return found
