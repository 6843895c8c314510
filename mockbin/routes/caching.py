"""Caching: conditional requests against /cache and /etag, and Cache-Control from /cache/<n>.

These follow httpbin 0.10.4 exactly, including its loose reading of the
conditional headers: ``/cache`` treats any ``If-None-Match`` (even empty) or
a non-empty ``If-Modified-Since`` as a hit, and ``/etag`` takes entity tags
apart without honouring quotes or weakness (``W/"x"``, ``"x"`` and ``x``
all mean ``x``).  The one difference: an ETag that cannot travel in a
response header (control characters, characters past U+00FF) gets a 400,
where httpbin's server fails with a 500.
"""

from __future__ import annotations

import re
import uuid
from typing import List, Optional

from flask import Response
from werkzeug.http import http_date
from werkzeug.wrappers import Request

from ..echo import GET_KEYS, echo
from ..jsonify import json_response
from .query import invalid

# What RFC 9110 allows in a field value (and gunicorn checks): tab, space,
# visible ASCII and the obs-text bytes 0x80-0xFF, sent as Latin-1.
HEADER_SAFE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")


def cache(request: Request) -> Response:
    """The /get echo with Last-Modified and a fresh ETag, or 304 to any conditional request."""
    environ = request.environ
    conditional = environ.get("HTTP_IF_MODIFIED_SINCE") or environ.get("HTTP_IF_NONE_MATCH")
    if conditional is not None:
        return Response(status=304)
    response = json_response(echo(request, GET_KEYS))
    response.headers["Last-Modified"] = http_date()
    response.headers["ETag"] = uuid.uuid4().hex
    return response


def cache_for(request: Request, value: int) -> Response:
    """The /get echo with Cache-Control: public, max-age=value."""
    response = json_response(echo(request, GET_KEYS))
    response.headers["Cache-Control"] = f"public, max-age={value}"
    return response


def entity_tags(header: Optional[str]) -> List[str]:
    """The tags httpbin reads from If-None-Match or If-Match.

    The value is split on every comma; from each item, leading whitespace,
    a ``W/`` and an opening quote are dropped, and the tag runs to the next
    quote or the end (so trailing spaces of an unquoted tag are kept).
    """
    if not header:
        return []
    tags: List[str] = []
    for item in header.split(","):
        item = item.lstrip()
        if item.startswith("W/"):
            item = item[2:]
        if item.startswith('"'):
            item = item[1:]
        tags.append(item.split('"', 1)[0])
    return tags


def etag(request: Request, etag: str) -> Response:
    """The /get echo with ETag: etag, or 304 / 412 as If-None-Match / If-Match decide."""
    if not HEADER_SAFE.fullmatch(etag):
        raise invalid("etag", etag, "text a header can carry (no control characters, nothing past U+00FF)")
    if_none_match = entity_tags(request.environ.get("HTTP_IF_NONE_MATCH"))
    if_match = entity_tags(request.environ.get("HTTP_IF_MATCH"))
    if if_none_match:
        if etag in if_none_match or "*" in if_none_match:
            response = Response(status=304)
            response.headers["ETag"] = etag
            return response
    elif if_match and etag not in if_match and "*" not in if_match:
        return Response(status=412)
    response = json_response(echo(request, GET_KEYS))
    response.headers["ETag"] = etag
    return response
