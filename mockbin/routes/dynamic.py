"""Dynamic data: UUIDs, base64, random and predictable bytes, streams, delays, link pages.

Every answer matches httpbin 0.10.4 byte for byte where httpbin is
deterministic, including its silent caps (100 KiB of random bytes, 10 MiB of
drip, 100 stream lines, 200 links) and its parameter quirks (see
``mockbin/routes/query.py``).  Where httpbin crashes on bad input, mockbin answers
400 with a problem document; where a request would take longer than
``--max-duration`` or generate more than ``--max-generated-size``, it answers
400 naming the setting -- except ``/delay``, which is cut to the maximum
as httpbin cuts it to 10 s.  docs/compatibility.md lists each difference.

Bodies that take time are generators paced by :class:`~mockbin.pacing.Pacer`,
so they stream (chunked under HTTP/1.1 when they have no length) and stop
when the client leaves.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any, Dict, Iterator, Optional, Tuple

from flask import Response, redirect, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from ..echo import BODY_KEYS, echo
from ..jsonify import compact
from ..settings import settings_of
from .pacing import Pacer
from .safety import safe_reflection
from .query import (
    check_duration,
    check_size,
    invalid,
    lookup,
    lookup_exact,
    to_float,
    to_float_or_duration,
    to_int,
    to_seconds,
)
from .randbytes import chunks, source
from .wire import header_problem

OCTETS = "application/octet-stream"
PLAIN = "text/plain; charset=utf-8"
BYTES_CAP = 100 * 1024  # httpbin's cap on /bytes, /stream-bytes and /range
DRIP_CAP = 10 * 1024 * 1024  # httpbin's cap on /drip
STREAM_CAP = 100
LINKS_CAP = 200
DEFAULT_CHUNK = 10 * 1024
DRIP_PIECE = 64 * 1024  # most bytes written at once when a drip is behind schedule
BASE64_HINT = "Incorrect Base64 data try: SFRUUEJJTiBpcyBhd2Vzb21l"
DELAY_KEYS = tuple(key for key in BODY_KEYS if key != "json")
STREAM_KEYS = ("url", "args", "headers", "origin")
ALPHABET = bytes(range(ord("a"), ord("z") + 1))


def new_uuid(request: Request) -> Dict[str, str]:
    """A random UUID, version 4."""
    return {"uuid": str(uuid.uuid4())}


def _content_type(request: Request) -> Optional[str]:
    """The ``?content-type=`` go-httpbin's base64 routes take (httpbin ignores the parameter)."""
    value = lookup_exact(request.args, "content-type")
    if value is not None:
        problem = header_problem("Content-Type", value)
        if problem is not None or not value.strip():
            raise invalid("content-type", value, "a media type that can be sent in a header")
    return value


def decode_base64(request: Request, value: str) -> BaseResponse:
    """The UTF-8 text that the URL-safe base64 value encodes; with ?content-type=, the decoded bytes as that type."""
    content_type = _content_type(request)
    try:
        decoded = base64.urlsafe_b64decode(value.encode("utf-8"))
        text = decoded.decode("utf-8") if content_type is None else None
    except ValueError:  # bad padding or alphabet, or bytes that are not UTF-8
        decoded, text = BASE64_HINT.encode("utf-8"), BASE64_HINT
    if content_type is None:
        # As httpbin: the text served as HTML, whatever it says (--safe-responses: as plain text).
        response = Response(text, mimetype="text/html")
    else:
        response = Response(decoded, content_type=content_type)
    return safe_reflection(response, request.environ)


def _padded(value: str) -> bytes:
    data = value.strip().encode("ascii", "replace")
    return data + b"=" * (-len(data) % 4)


def explicit_decode_base64(request: Request, value: str) -> Response:
    """The bytes a base64 value encodes (URL-safe or standard alphabet), as text/plain or ?content-type=."""
    content_type = _content_type(request) or PLAIN
    try:
        # altchars maps "-_" onto "+/", so both alphabets decode; padding may be left out.
        decoded = base64.b64decode(_padded(value), altchars=b"-_", validate=True)
    except ValueError:
        raise invalid("value", value, "base64 (URL-safe or standard alphabet)") from None
    return safe_reflection(Response(decoded, content_type=content_type), request.environ)


def encode_base64(request: Request, value: str) -> Response:
    """The value's UTF-8 bytes in URL-safe base64, as text/plain or ?content-type=."""
    content_type = _content_type(request) or PLAIN
    encoded = base64.urlsafe_b64encode(value.encode("utf-8", "surrogateescape"))
    check_size(request, "the encoding", len(encoded), parameter="value")
    return safe_reflection(Response(encoded, content_type=content_type), request.environ)


def _seed(args: "MultiDict[str, str]") -> Optional[int]:
    raw = lookup(args, "seed")
    return None if raw is None else to_int("seed", raw)


def _chunk_size(args: "MultiDict[str, str]") -> int:
    raw = lookup(args, "chunk_size")
    return DEFAULT_CHUNK if raw is None else max(1, to_int("chunk_size", raw))


def random_bytes(request: Request, n: int) -> Response:
    """n random bytes (at most 100 KiB); the same n bytes for the same ?seed= as httpbin."""
    n = min(n, BYTES_CAP)
    check_size(request, "a body", n, parameter="n")
    take = source(_seed(request.args))
    return Response(take(n), content_type=OCTETS)


def stream_random_bytes(request: Request, n: int) -> Response:
    """n random bytes (at most 100 KiB) streamed in chunks of ?chunk_size= bytes; ?seed= as /bytes."""
    n = min(n, BYTES_CAP)
    check_size(request, "a body", n, parameter="n")
    take = source(_seed(request.args))
    body = chunks(take, n, _chunk_size(request.args))
    return Response(body, headers=[("Content-Type", OCTETS)])


def stream_lines(request: Request, n: int) -> Response:
    """min(n, 100) lines of JSON describing the request, one chunk each, with an id from 0."""
    described: Dict[str, Any] = echo(request, STREAM_KEYS)
    count = min(n, STREAM_CAP)

    def lines() -> Iterator[bytes]:
        for index in range(count):
            described["id"] = index
            yield (compact(described) + "\n").encode("ascii")

    return Response(lines(), headers=[("Content-Type", "application/json")])


def delay(request: Request, delay: str) -> Dict[str, Any]:
    """Waits delay seconds or a duration such as 500ms (cut to --max-duration, 10 s), then echoes the request."""
    seconds = min(to_seconds("delay", delay), settings_of(request.environ).max_duration)
    described = echo(request, DELAY_KEYS)
    Pacer(request.environ).wait(seconds)
    return described


def _number(args: "MultiDict[str, str]", name: str, default: float) -> float:
    raw = lookup_exact(args, name)
    return default if raw is None else to_float(name, raw)


def _seconds(args: "MultiDict[str, str]", name: str, default: float) -> float:
    """Seconds as httpbin reads them (``float``), or a Go-style duration (``500ms``) where that fails."""
    raw = lookup_exact(args, name)
    return default if raw is None else to_float_or_duration(name, raw)


def _whole(args: "MultiDict[str, str]", name: str, default: int) -> int:
    raw = lookup_exact(args, name)
    return default if raw is None else to_int(name, raw)


def drip(request: Request) -> Response:
    """numbytes asterisks dripped over duration seconds (or 500ms, 1.5s), after delay, with status code."""
    args = request.args
    duration = _seconds(args, "duration", 2.0)
    numbytes = min(_whole(args, "numbytes", 10), DRIP_CAP)
    code = _whole(args, "code", 200)
    if numbytes <= 0:
        return Response("number of bytes must be positive", status=400, content_type=PLAIN)
    initial = _seconds(args, "delay", 0.0)
    initial = initial if initial > 0 else 0.0  # httpbin skips a delay that is not > 0
    if duration != duration or duration < 0:
        raise invalid("duration", args["duration"], "a number of seconds, 0 or more")
    if not 100 <= code <= 999:
        raise invalid("code", args["code"], "an HTTP status code (100 to 999)")
    check_duration(request, "delay + duration", initial + duration, parameter="duration")
    check_size(request, "a body", numbytes, parameter="numbytes")
    pacer = Pacer(request.environ)
    if initial:
        pacer.wait(initial)
    body = _drip_body(numbytes, duration / numbytes, pacer)
    headers = [("Content-Type", OCTETS), ("Content-Length", str(numbytes))]
    return Response(body, status=code, headers=headers)


def _drip_body(numbytes: int, pause: float, pacer: Pacer) -> Iterator[bytes]:
    """Byte k leaves at k * pause; bytes already due when a wait overran go out together."""
    pacer.restart()
    sent = 0
    while sent < numbytes:
        due = numbytes if pause <= 0 else int((time.monotonic() - pacer.origin) / pause) + 1
        batch = min(max(due - sent, 1), numbytes - sent, DRIP_PIECE)
        yield b"*" * batch
        sent += batch
        if not pacer.wait_until(sent * pause):
            return


def letters(start: int, end: int) -> bytes:
    """Bytes start..end-1 of the endless a-z sequence that /range serves."""
    offset = start % 26
    repeats = (offset + end - start) // 26 + 1
    return (ALPHABET * repeats)[offset : offset + end - start]


def requested_range(header: Optional[str], size: int) -> Tuple[int, int]:
    """httpbin's lenient reading of ``Range: bytes=first-last`` as (first, last), inclusive.

    Anything it cannot read means the whole resource; a missing first byte
    means "the last N bytes"; nothing is clamped, so the caller checks bounds.
    """
    text = (header or "").strip()
    first: Optional[int] = None
    last: Optional[int] = None
    sides = text.split("=")
    if text.startswith("bytes") and len(sides) == 2:
        bounds = sides[1].split("-")
        first = _int_or_none(bounds[0])
        last = _int_or_none(bounds[1]) if len(bounds) > 1 else None
    if first is None and last is None:
        return 0, size - 1
    if first is None:
        return max(0, size - last), size - 1  # type: ignore[operator]
    return first, size - 1 if last is None else last


def _int_or_none(text: str) -> Optional[int]:
    try:
        return int(text)
    except ValueError:
        return None


def byte_range(request: Request, numbytes: int) -> Response:
    """numbytes predictable bytes (a to z, repeated) with Range support; ?duration= paces them."""
    tag = [("ETag", f"range{numbytes}"), ("Accept-Ranges", "bytes")]
    if numbytes <= 0 or numbytes > BYTES_CAP:
        message = f"number of bytes must be in the range (0, {BYTES_CAP}]"
        return Response(message, status=404, headers=tag, content_type=PLAIN)
    check_size(request, "a resource", numbytes, parameter="numbytes")
    chunk_size = _chunk_size(request.args)
    duration = _number(request.args, "duration", 0.0)
    first, last = requested_range(request.environ.get("HTTP_RANGE"), numbytes)
    if not 0 <= first <= last < numbytes:
        unsatisfiable = tag + [("Content-Range", f"bytes */{numbytes}"), ("Content-Length", "0")]
        return Response(status=416, headers=unsatisfiable, content_type=PLAIN)
    if duration != duration or duration < 0:
        raise invalid("duration", request.args["duration"], "a number of seconds, 0 or more")
    check_duration(request, "duration", duration, parameter="duration")
    body = _range_body(first, last, chunk_size, duration / numbytes, Pacer(request.environ))
    headers = [("Content-Type", OCTETS)] + tag
    headers += [("Content-Length", str(last + 1 - first)), ("Content-Range", f"bytes {first}-{last}/{numbytes}")]
    whole = first == 0 and last == numbytes - 1
    return Response(body, status=200 if whole else 206, headers=headers)


def _range_body(first: int, last: int, chunk_size: int, pause: float, pacer: Pacer) -> Iterator[bytes]:
    """httpbin's pacing: a full chunk is sent, then waits its share; a last short one waits first."""
    pacer.restart()
    position = first
    while position <= last:
        end = min(position + chunk_size, last + 1)
        due = (end - first) * pause
        if end - position == chunk_size:
            yield letters(position, end)
            if not pacer.wait_until(due):
                return
        else:
            if not pacer.wait_until(due):
                return
            yield letters(position, end)
        position = end


def links(request: Request, n: int) -> BaseResponse:
    """Redirects to the first of a set of n link pages."""
    return redirect(url_for("dynamic.link_page", n=n, offset=0))


def link_page(request: Request, n: int, offset: int) -> str:
    """An HTML page of links to its n siblings (1 to 200), the offset one unlinked."""
    n = min(max(1, n), LINKS_CAP)
    html = ["<html><head><title>Links</title></head><body>"]
    for index in range(n):
        if index == offset:
            html.append(f"{index} ")
        else:
            html.append(f"<a href='{url_for('dynamic.link_page', n=n, offset=index)}'>{index}</a> ")
    html.append("</body></html>")
    return "".join(html)
