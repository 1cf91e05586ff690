"""Generic documents (one.document.*): typed, owned, lockable templates oned only stores.

OpenNebula keeps them for its own clients -- OneFlow saves service templates
(TYPE 101) and services (TYPE 100) as documents, their JSON in BODY -- so oned
checks ownership, permissions and locks and never reads the content.
"""
from __future__ import annotations

from one.core import locking, ownership
from one.core.auth import Session
from one.core.authz import MANAGE, USE, require_create
from one.errors import ApiError
from one.pool.models import Document
from one.pool.pools import Pools
from one.pool.template import Template, parse

KIND = "DOCUMENT"


class DocumentManager(locking.Lockable[Document]):
    kind = KIND

    def __init__(self, pools: Pools, umask: int) -> None:
        self.pools, self.pool, self.umask = pools, pools.documents, umask

    def allocate(self, session: Session, text: str, kind: int) -> int:
        """A new document of TYPE `kind`, named by the template's NAME."""
        if kind < 0:
            raise ApiError(f"Wrong document type {kind}: it cannot be negative.")
        template = parse(text, self.pools.limits)
        name = ownership.check_name(template.get("NAME") or "", "document")
        template.remove("NAME")
        return self._insert(session, name, kind, template)

    def _insert(self, session: Session, name: str, kind: int, template: Template) -> int:
        require_create(session, KIND)
        obj = Document(name=name, kind=kind, uid=session.uid, gid=session.gid,
                       uname=session.uname, gname=session.gname,
                       perms=0o777 & ~self.umask, template=template)
        with self.pools.store.write():
            return self.pool.allocate(obj).oid

    def update(self, session: Session, oid: int, text: str, append: int = 0) -> None:
        new = parse(text, self.pools.limits)
        self.get(session, oid, MANAGE)
        with self.pool.modify(oid) as obj:
            obj.template = ownership.updated_template(obj.template, new, append,
                                                      self.pools.limits)

    def delete(self, session: Session, oid: int) -> None:
        with self.pools.store.write():
            self.pool.drop(self.get(session, oid, MANAGE))

    def clone(self, session: Session, oid: int, name: str) -> int:
        """A copy of the document, of its type, owned by the caller."""
        obj = self.get(session, oid, USE)
        ownership.check_name(name, "document")
        return self._insert(session, name, obj.kind, obj.template.copy())
