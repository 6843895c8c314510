"""HTTP methods: the echo endpoints /get, /post, /put, /patch, /delete and /anything."""

from __future__ import annotations

from typing import Any, Dict

from werkzeug.wrappers import Request

from ..echo import ANYTHING_KEYS, BODY_KEYS, GET_KEYS, echo


def get(request: Request) -> Dict[str, Any]:
    """The request's query args, headers, origin and URL."""
    return echo(request, GET_KEYS)


def post(request: Request) -> Dict[str, Any]:
    """The POST request's args, body (data, form, files, json), headers, origin and URL."""
    return echo(request, BODY_KEYS)


def put(request: Request) -> Dict[str, Any]:
    """The PUT request's args, body (data, form, files, json), headers, origin and URL."""
    return echo(request, BODY_KEYS)


def patch(request: Request) -> Dict[str, Any]:
    """The PATCH request's args, body (data, form, files, json), headers, origin and URL."""
    return echo(request, BODY_KEYS)


def delete(request: Request) -> Dict[str, Any]:
    """The DELETE request's args, body (data, form, files, json), headers, origin and URL."""
    return echo(request, BODY_KEYS)


def anything(request: Request, path: str = "") -> Dict[str, Any]:
    """Everything about the request, method included, for any method and any subpath."""
    return echo(request, ANYTHING_KEYS)
