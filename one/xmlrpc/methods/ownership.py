"""rename, chown and chmod, the same for every owned object kind."""
from __future__ import annotations

from typing import Callable

from one.core import ownership
from one.core.auth import Session
from one.core.authz import MANAGE
from one.pool.models import Owned
from one.pool.pool import Pool
from one.xmlrpc.api import Api, I, S, returns_id

PERMISSION_PARAMS = [I(n) for n in ("ou", "om", "oa", "gu", "gm", "ga", "tu", "tm", "ta")]
Getter = Callable[..., Owned]


def register_ownership(api: Api, prefix: str, pool: Pool, get: Getter, rename: bool = True,
                       chmod: bool = True,
                       moved: Callable[[Owned, int, int], None] | None = None) -> None:
    """`<prefix>.rename` and `.chmod` (unless the kind has its own), `.chown`;
    `get(session, id[, right])` checks access (the verbs load the object again
    inside their write); `moved` is the core's reaction to a chown (quotas)."""
    def renamed(s: Session, oid: int, name: str) -> None:
        get(s, oid, MANAGE)
        ownership.rename(s, pool, oid, name)

    def chown(s: Session, oid: int, uid: int, gid: int) -> None:
        get(s, oid)
        ownership.chown(s, pool, oid, uid, gid, moved)

    def chmodded(s: Session, oid: int, *bits: int) -> None:
        get(s, oid)
        ownership.chmod(s, pool, oid, bits)

    if rename:
        api.add(f"{prefix}.rename", [I("id"), S("name")], returns_id(renamed), "Renames.")
    api.add(f"{prefix}.chown", [I("id"), I("uid"), I("gid")], returns_id(chown),
            "Changes owner and group (-1 keeps).")
    if chmod:
        api.add(f"{prefix}.chmod", [I("id")] + PERMISSION_PARAMS, returns_id(chmodded),
                "Changes permissions (-1 keeps a bit).")
