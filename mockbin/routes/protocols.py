"""Protocol features (beyond httpbin): HTTP trailers and a WebSocket echo, as go-httpbin serves them.

Neither fits WSGI, whose servers own the framing: both take the client
connection over (:mod:`mockbin.faults.takeover`) and write HTTP/1.1 or
WebSocket frames themselves, then close the connection.  Under an engine
that exposes no socket (granian) they answer a 501 ``engine-cannot``
problem; ``/trailers`` over gunicorn's HTTP/2 uses its trailer hook instead.
"""

from __future__ import annotations

import logging
from typing import List, Tuple
from urllib.parse import parse_qsl

from flask import Response
from werkzeug.wrappers import Request

from ..cors import cors_headers
from ..echo import ANYTHING_KEYS, echo
from ..faults.takeover import Connection, TakenOver, head, is_http2, server_headers
from ..jsonify import JSON, dumps_bytes
from ..problems import Problem
from ..settings import settings_of
from .query import invalid, lookup_exact, to_int
from .websocket import EchoSession, handshake
from .wire import header_problem

#: Fields a trailer must not carry (framing, routing, authentication, cookies), as go-httpbin refuses them.
FORBIDDEN_TRAILERS = frozenset(
    name.lower()
    for name in (
        "Authorization", "Cache-Control", "Content-Encoding", "Content-Length", "Content-Range",
        "Content-Type", "Host", "Max-Forwards", "Set-Cookie", "TE", "Trailer", "Transfer-Encoding",
    )
)
H2_TRAILERS = "gunicorn.http2.send_trailers"

log = logging.getLogger("mockbin")


def canonical(name: str) -> str:
    """``x-checksum`` -> ``X-Checksum``: how trailer names are sent (Go's canonical form)."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def trailer_fields(request: Request) -> List[Tuple[str, str]]:
    """The query's ``name=value`` pairs as trailer fields, in order; a 400 problem for one that cannot be sent."""
    fields = []
    query = request.environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
    for name, value in parse_qsl(query, keep_blank_values=True):  # in the order sent, repeats apart
        if name.lower() in FORBIDDEN_TRAILERS:
            raise Problem("invalid-trailer", f"{name} is not allowed in a trailer (RFC 9110, section 6.5.1).",
                          trailer=name)
        problem = header_problem(name, value)
        if problem is not None:
            raise Problem("invalid-trailer", f"The trailer cannot be sent: {problem}.", trailer=name)
        fields.append((canonical(name), value))
    return fields


def trailers(request: Request) -> Response:
    """The request as JSON in a chunked body, then each query parameter as a trailer field."""
    environ = request.environ
    fields = trailer_fields(request)
    names = list(dict.fromkeys(name for name, _ in fields))
    body = dumps_bytes(echo(request, ANYTHING_KEYS))
    announce = [("Trailer", ", ".join(names))] if names else []
    if is_http2(environ) and callable(environ.get(H2_TRAILERS)):
        environ[H2_TRAILERS](fields)
        response = Response(body, content_type=JSON)
        for name, value in announce:
            response.headers[name] = value
        return response
    if environ.get("SERVER_PROTOCOL") == "HTTP/1.0":
        raise Problem("invalid-trailer", "HTTP/1.0 has no chunked framing, so no trailers: use HTTP/1.1.")
    conn = Connection.take(environ, "/trailers")
    headers = server_headers(environ) + [("Content-Type", JSON)] + announce
    headers += [("Transfer-Encoding", "chunked"), ("Connection", "close")] + cors_headers(environ)
    wire = head("200 OK", headers)
    if request.method != "HEAD":
        trailer = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("latin-1")
        wire += b"%x\r\n%s\r\n0\r\n%s\r\n" % (len(body), body, trailer)
    conn.send(wire)
    return TakenOver(200, conn)  # closes the connection once the status is recorded


def _size(request: Request, name: str, default: int, limit: int) -> int:
    raw = lookup_exact(request.args, name)
    if raw is None:
        return default
    value = to_int(name, raw)
    if not 1 <= value <= limit:
        raise invalid(name, raw, f"a number of bytes from 1 to {limit} (--max-body-size)")
    return value


def websocket_echo(request: Request) -> Response:
    """A WebSocket echo (RFC 6455): each message comes back in frames of at most max_fragment_size bytes."""
    settings = settings_of(request.environ)
    limit = max(1, settings.max_body_size)
    max_message = _size(request, "max_message_size", limit, limit)
    max_fragment = _size(request, "max_fragment_size", min(max(1, limit // 2), max_message), limit)
    if max_fragment > max_message:
        raise invalid(
            "max_fragment_size", str(max_fragment), f"at most max_message_size ({max_message})"
        )
    ws, accept = handshake(request.environ)
    conn = Connection.take(request.environ, "/websocket/echo")
    try:
        EchoSession(conn, ws, max_fragment, max_message, settings.max_duration).run(accept)
    except Exception:  # after the 101 no HTTP error can be sent: log it, reset the connection
        log.exception("WebSocket echo session failed")
        conn.reset()
    return TakenOver(101, conn)
