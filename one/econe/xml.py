"""EC2 response documents, stable EC2 ids of ONE objects, ONE template text."""
from __future__ import annotations

import re
from typing import Iterable

from xml.sax.saxutils import escape

from lxml import etree

from one.econe.errors import Ec2Error

NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
Element = etree._Element
HUGE = etree.XMLParser(huge_tree=True)  # a DescribeInstances of 10,000 is megabytes


def text(tag: str, value: object) -> str:
    """<tag>value</tag> as text, for the documents too big to build node by node."""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def node(tag: str, text: object = None, children: Iterable[Element] = ()) -> Element:
    element = etree.Element(tag)
    if text is not None:
        element.text = str(text)
    element.extend(children)
    return element


def item_set(tag: str, items: Iterable[Element]) -> Element:
    """EC2's lists: <tagSet><item>...</item>...</tagSet>."""
    return node(tag, children=items)


def fields(tag: str, values: dict[str, object]) -> Element:
    return node(tag, children=[node(k, v) for k, v in values.items() if v is not None])


def response(action: str, request_id: str, body: Iterable[Element]) -> bytes:
    root = etree.Element(f"{action}Response", nsmap={None: NAMESPACE})
    root.append(node("requestId", request_id))
    root.extend(body)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# Stable ids: the ONE object id in hex, so ami-0000000a is image 10 and i-0000000a VM 10.
_ID = re.compile(r"^(ami|i|eipalloc)-([0-9a-f]{8})$")


def ec2_id(prefix: str, oid: int | str) -> str:
    return f"{prefix}-{int(oid):08x}"


def one_id(text: str, prefix: str, not_found: str) -> int:
    match = _ID.match(text)
    if match is None or match.group(1) != prefix:
        raise Ec2Error(not_found.replace(".NotFound", ".Malformed"),
                       f"Invalid id: \"{text}\" (expecting \"{prefix}-xxxxxxxx\")")
    return int(match.group(2), 16)


def quoted(value: str) -> str:
    """A value inside a ONE template's double quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
