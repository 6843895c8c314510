"""/response-headers: every query pair becomes a response header, and the body lists them all.

The body is a JSON object of the response's headers, ``Content-Length``
included, so its length has to appear inside itself: it is rendered again
with the length of the previous rendering until the two agree (the same
iteration as httpbin, from the same starting point, so the same fixed point
when two exist).

A ``Content-Type`` in the query makes the body (the client's own values)
whatever the client says, HTML included, as httpbin does.  Under
``--safe-responses`` (routes/safety.py) such a response is sent as
``text/plain`` with ``X-Content-Type-Options: nosniff`` instead of the
requested types, and the body lists the headers actually sent.
"""

from __future__ import annotations

from typing import Dict, List, Tuple, Union

from flask import Response
from werkzeug.wrappers import Request

from ..jsonify import JSON, dumps_bytes
from ..problems import Problem
from .safety import INERT_TYPE, NOSNIFF, safe_responses
from .wire import header_problem

Pair = Tuple[str, str]
MAX_RENDERINGS = 16  # the length settles in two or three; this only bounds a bug


def response_headers(request: Request) -> Response:
    """Response headers set from the query string, listed in a self-describing JSON body."""
    pairs: List[Pair] = list(request.args.items(multi=True))  # grouped by name, as httpbin
    refused = unsendable(pairs)
    if refused is not None:
        raise Problem("invalid-header", refused)
    content_type = JSON
    if safe_responses(request.environ) and any(name.lower() == "content-type" for name, _ in pairs):
        content_type = INERT_TYPE + "; charset=utf-8"  # the body is JSON text: UTF-8
        pairs = [(name, value) for name, value in pairs if name.lower() not in ("content-type", NOSNIFF[0].lower())]
        pairs.append(NOSNIFF)
    length = len(dumps_bytes([[name, values] for name, values in request.args.lists()]))
    body = render(length, pairs, content_type)
    for _ in range(MAX_RENDERINGS):
        if len(body) == length:
            break
        length = len(body)
        body = render(length, pairs, content_type)
    response = Response(body, content_type=content_type)
    for name, value in pairs:
        response.headers.add(name, value)
    return response


def render(length: int, pairs: List[Pair], content_type: str = JSON) -> bytes:
    """The body for a response whose Content-Length is *length*.

    Each header name, as spelled, maps to its value, or to all values of
    that name (compared without case) when there are several.
    """
    headers = [("Content-Type", content_type), ("Content-Length", str(length))] + pairs
    values: Dict[str, List[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(value)
    listed: Dict[str, Union[str, List[str]]] = {}
    for name, _ in headers:
        same = values[name.lower()]
        listed[name] = same[0] if len(same) == 1 else same
    return dumps_bytes(listed)


def unsendable(pairs: List[Pair]) -> Union[str, None]:
    """Why one of the requested headers cannot go on the wire, or None.

    httpbin lets these through and the request ends in a 500 from Werkzeug
    (CR/LF) or gunicorn (a name that is not a token, a value outside
    Latin-1 or with control characters, a Content-Length that is not a number).
    """
    for name, value in pairs:
        reason = header_problem(name, value)
        if reason is not None:
            return reason + "."
        if name.lower() == "content-length":
            try:
                int(value.strip(" \t"))
            except ValueError:
                return f"Content-Length must be a whole number, not {value!r}."
    return None
