"""Collection pagination: ``_page``/``_per_page`` (json-server style) or ``limit``/``offset``.

Without parameters a GET returns the first ``--store-max-page`` members;
``X-Total-Count`` and the RFC 8288 ``Link`` header (first, prev, next, last)
tell a client how to get the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Mapping, Optional
from urllib.parse import quote

from ..settings import describe
from ..problems import Problem

DEFAULT_PER_PAGE = 10  # json-server's default when _page is given alone
PAGE_STYLE = ("_page", "_per_page")
OFFSET_STYLE = ("offset", "limit")


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    style: str  # "page" or "offset"

    def links(self, base: str, total: int) -> str:
        """The ``Link`` header value for a collection of *total* members at *base*."""
        rels: List[str] = []
        size = max(self.limit, 1)
        last = max((total - 1) // size, 0) * size if total else 0
        targets = [("first", 0)]
        if self.offset > 0:
            targets.append(("prev", max(self.offset - size, 0)))
        if self.offset + size < total:
            targets.append(("next", self.offset + size))
        targets.append(("last", last))
        for rel, offset in targets:
            rels.append(f'<{base}?{self._query(offset)}>; rel="{rel}"')
        return ", ".join(rels)

    def _query(self, offset: int) -> str:
        if self.style == "page":
            return f"_page={offset // max(self.limit, 1) + 1}&_per_page={self.limit}"
        return f"offset={offset}&limit={self.limit}"


def parse_page(args: Mapping[str, str], max_page: int) -> Page:
    """The page a collection GET asks for; 400 for bad or mixed parameters."""
    paged = [name for name in PAGE_STYLE if name in args]
    offsetted = [name for name in OFFSET_STYLE if name in args]
    if paged and offsetted:
        raise _bad(f"use either _page/_per_page or limit/offset, not both ({paged[0]} and {offsetted[0]})")
    if paged:
        page = _number(args, "_page", 1, 1)
        per_page = _number(args, "_per_page", DEFAULT_PER_PAGE, 1)
        _within(per_page, "_per_page", max_page)
        return Page((page - 1) * per_page, per_page, "page")
    offset = _number(args, "offset", 0, 0)
    limit = _number(args, "limit", max_page, 0)
    _within(limit, "limit", max_page)
    return Page(offset, limit, "offset")


def _number(args: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text: Optional[str] = args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,18}", text) or int(text) < minimum:
        raise _bad(f"{name}={text!r} is not a whole number of at least {minimum}")
    return int(text)


def _within(value: int, name: str, max_page: int) -> None:
    if value > max_page:
        raise _bad(f"{name}={value} is above the page limit of {max_page} ({describe('store_max_page')})")


def _bad(detail: str) -> Problem:
    return Problem("bad-pagination", detail)


def quote_path(path: str) -> str:
    """A path as it may appear in a header: non-ASCII and reserved bytes percent-encoded."""
    return quote(path, safe="/!$&'()*+,;=:@-._~")
