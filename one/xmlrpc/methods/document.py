"""one.document.* and one.documentpool.info (OpenNebula 7.4 signatures)."""
from __future__ import annotations

from one.core.auth import Session
from one.core.authz import MANAGE
from one.core.managers import Managers
from one.pool.models import Document
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import owned_listing
from one.xmlrpc.methods.ownership import register_ownership
from one.xmlrpc.wire import Escaped


def register(api: Api, m: Managers) -> None:
    documents, pool = m.documents, m.pools.documents

    api.add("one.document.allocate", [S("template"), I("type")], documents.allocate,
            "Stores a document of a type the client chooses (NAME required).")

    def info(s: Session, oid: int, decrypt: bool = False) -> Escaped:
        documents.visible(s, oid)
        return Escaped([pool.text(oid)])

    api.add("one.document.info", [I("id"), B("decrypt", False)], info, "Returns a document.")
    api.add("one.document.update", [I("id"), S("template"), I("append", 0)],
            returns_id(documents.update), "Replaces (0) or merges (1) the template.")
    api.add("one.document.delete", [I("id")], returns_id(documents.delete), "Deletes a document.")
    api.add("one.document.clone", [I("id"), S("name")], documents.clone,
            "Copies a document (same type) owned by the caller.")
    register_ownership(api, "one.document", pool,
                       lambda s, oid, right=MANAGE: documents.get(s, oid, right))
    api.add("one.document.lock", [I("id"), I("level", 4), B("test", False)],
            returns_id(documents.lock), "Locks: 1 USE, 2 MANAGE, 3 ADMIN, 4 ALL.")
    api.add("one.document.unlock", [I("id")], returns_id(documents.unlock), "Lifts the lock.")

    def listed(s: Session, flag: int, start: int = -1, end: int = -1, kind: int = -1) -> Escaped:
        typed = None if kind < 0 else Document.kind == kind
        return owned_listing(pool, "DOCUMENT_POOL", s, flag, start, end, typed)

    api.add("one.documentpool.info", [I("filter"), I("start", -1), I("end", -1), I("type", -1)],
            listed, "Lists documents (filter -4..uid, id range, type; -1 every type).")
