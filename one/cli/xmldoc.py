"""oned's XML replies: parsing, and the JSON shape scripts get from --json."""
from __future__ import annotations

from typing import Any, Union, cast

from lxml import etree

from one.cli.errors import CliError

Element = etree._Element
Data = Union[str, dict[str, Any], list[Any]]


# oned's own documents may hold values beyond libxml2's default 10 MB text limit
# (stored before oned capped them): they must still list.
_PARSER = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


def parse(document: str) -> Element:
    try:
        return etree.fromstring(document.encode(), _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise CliError(f"The server sent a document that is not XML: {exc}") from None


def tag(element: Element) -> str:
    """An element's name. lxml types `tag` as whatever was last assigned (str, bytes,
    QName); elements parsed from a document always carry it as text."""
    return cast(str, element.tag)


def element_data(element: Element) -> Data:
    """Leaves become strings; an element repeated under one parent becomes a list."""
    groups: dict[str, list[Data]] = {}
    for child in element:
        if isinstance(child.tag, str):  # skip comments and processing instructions
            groups.setdefault(child.tag, []).append(element_data(child))
    if not groups:
        return element.text or ""
    return {tag: values if len(values) > 1 else values[0] for tag, values in groups.items()}


def document_data(root: Element, item: str | None = None) -> dict[str, Data]:
    """The document as `{ROOT: ...}`; `item` (a pool's VM, HOST...) is always a list.

    Forcing the list keeps `.VM_POOL.VM[]` valid in a script whether the pool
    holds zero, one or many objects.
    """
    body = element_data(root)
    if item is not None:
        body = body if isinstance(body, dict) else {}
        found = body.get(item, [])
        body = {**body, item: found if isinstance(found, list) else [found]}
    return {tag(root): body}
