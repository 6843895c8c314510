"""Extras beyond httpbin, as go-httpbin offers them: server-sent events and a flaky endpoint.

httpbin has neither route, so their shapes are mockbin's own (documented in
docs/compatibility.md); they follow the same limits as the dynamic routes
(``--max-duration``, ``--max-generated-size``) and refuse bad parameters with
a 400 problem document.
"""

from __future__ import annotations

import random
import time
from typing import Iterator

from flask import Response
from werkzeug.wrappers import Request

from ..echo import GET_KEYS, echo
from ..jsonify import json_response
from ..jsonify import compact
from .pacing import Pacer
from .query import check_duration, check_size, invalid, lookup_exact, to_duration, to_float, to_int

SSE_TYPE = "text/event-stream"
SSE_COUNT = 10
SSE_DURATION = 5.0
FAILURE_RATE = 0.5
_MAX_TIMESTAMP = 10**13  # milliseconds: any time before the year 2286 prints shorter


def event(index: int, timestamp_ms: int) -> bytes:
    """One server-sent event: its id, the type ``ping``, and JSON data with the id and time."""
    data = compact({"id": index, "timestamp": timestamp_ms})
    return f"id: {index}\nevent: ping\ndata: {data}\n\n".encode("ascii")


def sse(request: Request) -> Response:
    """count server-sent events (10) spread over duration (5 s) after delay (0 s), streamed."""
    args = request.args
    raw = lookup_exact(args, "count")
    count = SSE_COUNT if raw is None else to_int("count", raw)
    if count < 1:
        raise invalid("count", raw or "", "a whole number, 1 or more")
    raw = lookup_exact(args, "duration")
    duration = SSE_DURATION if raw is None else to_duration("duration", raw)
    raw = lookup_exact(args, "delay")
    initial = 0.0 if raw is None else to_duration("delay", raw)
    check_duration(request, "delay + duration", initial + duration, parameter="duration")
    check_size(request, "events", count * len(event(count - 1, _MAX_TIMESTAMP)), parameter="count")

    pacer = Pacer(request.environ)
    if initial:
        pacer.wait(initial)
    pause = duration / (count - 1) if count > 1 else 0.0

    def events() -> Iterator[bytes]:
        pacer.restart()
        for index in range(count):
            if index and not pacer.wait_until(index * pause):
                return
            yield event(index, int(time.time() * 1000))

    return Response(events(), headers=[("Content-Type", SSE_TYPE), ("Cache-Control", "no-cache")])


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
