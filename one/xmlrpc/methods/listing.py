"""Pool listings: OpenNebula's filter flag, id ranges and pages."""
from __future__ import annotations

import peewee as pw

from one.core.auth import Session
from one.core.authz import pool_filter
from one.errors import ApiError
from one.pool.models import Owned, PoolObject
from one.pool.pool import FULL, SHORT, Pool
from one.pool.render.common import esc
from one.xmlrpc.wire import Escaped

PUBLIC = 0o004  # OTHER_U: what a classic "public" object is


def id_range(model: type[PoolObject], start: int,
             end: int) -> tuple[pw.Expression | None, int, int]:
    """WHERE for `start..end` (-1: open), or a page when end < -1.

    A page is OpenNebula's pagination: start is the offset, -end the size.
    """
    if end < -1:
        return None, -end, max(start, 0)
    expr = None
    if start >= 0:
        expr = model.oid >= start
    if end >= 0:
        if start >= 0 and end < start:
            raise ApiError(f"Wrong id range: {start} > {end}.")
        expr = model.oid <= end if expr is None else expr & (model.oid <= end)
    return expr, 0, 0


def combine(*parts: pw.Expression | None) -> pw.Expression | None:
    result = None
    for part in parts:
        if part is not None:
            result = part if result is None else result & part
    return result


def escaped_pool(root: str, texts: list[bytes], tail: str = "") -> Escaped:
    """`<ROOT>documents tail</ROOT>` from documents already escaped as text."""
    return Escaped([f"&lt;{root}&gt;".encode(), *texts, f"{esc(tail)}&lt;/{root}&gt;".encode()])


def listing(pool: Pool, root: str, where: pw.Expression | None = None, *, full: bool = False,
            limit: int = 0, offset: int = 0, tail: str = "") -> Escaped:
    oids = pool.ids(where, limit, offset)
    return escaped_pool(root, pool.texts(oids, FULL if full else SHORT), tail)


def owned_listing(pool: Pool, root: str, session: Session, flag: int, start: int, end: int,
                  extra: pw.Expression | None = None, full: bool = False) -> Escaped:
    where, limit, offset = id_range(pool.model, start, end)
    return listing(pool, root, combine(pool_filter(pool.model, session, flag, pool.kind), where, extra),
                   full=full, limit=limit, offset=offset)


def classic_owned(model: type[Owned], session: Session, flag: int) -> pw.Expression | None:
    """2.x's filter: -2 all, -1 the caller's plus public ones (OTHER USE), >= 0 that user's."""
    if flag == -1:
        return (model.uid == session.uid) | (model.perms.bin_and(PUBLIC) != 0)
    return model.uid == flag if flag >= 0 else None
