"""Diagnostics (go-httpbin's extras): which server answered, its version, its chosen variables, the raw request.

Behind a load balancer, ``/hostname`` tells replicas apart -- but a real host
name is an information leak on a shared service, so it is a placeholder
unless ``--expose-hostname`` is on.  ``/env`` shows only the environment
variables an operator named for it (prefix ``MOCKBIN_ENV_`` or
``HTTPBIN_ENV_``, go-httpbin's); nothing else of the environment -- tokens,
paths, mockbin's own settings -- can leak through it.  ``/dump/request`` shows the request as
the application received it, re-serialised in HTTP/1.x wire form.
"""

from __future__ import annotations

import os
import socket
from typing import Any, Dict, Iterator, Tuple
from urllib.parse import quote

from flask import Response
from werkzeug.wrappers import Request

from ..version import __version__
from ..echo import excluded_headers, header_fields
from ..settings import settings_of
from .safety import safe_reflection

HOSTNAME_PLACEHOLDER = "mockbin"
#: Only variables named with one of these prefixes appear on ``/env``.
ENV_PREFIXES = ("MOCKBIN_ENV_", "HTTPBIN_ENV_")
DUMP_TYPE = "text/plain; charset=utf-8"


def hostname(request: Request) -> Dict[str, str]:
    """The server's host name; a fixed placeholder unless --expose-hostname is on."""
    exposed = settings_of(request.environ).expose_hostname
    return {"hostname": socket.gethostname() if exposed else HOSTNAME_PLACEHOLDER}


def env(request: Request) -> Dict[str, Dict[str, str]]:
    """The environment variables named MOCKBIN_ENV_* or HTTPBIN_ENV_* (names kept whole); nothing else."""
    return {"env": {name: value for name, value in sorted(os.environ.items()) if name.startswith(ENV_PREFIXES)}}


def version(request: Request) -> Dict[str, str]:
    """The version of mockbin serving this request."""
    return {"version": __version__}


def request_target(environ: Dict[str, Any]) -> str:
    """The target as sent (the server's raw URI when it keeps one), else rebuilt."""
    raw: str = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw:
        return raw
    path = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"))
    query = environ.get("QUERY_STRING", "")
    return path + ("?" + query if query else "")


def request_headers(environ: Dict[str, Any]) -> Iterator[Tuple[str, str]]:
    """Header fields in arrival order, ``Host`` first, minus ``--exclude-headers`` names.

    WSGI keeps no original spelling, so names come back title-cased
    (``X-Request-Id``); repeated fields were already joined with commas.
    """
    excluded = excluded_headers(environ)
    fields = [
        (name, value)
        for name, value in header_fields(environ)
        if excluded is None or not excluded.fullmatch(name)
    ]
    fields.sort(key=lambda field: field[0] != "Host")  # stable: only Host moves
    return iter(fields)


def dump_request(request: Request) -> Response:
    """The request as the server received it, as HTTP/1.x text: request line, headers, body."""
    environ = request.environ
    head = [f"{request.method} {request_target(environ)} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"]
    head.extend(f"{name}: {value}" for name, value in request_headers(environ))
    body = request.get_data()
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower().endswith("chunked"):
        # The server de-chunked the body; frame it again as one chunk.
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    wire = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    return safe_reflection(Response(wire, content_type=DUMP_TYPE), environ)
