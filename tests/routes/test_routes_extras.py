"""Extras beyond httpbin: /sse (server-sent events) and /unstable (random failures).

httpbin has neither route, so these tests state mockbin's own contract
(docs/compatibility.md, "Extras"): the event format, chunked framing and
timing of /sse over real sockets, its limits at and past their edges, and
the failure rate and seeding of /unstable.
"""

from __future__ import annotations

import json
import re
import socket
import time
from typing import List, Tuple

import pytest

from support.differential import Shape, call_socket, call_wsgi
from support.servers import LOW_SIZE
from support.rawhttp import build_request

EVENT = re.compile(rb"id: (\d+)\nevent: ping\ndata: (\{[^\n]*\})\n\n")


def get(target: str, *headers: Tuple[str, str], method: str = "GET", **kw) -> Shape:
    return Shape("x", method, target, tuple(headers), **kw)


def events_of(body: bytes) -> List[dict]:
    """Parse an event stream, insisting that it is nothing but well-formed events."""
    found = EVENT.findall(body)
    assert EVENT.sub(b"", body) == b"", body
    out = []
    for ident, data in found:
        payload = json.loads(data)
        assert payload["id"] == int(ident)
        out.append(payload)
    return out


def problem_of(answer, parameter: str = "", kind: str = "invalid-parameter") -> dict:
    assert re.match(r"(HTTP/1.\d )?400 ", answer.status_line), answer.status_line
    assert dict(answer.headers)["Content-Type"] == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["type"] == f"urn:mockbin:problem:{kind}"
    if parameter:
        assert problem["parameter"] == parameter
    return problem


# -- /sse ----------------------------------------------------------------------


def test_sse_streams_one_event_per_chunk(live_pair):
    _, mine = live_pair
    before = int(time.time() * 1000)
    answer = call_socket(mine.port, get("/sse?count=4&duration=0.3"))
    assert answer.status == 200
    assert answer.header("Content-Type") == "text/event-stream"
    assert answer.header("Cache-Control") == "no-cache"
    assert answer.header("Transfer-Encoding") == "chunked"
    assert answer.header("Access-Control-Allow-Origin") == "*"
    events = events_of(answer.body)
    assert [event["id"] for event in events] == [0, 1, 2, 3]
    stamps = [event["timestamp"] for event in events]
    assert before - 1000 <= stamps[0] <= stamps[-1] <= int(time.time() * 1000) + 1000
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 250
    chunks = EVENT.finditer(answer.body)
    assert answer.chunked_frames == [len(match.group(0)) for match in chunks] + [0]


def arrivals(port: int, target: str) -> Tuple[float, List[Tuple[float, int]], bytes]:
    """(time to the head, [(time, events seen so far)], body) for one streamed answer."""
    start = time.monotonic()
    seen: List[Tuple[float, int]] = []
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(build_request("GET", target, [("Host", "x")]))
        while not data.endswith(b"0\r\n\r\n"):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
            seen.append((time.monotonic() - start, data.count(b"event: ping")))
    head_at = next(t for t, _ in seen)
    return head_at, seen, data


def test_sse_spreads_events_over_the_duration_after_the_delay(live_pair):
    _, mine = live_pair
    head_at, seen, _ = arrivals(mine.port, "/sse?count=3&duration=0.4&delay=0.2")
    first = next(t for t, n in seen if n >= 1)
    last = next(t for t, n in seen if n >= 3)
    assert 0.15 <= head_at < 0.9
    assert 0.3 <= last - first < 1.5


def test_sse_single_event_comes_at_once(live_pair):
    _, mine = live_pair
    start = time.monotonic()
    answer = call_socket(mine.port, get("/sse?count=1&duration=5"))
    assert [event["id"] for event in events_of(answer.body)] == [0]
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("spelling", ["0.2", "200ms", "0.2s", ".2"])
def test_sse_duration_spellings(spelling, mockbin_app):
    start = time.monotonic()
    answer = call_wsgi(mockbin_app, get(f"/sse?count=2&duration={spelling}"))
    assert len(events_of(answer.body)) == 2
    assert 0.15 <= time.monotonic() - start < 2.0


def test_sse_defaults_are_ten_events(mockbin_app):
    answer = call_wsgi(mockbin_app, get("/sse?duration=0"))
    assert [event["id"] for event in events_of(answer.body)] == list(range(10))


def test_sse_head_and_http10(live_pair):
    _, mine = live_pair
    head = call_socket(mine.port, get("/sse?count=2&duration=0", method="HEAD"))
    assert head.status == 200 and head.body == b"" and head.header("Content-Type") == "text/event-stream"
    old = call_socket(mine.port, get("/sse?count=2&duration=0", version="HTTP/1.0"))
    assert old.header("Transfer-Encoding") is None and len(events_of(old.body)) == 2


def test_sse_other_methods_are_405(mockbin_app):
    assert call_wsgi(mockbin_app, get("/sse", method="POST")).status_line.startswith("405")


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("count=0", "count"),
        ("count=-2", "count"),
        ("count=many", "count"),
        ("count=1.5", "count"),
        ("duration=abc", "duration"),
        ("duration=-1", "duration"),
        ("duration=1h", "duration"),
        ("duration=nan", "duration"),
        ("delay=soon", "delay"),
        ("delay=-0.5", "delay"),
    ],
)
def test_sse_bad_parameters_are_400(query, parameter, mockbin_app):
    problem_of(call_wsgi(mockbin_app, get(f"/sse?{query}")), parameter)


def test_sse_client_leaving_frees_the_worker(live_pair):
    _, mine = live_pair
    with socket.create_connection(("127.0.0.1", mine.port), timeout=10) as sock:
        sock.sendall(build_request("GET", "/sse?count=2&duration=8", [("Host", "x")]))
        received = b""
        while b"event: ping" not in received:  # the head and the first event may come apart
            piece = sock.recv(65536)
            assert piece
            received += piece
    start = time.monotonic()
    assert call_socket(mine.port, get("/uuid"), timeout=10).status == 200
    assert time.monotonic() - start < 2.0  # not the 8 s until the second event


# -- /sse limits ---------------------------------------------------------------


@pytest.mark.parametrize("query", ["duration=0.3", "duration=0.1&delay=0.2", "duration=0&delay=300ms"])
def test_sse_duration_at_the_limit(query, low_app):
    assert call_wsgi(low_app, get(f"/sse?count=2&{query}", method="HEAD")).status_line.startswith("200")


@pytest.mark.parametrize("query", ["duration=0.31", "duration=0.2&delay=0.11", "duration=0&delay=1m"])
def test_sse_duration_past_the_limit(query, low_app):
    problem = problem_of(call_wsgi(low_app, get(f"/sse?count=2&{query}")), kind="limit-exceeded")
    assert problem["setting"] == "--max-duration" and problem["limit"] == 0.3


def largest_count_within(size: int) -> int:
    from mockbin.routes.extras import _MAX_TIMESTAMP, event

    count = 1
    while (count + 1) * len(event(count, _MAX_TIMESTAMP)) <= size:
        count += 1
    return count


def test_sse_count_at_and_past_the_size_limit(low_app):
    edge = largest_count_within(int(LOW_SIZE))
    at_edge = call_wsgi(low_app, get(f"/sse?count={edge}&duration=0"))
    assert len(events_of(at_edge.body)) == edge and len(at_edge.body) <= int(LOW_SIZE)
    past = call_wsgi(low_app, get(f"/sse?count={edge + 1}&duration=0"))
    problem = problem_of(past, "count", kind="limit-exceeded")
    assert problem["setting"] == "--max-generated-size" and "MOCKBIN_MAX_GENERATED_SIZE" in problem["detail"]


def test_sse_limits_over_sockets(low_server):
    answer = call_socket(low_server.port, get("/sse?count=2&duration=0.5"))
    assert problem_of(answer, kind="limit-exceeded")["setting"] == "--max-duration"
    start = time.monotonic()
    answer = call_socket(low_server.port, get("/sse?count=3&duration=0.3"))
    assert len(events_of(answer.body)) == 3 and 0.25 <= time.monotonic() - start < 1.5


# -- /unstable -------------------------------------------------------------------


def status_of(app, target: str, method: str = "GET") -> int:
    return int(call_wsgi(app, get(target, method=method)).status_line[:3])


def test_unstable_never_fails_at_rate_zero_and_always_at_one(mockbin_app):
    assert {status_of(mockbin_app, "/unstable?failure_rate=0") for _ in range(20)} == {200}
    assert {status_of(mockbin_app, "/unstable?failure_rate=1") for _ in range(20)} == {500}


def test_unstable_default_rate_gives_both_answers(mockbin_app):
    seen = {status_of(mockbin_app, "/unstable") for _ in range(60)}
    assert seen == {200, 500}  # chance of missing one: 2 * 0.5**60


def test_unstable_seed_repeats_the_outcome(mockbin_app):
    outcomes = {}
    for seed in range(16):
        statuses = {status_of(mockbin_app, f"/unstable?seed={seed}") for _ in range(3)}
        assert len(statuses) == 1, seed
        outcomes[seed] = statuses.pop()
    assert set(outcomes.values()) == {200, 500}


def test_unstable_body_echoes_the_request(live_pair):
    _, mine = live_pair
    for rate, status in (("0", 200), ("1", 500)):
        answer = call_socket(mine.port, get(f"/unstable?failure_rate={rate}&a=b", ("X-Probe", "1")))
        assert answer.status == status and answer.header("Content-Type") == "application/json"
        body = json.loads(answer.body)
        assert sorted(body) == ["args", "headers", "origin", "url"]
        assert body["args"] == {"a": "b", "failure_rate": rate} and body["headers"]["X-Probe"] == "1"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unstable_any_method(method, mockbin_app):
    assert status_of(mockbin_app, "/unstable?failure_rate=0", method) == 200


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("failure_rate=abc", "failure_rate"),
        ("failure_rate=1.5", "failure_rate"),
        ("failure_rate=-0.1", "failure_rate"),
        ("failure_rate=nan", "failure_rate"),
        ("failure_rate=", "failure_rate"),
        ("seed=x", "seed"),
        ("seed=1.5", "seed"),
    ],
)
def test_unstable_bad_parameters_are_400(query, parameter, mockbin_app):
    problem_of(call_wsgi(mockbin_app, get(f"/unstable?{query}")), parameter)


def test_extras_are_not_in_httpbin(oracle_app):
    # The reason these routes have no differential cases.
    for target in ("/sse", "/unstable"):
        assert call_wsgi(oracle_app, get(target)).status_line.startswith("404")
