"""Response helpers shared by every route module."""

from __future__ import annotations

import json
from typing import Any, List, Optional, Tuple

from flask import Response
from flask.json.provider import JSONProvider

from .jsonify import dumps, dumps_bytes

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
PREFLIGHT_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"

Headers = List[Tuple[str, str]]


def json_response(value: Any, status: int = 200) -> Response:
    """A body in httpbin's JSON spelling, ``Content-Type`` then ``Content-Length``."""
    return Response(dumps_bytes(value), status=status, content_type=JSON)


def problem(status: int, title: str, detail: str, type_: Optional[str] = None, **extra: Any) -> Response:
    """An RFC 9457 problem document, used by mockbin's own APIs and limits."""
    body = {"type": type_ or "about:blank", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return Response(dumps_bytes(body), status=status, content_type=PROBLEM_JSON)


def cors_headers(environ: dict) -> Headers:
    """What httpbin adds to every response so any browser origin may call it."""
    headers = [
        ("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN", "*")),
        ("Access-Control-Allow-Credentials", "true"),
    ]
    if environ.get("REQUEST_METHOD") == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", PREFLIGHT_METHODS))
        headers.append(("Access-Control-Max-Age", "3600"))
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested is not None:
            headers.append(("Access-Control-Allow-Headers", requested))
    return headers


def add_cors_headers(response: Response, environ: dict) -> Response:
    """Set (not add) the CORS headers, so a handler cannot override them."""
    for name, value in cors_headers(environ):
        response.headers[name] = value
    return response


class HttpbinJSONProvider(JSONProvider):
    """Flask's JSON hooks (``return {...}`` from a view) in httpbin's spelling."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps(obj)

    def loads(self, s: Any, **kwargs: Any) -> Any:
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        value = args[0] if len(args) == 1 else (list(args) or kwargs)
        return json_response(value)
