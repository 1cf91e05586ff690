"""Service templates and services as oned documents, read and written over XML-RPC.

The JSON travels in the template's BODY; what REST clients get back is the
document turned into JSON the way OneFlow does it (every field a string, the
BODY parsed), `{"DOCUMENT": {...}}` or `{"DOCUMENT_POOL": {"DOCUMENT": [...]}}`.
"""
from __future__ import annotations

import json
from typing import Any

from lxml import etree

from one.cli.client import Client
from one.cli.errors import ServerError

NO_EXISTS = 0x400
_OWNER = ("ID", "UID", "GID", "UNAME", "GNAME", "NAME", "TYPE")


def body_template(body: dict[str, Any], name: str | None = None) -> str:
    """`<TEMPLATE>` holding the JSON (CDATA split where the JSON itself holds ']]>')."""
    text = json.dumps(body, separators=(",", ":")).replace("]]>", "]]]]><![CDATA[>")
    named = f"<NAME><![CDATA[{name}]]></NAME>" if name is not None else ""
    return f"<TEMPLATE>{named}<BODY><![CDATA[{text}]]></BODY></TEMPLATE>"


def as_json(doc: etree._Element) -> dict[str, Any]:
    """One DOCUMENT element as OneFlow's JSON."""
    out: dict[str, Any] = {key: doc.findtext(key) or "" for key in _OWNER}
    out["PERMISSIONS"] = {p.tag: p.text for p in doc.iterfind("PERMISSIONS/*")}
    if doc.find("LOCK") is not None:
        out["LOCK"] = {p.tag: p.text for p in doc.iterfind("LOCK/*")}
    out["TEMPLATE"] = {"BODY": body_of(doc)}
    return out


def number(doc: etree._Element, path: str) -> int:
    """An integer field of an oned document (-1 if absent)."""
    return int(doc.findtext(path) or -1)


def body_of(doc: etree._Element) -> dict[str, Any]:
    text = doc.findtext("TEMPLATE/BODY") or "{}"
    body = json.loads(text)
    return body if isinstance(body, dict) else {}


class Documents:
    """Documents of one TYPE, through one caller's session (oned checks its rights)."""

    def __init__(self, client: Client, kind: int) -> None:
        self.client, self.kind = client, kind

    def element(self, oid: int) -> etree._Element:
        doc = self.client.document("one.document.info", oid)
        if number(doc, "TYPE") != self.kind:
            raise ServerError(f"Error getting document [{oid}].", NO_EXISTS)
        return doc

    def body(self, oid: int) -> dict[str, Any]:
        return body_of(self.element(oid))

    def show(self, oid: int) -> dict[str, Any]:
        return {"DOCUMENT": as_json(self.element(oid))}

    def elements(self, flag: int = -2) -> list[etree._Element]:
        return list(self.client.document("one.documentpool.info", flag, -1, -1, self.kind))

    def listing(self) -> dict[str, Any]:
        return {"DOCUMENT_POOL": {"DOCUMENT": [as_json(d) for d in self.elements()]}}

    def create(self, name: str, body: dict[str, Any]) -> int:
        return int(self.client.call("one.document.allocate", body_template(body, name), self.kind))

    def save(self, oid: int, body: dict[str, Any]) -> None:
        self.client.call("one.document.update", oid, body_template(body), 0)

    def delete(self, oid: int) -> None:
        self.client.call("one.document.delete", oid)
