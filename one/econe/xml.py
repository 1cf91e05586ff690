"""EC2 response documents, stable EC2 ids of ONE objects, ONE template text."""
from __future__ import annotations

import re
from typing import Iterable, Union

from xml.sax.saxutils import escape

from lxml import etree

from one.econe.errors import Ec2Error

NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
Element = etree._Element
Part = Union[Element, str]  # a part of a response: an element, or one already written as text


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


def response(action: str, request_id: str, body: Iterable[Part]) -> bytes:
    """The document, joined as text: a DescribeInstances of 10,000 is megabytes that
    a tree would only take apart again."""
    parts = "".join(part if isinstance(part, str) else etree.tostring(part, encoding="unicode")
                    for part in body)
    return (f"<?xml version='1.0' encoding='UTF-8'?>\n<{action}Response xmlns=\"{NAMESPACE}\">"
            f"{text('requestId', request_id)}{parts}</{action}Response>").encode()


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
