"""Search, sort and paging, one mechanism for every list of the console.

A list's state (search text, sort column, direction, page) lives in the URL, so a
link or a reload shows the same rows; `read_query` checks it. Without a search and
in id order a page is one ranged call to oned (or a cut of the listings that take
no range); otherwise the rows the user may see are read in bounded chunks,
filtered, sorted and cut: oned's pool methods neither search nor sort.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Collection, Generic, Iterator, Mapping, Protocol, TypeVar

from lxml import etree

from one.cli.client import Client
from one.web.app import MAX_INT, Refused, whole

ALL = -2             # pool filter: everything the caller may see
SCAN_CHUNK = 2500    # rows per oned call while searching
MAX_SCAN = 200       # chunks: a bound on a search (500,000 rows)
MAX_TEXT = 100       # characters of a search


class Row(Protocol):
    """What the mechanism needs of a list's row."""

    @property
    def id(self) -> int: ...

    def words(self) -> tuple[str, ...]:
        """The texts a search looks in."""

    def key(self, column: str) -> tuple[object, int]:
        """The row's sort key for `column` (ties broken by id)."""


R = TypeVar("R", bound=Row)


@dataclass(frozen=True)
class ListQuery:
    """What a list page asks for: a search text, a sort, a page."""
    text: str = ""
    sort: str = "id"
    descending: bool = False
    page: int = 0
    size: int = 25
    state: int = -1     # the VM list's state filter (oned's): -1 all but DONE

    @property
    def direct(self) -> bool:
        """oned's own order (by id) with no search: one ranged call does it."""
        return not self.text and self.sort == "id" and not self.descending

    def href(self, **changes: object) -> str:
        """This query as a URL's query string, with `changes` (a pager's or a header's)."""
        values: dict[str, object] = {"q": self.text, "state": self.state, "sort": self.sort,
                                     "desc": int(self.descending), "page": self.page}
        values.update(changes)
        defaults = {"q": "", "state": -1, "sort": "id", "desc": 0, "page": 0}
        kept = {key: value for key, value in values.items() if value != defaults[key]}
        return "?" + urllib.parse.urlencode(kept)

    def header(self, column: str) -> str:
        """A column header's link: sort by it, the other way round if it is the sort."""
        return self.href(sort=column, page=0,
                         desc=int(self.sort == column and not self.descending))


def read_query(args: Mapping[str, str], sorts: Collection[str], size: int) -> ListQuery:
    """The query of a list's URL. An unknown sort column or a page beyond what oned can
    address is refused (400); a page that is not a whole number is the first."""
    sort = args.get("sort", "id") or "id"
    if sort not in sorts:
        raise Refused(f"Unknown sort column '{sort[:40]}': one of {', '.join(sorts)}.")
    text = args.get("page", "")
    page = whole(text) if text.isdigit() else 0  # not a whole number (-3, x): the first
    last = MAX_INT // size - 2
    if page is None or page > last:
        raise Refused(f"Page {text[:20]} is beyond the last possible page ({last}).")
    return ListQuery(text=args.get("q", "").strip()[:MAX_TEXT], sort=sort,
                     descending=args.get("desc") == "1", page=page, size=size)


@dataclass(frozen=True)
class Source(Generic[R]):
    """Where a list's rows come from: oned's pool method, its element, the row maker."""
    method: str
    element: str
    ranged: bool                   # it takes (filter, start, -size, *tail): oned pages it
    convert: Callable[[etree._Element], R]
    tail: tuple[int, ...] = ()     # arguments after the range (the VM list's state)

    def window(self, client: Client, start: int, count: int) -> list[R]:
        """`count` rows from the `start`th: oned's range, or a cut of the whole listing."""
        if self.ranged:
            doc = client.document(self.method, ALL, start, -count, *self.tail)
            return [self.convert(item) for item in doc.iterfind(self.element)]
        items = client.document(self.method).iterfind(self.element)
        return [self.convert(item) for item in islice(items, start, start + count)]

    def scan(self, client: Client) -> Iterator[R]:
        """Every row the caller may see, read chunk by chunk (bounded)."""
        if not self.ranged:
            yield from map(self.convert, client.document(self.method).iterfind(self.element))
            return
        for chunk in range(MAX_SCAN):
            batch = self.window(client, chunk * SCAN_CHUNK, SCAN_CHUNK)
            yield from batch
            if len(batch) < SCAN_CHUNK:
                return


@dataclass
class ListPage(Generic[R]):
    rows: list[R]
    more: bool          # is there a next page
    matched: int = -1   # rows matching a search (-1: not counted, a direct page)


def list_page(client: Client, source: Source[R], query: ListQuery) -> ListPage[R]:
    """The page `query` asks for: one window of oned's order, or scan, filter, sort, cut."""
    start = query.page * query.size
    if query.direct:
        rows = source.window(client, start, query.size + 1)
        return ListPage(rows[:query.size], len(rows) > query.size)
    needle = query.text.lower()
    found = [row for row in source.scan(client)
             if not needle or any(needle in word.lower() for word in row.words())]
    found.sort(key=lambda row: row.key(query.sort), reverse=query.descending)
    return ListPage(found[start:start + query.size], len(found) > start + query.size, len(found))
