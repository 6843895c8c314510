"""The route table: every URL mockbin serves and the function that answers it.

One screen shows the whole surface.  The landing page and ``/openapi.json``
are generated from this same table, so documentation cannot drift from what
the server does.  Each handler takes the request as its first argument and
returns a response or a JSON value; its docstring's first line is its summary.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from flask import Flask, request

from ..catalog import publish
from . import (
    auth,
    caching,
    cookies,
    diagnostics,
    docs,
    dynamic,
    extras,
    faults,
    formats,
    forms,
    images,
    inspection,
    methods,
    protocols,
    redirects,
    response_headers,
    status,
)

GET = ("GET",)
ANY = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")
UPLOADS = ("POST", "PUT", "PATCH")
DIGEST = "/digest-auth/auth/user/passwd"


@dataclass(frozen=True)
class Route:
    rule: str
    view: Callable[..., Any]
    methods: Tuple[str, ...]
    example: Optional[str] = None  # a concrete URL for the docs when the rule has variables
    fast: bool = False  # served by the fast lane (see mockbin/fastlane.py)
    websocket: bool = False  # also answers WebSocket upgrades (Werkzeug routes those apart)

    @property
    def section(self) -> str:
        return self.view.__module__.rsplit(".", 1)[-1]

    @property
    def summary(self) -> str:
        return (self.view.__doc__ or "").strip().splitlines()[0]

    @property
    def endpoint(self) -> str:
        return f"{self.section}.{self.view.__name__}"


def route_table() -> Tuple[Route, ...]:
    """Every route: method-restricted first, then the rest alphabetically."""
    return (
        Route("/get", methods.get, GET, fast=True),
        Route("/post", methods.post, ("POST",), fast=True),
        Route("/put", methods.put, ("PUT",), fast=True),
        Route("/patch", methods.patch, ("PATCH",), fast=True),
        Route("/delete", methods.delete, ("DELETE",), fast=True),
        Route("/upload", extras.upload, UPLOADS),
        Route("/", docs.index, GET),
        Route("/absolute-redirect/<int:n>", redirects.absolute_redirect, GET, "/absolute-redirect/3"),
        Route("/anything", methods.anything, ANY, fast=True),
        Route("/anything/<path:path>", methods.anything, ANY, "/anything/foo/bar"),
        Route("/base64/<value>", dynamic.decode_base64, GET, "/base64/SFRUUEJJTiBpcyBhd2Vzb21l"),
        Route("/base64/decode/<value>", dynamic.explicit_decode_base64, GET, "/base64/decode/bW9ja2Jpbg=="),
        Route("/base64/encode/<value>", dynamic.encode_base64, GET, "/base64/encode/mockbin"),
        Route("/basic-auth/<user>/<passwd>", auth.basic_auth, GET, "/basic-auth/user/passwd"),
        Route("/bearer", auth.bearer, GET),
        Route("/brotli", formats.brotli, GET),
        Route("/bytes/<int:n>", dynamic.random_bytes, GET, "/bytes/16?seed=1"),
        Route("/cache", caching.cache, GET),
        Route("/cache/<int:value>", caching.cache_for, GET, "/cache/60"),
        Route("/cookies", cookies.list_cookies, GET),
        Route("/cookies/delete", cookies.delete_cookies, GET, "/cookies/delete?freeform"),
        Route("/cookies/set", cookies.set_cookies, GET, "/cookies/set?freeform=value"),
        Route("/cookies/set/<name>/<value>", cookies.set_cookie, GET, "/cookies/set/name/value"),
        Route("/deflate", formats.deflate, GET),
        Route("/delay/<delay>", dynamic.delay, ANY, "/delay/1"),
        Route("/deny", formats.deny, GET),
        Route("/digest-auth/<qop>/<user>/<passwd>", auth.digest_auth, GET, DIGEST),
        Route("/digest-auth/<qop>/<user>/<passwd>/<algorithm>", auth.digest_auth, GET, DIGEST + "/SHA-256"),
        Route("/digest-auth/<qop>/<user>/<passwd>/<algorithm>/<stale_after>", auth.digest_auth, GET,
              DIGEST + "/SHA-256/3"),
        Route("/drip", dynamic.drip, GET, "/drip?numbytes=5&duration=1"),
        Route("/dump/request", diagnostics.dump_request, ANY),
        Route("/encoding/utf8", formats.encoding_utf8, GET),
        Route("/env", diagnostics.env, GET),
        Route("/etag/<etag>", caching.etag, GET, "/etag/abc"),
        Route("/fault/connection-reset", faults.connection_reset, ANY),
        Route("/fault/empty-response", faults.empty_response, ANY),
        Route("/fault/hang", faults.hang, ANY, "/fault/hang?duration=2s"),
        Route("/fault/malformed-chunk", faults.malformed_chunk, ANY),
        Route("/fault/random-data-then-close", faults.random_data_then_close, ANY,
              "/fault/random-data-then-close?size=64&seed=1"),
        Route("/fault/truncated-body", faults.truncated_body, ANY),
        Route("/forms/post", forms.forms_post, GET),
        Route("/gzip", formats.gzip, GET),
        Route("/headers", inspection.headers, GET, fast=True),
        Route("/hidden-basic-auth/<user>/<passwd>", auth.hidden_basic_auth, GET, "/hidden-basic-auth/user/passwd"),
        Route("/hostname", diagnostics.hostname, GET),
        Route("/html", formats.html, GET),
        Route("/image", images.image, GET),
        Route("/image/jpeg", images.jpeg, GET),
        Route("/image/png", images.png, GET),
        Route("/image/svg", images.svg, GET),
        Route("/image/webp", images.webp, GET),
        Route("/ip", inspection.ip, GET, fast=True),
        Route("/json", formats.json_, GET),
        Route("/jsonl", extras.jsonl, GET, "/jsonl?count=3&duration=1"),
        Route("/links/<int:n>", dynamic.links, GET, "/links/5"),
        Route("/links/<int:n>/<int:offset>", dynamic.link_page, GET, "/links/5/1"),
        Route("/openapi.json", docs.openapi_json, GET),
        Route("/range/<int:numbytes>", dynamic.byte_range, GET, "/range/26"),
        Route("/redirect-to", redirects.redirect_to, ANY, "/redirect-to?url=/get&status_code=307"),
        Route("/redirect/<int:n>", redirects.redirect_n, GET, "/redirect/3"),
        Route("/relative-redirect/<int:n>", redirects.relative_redirect, GET, "/relative-redirect/3"),
        Route("/response-headers", response_headers.response_headers, ("GET", "POST"),
              "/response-headers?freeform=value"),
        Route("/robots.txt", formats.robots_txt, GET),
        Route("/sse", extras.sse, GET, "/sse?count=3&duration=1"),
        Route("/status/<codes>", status.status, ANY, "/status/200:3,418:1"),
        Route("/stream-bytes/<int:n>", dynamic.stream_random_bytes, GET, "/stream-bytes/64?chunk_size=16"),
        Route("/stream/<int:n>", dynamic.stream_lines, GET, "/stream/3"),
        Route("/trailers", protocols.trailers, ANY, "/trailers?X-Checksum=abc123"),
        Route("/unstable", extras.unstable, ANY, "/unstable?failure_rate=0.5"),
        Route("/user-agent", inspection.user_agent, GET, fast=True),
        Route("/uuid", dynamic.new_uuid, GET),
        Route("/version", diagnostics.version, GET),
        Route("/websocket/echo", protocols.websocket_echo, GET, "/websocket/echo?max_message_size=1024",
              websocket=True),
        Route("/xml", formats.xml, GET),
    )


def with_request(view: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt a ``view(request, **url_values)`` handler to a Flask view."""

    @functools.wraps(view)
    def flask_view(**url_values: Any) -> Any:
        return view(request._get_current_object(), **url_values)  # type: ignore[attr-defined]

    return flask_view


def register(app: Flask) -> Tuple[Route, ...]:
    """Add every route of the table to *app*; the table is returned and published for the catalogue."""
    table = route_table()
    adapted: Dict[Callable[..., Any], Callable[..., Any]] = {}
    for route in table:
        view = adapted.setdefault(route.view, with_request(route.view))
        app.add_url_rule(route.rule, route.endpoint, view, methods=list(route.methods))
        if route.websocket:
            # Werkzeug matches an upgrade request only against rules marked websocket=True.
            app.add_url_rule(route.rule, route.endpoint, view, methods=list(route.methods), websocket=True)
    publish(app, table)
    return table
