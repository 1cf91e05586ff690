"""Fields of oned's documents as the campaigns read them."""
from __future__ import annotations

from lxml import etree

from bench.rpc import BenchError


def integer(doc: etree._Element, path: str) -> int:
    """The integer at `path` ("." for `doc`'s own text), a field oned's schema requires:
    BenchError if `doc` lacks it, as a campaign cannot judge an object whose id or state
    it cannot read."""
    text = doc.findtext(path)
    if text is None:
        raise BenchError(f"{doc.getroottree().getpath(doc)} has no {path}")
    return int(text)
