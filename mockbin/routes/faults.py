"""Connection faults (beyond httpbin): answers broken on purpose, to test a client's error handling and retries.

Each route reads the request (any method, body included) and then breaks
the connection the way its name says; docs/faults.md lists the exact error
each common client raises.  They need the raw client connection, which
gunicorn and the pytest plugin give; under an engine that does not (granian)
they answer a 501 ``engine-cannot`` problem.  To break a *real* route's
answer, or only some requests, use fault rules (``/__mockbin/faults``).
"""

from __future__ import annotations

import random

from flask import Response
from werkzeug.wrappers import Request

from ..faults import actions
from ..faults.takeover import Connection, TakenOver
from ..settings import settings_of
from .query import check_duration, check_size, invalid, lookup_exact, to_duration, to_int


def _break(request: Request, kind: str) -> Response:
    """Perform fault *kind* on this request's connection, then let the server drop it."""
    args = request.args
    settings = settings_of(request.environ)
    plan = actions.Plan(hang_for=settings.max_duration)
    raw = lookup_exact(args, "seed")
    if raw is not None:
        plan.rng = random.Random(to_int("seed", raw))
    raw = lookup_exact(args, "size")
    if raw is not None:
        plan.random_size = to_int("size", raw)
        if plan.random_size < 1:
            raise invalid("size", raw, "a whole number of bytes, 1 or more")
        check_size(request, "random data", plan.random_size, parameter="size")
    raw = lookup_exact(args, "duration")
    if raw is not None:
        plan.hang_for = to_duration("duration", raw)
        check_duration(request, "a hang", plan.hang_for, parameter="duration")
    conn = Connection.take(request.environ, f"/fault/{kind}")
    actions.perform(kind, conn, actions.stand_in(kind, request.environ), plan)
    return TakenOver()


def connection_reset(request: Request) -> Response:
    """Resets the connection (TCP RST) instead of answering."""
    return _break(request, actions.CONNECTION_RESET)


def empty_response(request: Request) -> Response:
    """Closes the connection without sending a byte."""
    return _break(request, actions.EMPTY_RESPONSE)


def malformed_chunk(request: Request) -> Response:
    """Sends a valid chunked head and a first chunk, then a chunk-size line that is not hexadecimal, then closes."""
    return _break(request, actions.MALFORMED_CHUNK)


def random_data_then_close(request: Request) -> Response:
    """Sends size (1024) random bytes that are not HTTP, then closes; a seed makes them repeatable."""
    return _break(request, actions.RANDOM_DATA)


def truncated_body(request: Request) -> Response:
    """Sends a head whose Content-Length promises more than the body that follows, then closes."""
    return _break(request, actions.TRUNCATED_BODY)


def hang(request: Request) -> Response:
    """Reads the request, sends nothing for duration (--max-duration), then closes."""
    return _break(request, actions.HANG)
