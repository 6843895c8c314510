"""Extras beyond httpbin, as go-httpbin offers them: paced streams, a flaky endpoint, an upload sink.

httpbin has none of these routes, so their shapes are mockbin's own
(documented in docs/compatibility.md); they follow the same limits as the
dynamic routes (``--max-duration``, ``--max-generated-size``,
``--max-body-size``) and refuse bad parameters with a 400 problem document.

``/sse`` and ``/jsonl`` share one schedule (:func:`schedule`): ``count``
pieces from ``delay`` to ``delay + duration``, evenly spaced, or with
``jitter`` each pause drawn from ``pause * [1 - jitter, 1 + jitter]`` and
the pauses scaled back to ``duration`` -- so a jittered stream still ends
on time and within ``--max-duration``.
"""

from __future__ import annotations

import random
import time
from typing import Any, Dict, Iterator, List, Tuple

from flask import Response
from werkzeug.wrappers import Request

from ..echo import GET_KEYS, echo
from ..jsonify import compact, json_response
from .pacing import Pacer
from .query import check_duration, check_size, invalid, lookup_exact, to_duration, to_float, to_int

SSE_TYPE = "text/event-stream"
JSONL_TYPE = "application/jsonl; charset=utf-8"
SSE_COUNT = 10
SSE_DURATION = 5.0
FAILURE_RATE = 0.5
_MAX_TIMESTAMP = 10**13  # milliseconds: any time before the year 2286 prints shorter
STREAM_KEYS = ("url", "args", "headers", "origin")  # a /jsonl line: what a /stream line holds
UPLOAD_PIECE = 64 * 1024


def event(index: int, timestamp_ms: int) -> bytes:
    """One server-sent event: its id, the type ``ping``, and JSON data with the id and time."""
    data = compact({"id": index, "timestamp": timestamp_ms})
    return f"id: {index}\nevent: ping\ndata: {data}\n\n".encode("ascii")


def schedule(request: Request, count_for_size: Any) -> Tuple[int, float, List[float], Pacer]:
    """Read count, duration, delay and jitter; check the limits; wait out the delay.

    Returns the count, the offsets (seconds after the first piece) at which
    each piece is due, and the pacer to wait with.  *count_for_size* gives
    the largest body *count* pieces can make, for ``--max-generated-size``.
    """
    args = request.args
    raw = lookup_exact(args, "count")
    count = SSE_COUNT if raw is None else to_int("count", raw)
    if count < 1:
        raise invalid("count", raw or "", "a whole number, 1 or more")
    raw = lookup_exact(args, "duration")
    duration = SSE_DURATION if raw is None else to_duration("duration", raw)
    raw = lookup_exact(args, "delay")
    initial = 0.0 if raw is None else to_duration("delay", raw)
    raw = lookup_exact(args, "jitter")
    jitter = 0.0 if raw is None else to_float("jitter", raw)
    if not 0 <= jitter <= 1:
        raise invalid("jitter", raw or "", "a fraction of the pause from 0 to 1")
    check_duration(request, "delay + duration", initial + duration, parameter="duration")
    check_size(request, "the stream", count_for_size(count), parameter="count")
    pauses = [duration / (count - 1)] * (count - 1) if count > 1 else []
    if jitter and pauses:
        drawn = [pause * random.uniform(1 - jitter, 1 + jitter) for pause in pauses]
        total = sum(drawn)
        pauses = [d * duration / total for d in drawn] if total > 0 else pauses
    offsets = [0.0]
    for pause in pauses:
        offsets.append(offsets[-1] + pause)
    pacer = Pacer(request.environ)
    if initial:
        pacer.wait(initial)
    return count, duration, offsets, pacer


def paced(pieces: Iterator[bytes], offsets: List[float], pacer: Pacer) -> Iterator[bytes]:
    """Yield each piece at its offset (made when due: timestamps are send times); stop when the client has gone."""
    pacer.restart()
    for offset in offsets:
        if offset and not pacer.wait_until(offset):
            return
        yield next(pieces)


def sse(request: Request) -> Response:
    """count server-sent events (10) spread over duration (5 s) after delay (0 s), with jitter (0 to 1), streamed."""
    count, _, offsets, pacer = schedule(request, lambda n: n * len(event(n - 1, _MAX_TIMESTAMP)))

    def events() -> Iterator[bytes]:
        for index in range(count):
            yield event(index, int(time.time() * 1000))

    body = paced(events(), offsets, pacer)
    return Response(body, headers=[("Content-Type", SSE_TYPE), ("Cache-Control", "no-cache")])


def jsonl(request: Request) -> Response:
    """count JSON lines (10) describing the request, spread over duration (5 s) after delay, with jitter."""
    described: Dict[str, Any] = echo(request, STREAM_KEYS)
    longest = len(compact(dict(described, id=SSE_COUNT)))

    def size_of(count: int) -> int:
        return count * (longest + len(str(count)) + 1)

    count, _, offsets, pacer = schedule(request, size_of)

    def lines() -> Iterator[bytes]:
        for index in range(count):
            described["id"] = index
            yield (compact(described) + "\n").encode("ascii")

    return Response(paced(lines(), offsets, pacer), headers=[("Content-Type", JSONL_TYPE)])


def upload(request: Request) -> Dict[str, Any]:
    """Reads and discards the body (chunked or not, up to --max-body-size); answers how many bytes came."""
    described: Dict[str, Any] = echo(request, GET_KEYS)
    received = 0
    stream = request.stream
    while True:
        piece = stream.read(UPLOAD_PIECE)
        if not piece:
            break
        received += len(piece)
    described["method"] = request.method
    described["bytes_received"] = received
    return described


def unstable(request: Request) -> Response:
    """Fails with 500 at random, with probability failure_rate (0.5); a seed makes the draw repeatable."""
    args = request.args
    raw = lookup_exact(args, "failure_rate")
    rate = FAILURE_RATE if raw is None else to_float("failure_rate", raw)
    if not 0 <= rate <= 1:
        raise invalid("failure_rate", raw or "", "a probability from 0 to 1")
    raw = lookup_exact(args, "seed")
    draw = random.random if raw is None else random.Random(to_int("seed", raw)).random
    status = 500 if draw() < rate else 200
    return json_response(echo(request, GET_KEYS), status)
