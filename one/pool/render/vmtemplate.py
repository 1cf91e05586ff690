"""VMTEMPLATE documents of the 7.4 API (vmtemplate.xsd).

The pool listing carries each template whole, as OpenNebula's does, so the
short and full forms are the same text.
"""
from __future__ import annotations

from typing import Any

from one.pool.models import VmTemplate
from one.pool.render.common import fields, owner_fields, permissions

LOCK_FIELDS = ("LOCKED", "OWNER", "TIME", "REQ_ID")


def lock_xml(lock: dict[str, Any]) -> str:
    """`<LOCK>` of a locked object (shared.xsd LOCK); nothing when it is not locked."""
    return f"<LOCK>{fields(LOCK_FIELDS, lock)}</LOCK>" if lock else ""


def render_vmtemplate(obj: VmTemplate) -> tuple[str, str]:
    body = (f"<VMTEMPLATE>{owner_fields(obj)}{lock_xml(obj.lock)}{permissions(obj.perms)}"
            f"<REGTIME>{obj.regtime}</REGTIME>{obj.template.to_xml()}</VMTEMPLATE>")
    return body, body
