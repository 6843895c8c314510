"""Response formats: sample documents (JSON, HTML, XML, UTF-8, robots.txt) and compressed bodies.

``/json`` and ``/robots.txt`` carry data, so they are httpbin's bytes.  The
HTML, XML, UTF-8 and refusal documents are mockbin's own, served with
httpbin's media types (see docs/compatibility.md).  ``/gzip``, ``/deflate``
and ``/brotli`` always compress, whatever ``Accept-Encoding`` says, exactly
like httpbin: they exist to test a client's decoder.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from flask import Response
from werkzeug.wrappers import Request

from . import compression
from ..echo import body, echo
from ..jsonify import JSON, dumps_bytes
from .assets import asset

HTML = "text/html; charset=utf-8"
TEXT = "text/plain"  # httpbin sends robots.txt and /deny without a charset
XML = "application/xml"

SLIDESHOW: Dict[str, Any] = {
    "slideshow": {
        "author": "Yours Truly",
        "date": "date of publication",
        "slides": [
            {"title": "Wake up to WonderWidgets!", "type": "all"},
            {
                "items": ["Why <em>WonderWidgets</em> are great", "Who <em>buys</em> WonderWidgets"],
                "title": "Overview",
                "type": "all",
            },
        ],
        "title": "Sample Slide Show",
    }
}

ROBOTS_TXT = b"User-agent: *\nDisallow: /deny\n"


def document(body: bytes, content_type: str) -> Response:
    """A fixed body: ``Content-Type`` then ``Content-Length``, as httpbin orders them."""
    return Response(body, content_type=content_type)


def json_(request: Request) -> Dict[str, Any]:
    """A fixed JSON document: the sample slideshow."""
    return SLIDESHOW


def html(request: Request) -> Response:
    """A fixed HTML page (a short story)."""
    return document(asset("html.html"), HTML)


def xml(request: Request) -> Response:
    """A fixed XML document (a ferry timetable)."""
    return document(asset("sample.xml"), XML)


def encoding_utf8(request: Request) -> Response:
    """An HTML page of UTF-8 text in many scripts, one to four bytes per character."""
    return document(asset("utf8.html"), HTML)


def robots_txt(request: Request) -> Response:
    """The robots.txt rules: every crawler is kept away from /deny."""
    return document(ROBOTS_TXT, TEXT)


def deny(request: Request) -> Response:
    """The page robots.txt forbids: an ASCII-art refusal."""
    return document(asset("deny.txt"), TEXT)


def compressed(request: Request, flag: str, encode: Callable[[bytes], bytes], coding: str) -> Response:
    """httpbin's compressed echo: ``{flag: true, headers, method, origin}``, encoded.

    The header order is httpbin's: ``Content-Type``, ``Content-Length`` (of the
    encoded body; for HEAD, of the body a GET would get with method ``HEAD``),
    then ``Content-Encoding``.
    """
    body(request)  # httpbin reads (and form-parses) the body first; its limits apply alike
    payload = echo(request, ("headers", "origin"))
    payload["method"] = request.method
    payload[flag] = True
    response = Response(encode(dumps_bytes(payload)), content_type=JSON)
    response.headers["Content-Encoding"] = coding
    return response


def gzip(request: Request) -> Response:
    """The request's headers, method and origin, gzip-encoded."""
    return compressed(request, "gzipped", compression.gzip, "gzip")


def deflate(request: Request) -> Response:
    """The request's headers, method and origin, deflate-encoded (a zlib stream)."""
    return compressed(request, "deflated", compression.deflate, "deflate")


def brotli(request: Request) -> Response:
    """The request's headers, method and origin, brotli-encoded."""
    return compressed(request, "brotli", compression.brotli, "br")
