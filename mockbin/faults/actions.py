"""The connection faults: how each one breaks an answer on the wire.

The same six faults serve the ``/fault/<kind>`` routes and the fault rules
(:mod:`mockbin.faults.rules`).  Each breaks an :class:`Answer` -- the
response the client should have received: the route's stand-in document,
or, for a rule that fires *after* its handler, the handler's real answer --
in the way retry code meets in production (WireMock names the same kinds
``CONNECTION_RESET_BY_PEER``, ``EMPTY_RESPONSE``, ``MALFORMED_RESPONSE_CHUNK``,
``RANDOM_DATA_THEN_CLOSE``):

=========================  ===================================================
``connection-reset``       a TCP reset (RST) instead of any answer
``empty-response``         the connection closed (FIN) without a byte
``malformed-chunk``        a valid head announcing chunked framing, half the
                           body as a chunk, then a chunk-size line that is not
                           hexadecimal, then close
``random-data-then-close`` random bytes that are not HTTP, then close
``truncated-body``         the head with the full ``Content-Length``, half the
                           body, then close
``hang``                   nothing at all until ``--max-duration`` (or the
                           client leaves), then close
=========================  ===================================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

from ..cors import cors_headers
from ..jsonify import dumps_bytes
from .takeover import Connection, head, server_headers

CONNECTION_RESET = "connection-reset"
EMPTY_RESPONSE = "empty-response"
MALFORMED_CHUNK = "malformed-chunk"
RANDOM_DATA = "random-data-then-close"
TRUNCATED_BODY = "truncated-body"
HANG = "hang"

#: What each fault does, for the documentation and the route table.
KINDS: Dict[str, str] = {
    CONNECTION_RESET: "the connection is reset (TCP RST) instead of an answer",
    EMPTY_RESPONSE: "the connection is closed without a byte of answer",
    MALFORMED_CHUNK: "a valid chunked head, half the body, then a chunk-size line that is not hexadecimal",
    RANDOM_DATA: "random bytes that are not HTTP, then the connection is closed",
    TRUNCATED_BODY: "the head with the full Content-Length, half the body, then the connection is closed",
    HANG: "nothing until --max-duration, then the connection is closed",
}
#: Bytes of random data sent by ``random-data-then-close`` unless told otherwise.
RANDOM_SIZE = 1024
#: The chunk-size line of ``malformed-chunk``: not hexadecimal, so no parser accepts it.
BAD_CHUNK_LINE = b"zz; not a chunk size\r\n"

Headers = List[Tuple[str, str]]


@dataclass
class Answer:
    """A response as it would have gone out: status line text, header fields, body."""

    status: str
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def without(self, *names: str) -> Headers:
        lowered = {name.lower() for name in names}
        return [(k, v) for k, v in self.headers if k.lower() not in lowered]


def stand_in(kind: str, environ: Dict[str, Any], **extra: Any) -> Answer:
    """The answer a fault breaks when there is no real one: a short JSON document naming the fault."""
    body = dumps_bytes({"fault": kind, "detail": KINDS[kind], **extra})
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return Answer("200 OK", headers + cors_headers(environ), body)


@dataclass
class Plan:
    """How a fault runs: its random source and the few numbers it needs."""

    rng: random.Random = field(default_factory=random.Random)
    random_size: int = RANDOM_SIZE
    hang_for: float = 10.0


def _full_head(conn: Connection, answer: Answer, headers: Headers) -> bytes:
    framing = {"connection", "keep-alive", "server", "date"}
    kept = [(k, v) for k, v in headers if k.lower() not in framing]
    return head(answer.status, server_headers(conn.environ) + kept + [("Connection", "close")], conn.version)


def connection_reset(conn: Connection, answer: Answer, plan: Plan) -> None:
    conn.reset()


def empty_response(conn: Connection, answer: Answer, plan: Plan) -> None:
    conn.close()


def malformed_chunk(conn: Connection, answer: Answer, plan: Plan) -> None:
    headers = answer.without("content-length", "transfer-encoding") + [("Transfer-Encoding", "chunked")]
    half = answer.body[: max(1, len(answer.body) // 2)]
    chunk = b"%x\r\n%s\r\n" % (len(half), half)
    conn.send(_full_head(conn, answer, headers) + chunk + BAD_CHUNK_LINE)
    conn.close()


def random_data(conn: Connection, answer: Answer, plan: Plan) -> None:
    data = plan.rng.getrandbits(8 * plan.random_size).to_bytes(plan.random_size, "little")
    if data[:1].isalpha():  # never let the garbage start like a status line ("HTTP/1.1 ...")
        data = b"\x00" + data[1:]
    conn.send(data)
    conn.close()


def truncated_body(conn: Connection, answer: Answer, plan: Plan) -> None:
    body = answer.body or b"{}"
    headers = answer.without("content-length", "transfer-encoding") + [("Content-Length", str(len(body)))]
    conn.send(_full_head(conn, answer, headers) + body[: len(body) // 2])
    conn.close()


def hang(conn: Connection, answer: Answer, plan: Plan) -> None:
    conn.wait(plan.hang_for)
    conn.close()


ACTIONS: Dict[str, Callable[[Connection, Answer, Plan], None]] = {
    CONNECTION_RESET: connection_reset,
    EMPTY_RESPONSE: empty_response,
    MALFORMED_CHUNK: malformed_chunk,
    RANDOM_DATA: random_data,
    TRUNCATED_BODY: truncated_body,
    HANG: hang,
}


def perform(kind: str, conn: Connection, answer: Answer, plan: Plan) -> None:
    """Break *answer* on *conn* as fault *kind* does; the connection is released afterwards."""
    if kind != CONNECTION_RESET:
        conn.drain_request()  # so the close is a clean FIN, not a reset over unread bytes
    ACTIONS[kind](conn, answer, plan)
