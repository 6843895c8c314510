"""CORS headers: what httpbin adds to every response so that any browser origin may call it.

The httpbin routes answer every origin, credentials included, as httpbin
does.  mockbin's own API under ``/__mockbin/`` never gets these headers: it
refuses other origins instead (see :mod:`mockbin.admin`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from werkzeug.wrappers import Response

PREFLIGHT_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"

Headers = List[Tuple[str, str]]
ALLOW_CREDENTIALS = ("Access-Control-Allow-Credentials", "true")


def cors_headers(environ: Dict[str, Any]) -> Headers:
    """The CORS headers of a response to the request in *environ*."""
    headers = [("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN", "*")), ALLOW_CREDENTIALS]
    if environ.get("REQUEST_METHOD") == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", PREFLIGHT_METHODS))
        headers.append(("Access-Control-Max-Age", "3600"))
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested is not None:
            headers.append(("Access-Control-Allow-Headers", requested))
    return headers


def add_cors_headers(response: Response, environ: Dict[str, Any]) -> Response:
    """Set (not add) the CORS headers, so a handler cannot override them."""
    for name, value in cors_headers(environ):
        response.headers[name] = value
    return response
