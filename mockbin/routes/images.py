"""Images: one fixed picture per format, and ``/image`` choosing a format from ``Accept``.

The pictures are mockbin's own (drawn by ``tools/make_images.py``; the SVG by
hand), shipped in ``mockbin/assets/``.  The negotiation is httpbin's, quirks
included: a *substring* test on the lower-cased ``Accept`` value in a fixed
order, not RFC 9110 content negotiation -- so ``Accept: */*`` is refused.
"""

from __future__ import annotations

from typing import Tuple

from flask import Response
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request

from ..jsonify import compact
from .assets import asset

# (substring of Accept, format), tried in this order; the media types are
# also listed, in this order, in the 406 body.
NEGOTIATION: Tuple[Tuple[str, str], ...] = (
    ("image/webp", "webp"),
    ("image/svg+xml", "svg"),
    ("image/jpeg", "jpeg"),
    ("image/png", "png"),
    ("image/*", "png"),
)
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "svg": "image/svg+xml"}


def picture(kind: str) -> Response:
    """The picture in format *kind*: ``Content-Type`` then ``Content-Length``."""
    return Response(asset("image." + kind), content_type=MEDIA_TYPES[kind])


def not_acceptable() -> Response:
    """httpbin's 406: one-line JSON, no trailing newline, ``Content-Length`` sent last.

    httpbin builds it by replacing the response's headers, so the length is
    added back by the framework after the CORS headers; an empty header set
    plus the body reproduces that order.
    """
    body = compact(
        {
            "message": "Client did not request a supported media type.",
            "accept": [media_type for media_type, _ in NEGOTIATION],
        }
    )
    response = Response(body, status=406)
    response.headers = Headers([("Content-Type", "application/json")])
    return response


def image(request: Request) -> Response:
    """An image in the first format whose media type appears in Accept (PNG without Accept)."""
    accept = request.environ.get("HTTP_ACCEPT")
    if accept is None:
        return picture("png")
    accept = accept.lower()
    for media_type, kind in NEGOTIATION:
        if media_type in accept:
            return picture(kind)
    return not_acceptable()


def png(request: Request) -> Response:
    """A PNG image."""
    return picture("png")


def jpeg(request: Request) -> Response:
    """A JPEG image."""
    return picture("jpeg")


def webp(request: Request) -> Response:
    """A WebP image."""
    return picture("webp")


def svg(request: Request) -> Response:
    """An SVG image."""
    return picture("svg")
