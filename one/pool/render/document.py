"""DOCUMENT documents of the 7.4 API (document.xsd): the listing carries each whole."""
from __future__ import annotations

from one.pool.models import Document
from one.pool.render.common import owner_fields, permissions
from one.pool.render.vmtemplate import lock_xml


def render_document(obj: Document) -> tuple[str, str]:
    body = (f"<DOCUMENT>{owner_fields(obj)}<TYPE>{obj.kind}</TYPE>{permissions(obj.perms)}"
            f"{lock_xml(obj.lock)}{obj.template.to_xml()}</DOCUMENT>")
    return body, body
