"""Fault rules (``/__mockbin/faults``, ``mockbin.fault()``): every option against a live server.

Most tests use the pytest plugin's own server (the ``mockbin`` fixture, in
the stateful mode under ``/store``), as a user's suite would; the retry
story of docs/faults.md runs under every engine.  The rule documents'
validation is checked in-process.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mockbin import create_app
from mockbin.settings import Settings
from mockbin.testing.client import AdminError, Mockbin

STATEFUL = pytest.mark.mockbin(stateful=True, store_prefix="/store", max_duration=3)


def admin_post(client, document: Any):
    return client.post("/__mockbin/faults", data=json.dumps(document), content_type="application/json")


@pytest.fixture(scope="module")
def app():
    return create_app(Settings(stateful=True, journal=True, max_duration=2.0))


# -- the rule document -----------------------------------------------------------


@pytest.mark.parametrize("document, member", [
    ("not json", None),
    ([], "the rule"),
    ({}, "fault"),
    ({"fault": "empty-response", "paths": "/x"}, "the rule"),
    ({"fault": "explode"}, "fault"),
    ({"fault": {"delay": {"fixed": 1}, "response": {}}}, "fault"),
    ({"fault": {"delay": {"fixed": 1, "uniform": {"max": 1}}}}, "fault.delay"),
    ({"fault": {"delay": {"fixed": "soon"}}}, "fault.delay.fixed"),
    ({"fault": {"delay": {"fixed": -1}}}, "fault.delay.fixed"),
    ({"fault": {"delay": {"fixed": "3s"}}}, "fault.delay.fixed"),  # over --max-duration (2 s)
    ({"fault": {"delay": {"uniform": {"min": 1, "max": 0.5}}}}, "fault.delay.uniform"),
    ({"fault": {"delay": {"lognormal": {"median": "100ms", "sigma": -1}}}}, "fault.delay.lognormal.sigma"),
    ({"fault": {"response": {"status": 99}}}, "fault.response.status"),
    ({"fault": {"response": {"status": 204, "body": "x"}}}, "fault.response.body"),
    ({"fault": {"response": {"headers": {"Bad Name": "x"}}}}, "fault.response.headers"),
    ({"fault": {"response": {"headers": {"X-A": "a\r\nb"}}}}, "fault.response.headers"),
    ({"fault": {"response": {"headers": {"Content-Length": "5"}}}}, "fault.response.headers"),
    ({"fault": "hang", "when": "during"}, "when"),
    ({"fault": "hang", "times": 0}, "times"),
    ({"fault": "hang", "times": 1.5}, "times"),
    ({"fault": "hang", "probability": 1.5}, "probability"),
    ({"fault": "hang", "seed": -1}, "seed"),
    ({"fault": "hang", "method": "GE T"}, "method"),
    ({"fault": "hang", "path": ""}, "path"),
])
def test_bad_rules_are_400_problems(document, member, app):
    client = app.test_client()
    answer = client.post("/__mockbin/faults", data=document) if isinstance(document, str) else admin_post(client, document)
    assert answer.status_code == 400 and answer.content_type == "application/problem+json"
    problem = answer.get_json()
    assert problem["type"] == "urn:mockbin:problem:bad-fault-rule"
    assert problem.get("member") == member
    assert client.get("/__mockbin/faults").get_json() == []


def test_durations_take_units(app):
    client = app.test_client()
    answer = admin_post(client, {"fault": {"delay": {"uniform": {"min": "100ms", "max": "1.5s"}}}})
    assert answer.status_code == 201
    assert answer.get_json()["fault"] == {"delay": {"uniform": {"min": 0.1, "max": 1.5}}}
    assert answer.headers["Location"] == f"/__mockbin/faults/{answer.get_json()['id']}"
    client.delete("/__mockbin/faults")


def test_several_workers_are_refused():
    client = create_app(Settings(workers=2)).test_client()
    answer = admin_post(client, {"fault": "connection-reset"})
    assert answer.status_code == 409
    assert answer.get_json()["type"] == "urn:mockbin:problem:fault-rules-one-worker"
    assert "--workers" in answer.get_json()["detail"]


def test_unknown_rule_is_404(app):
    client = app.test_client()
    for method in ("GET", "DELETE"):
        answer = client.open("/__mockbin/faults/999", method=method)
        assert answer.status_code == 404
        assert answer.get_json()["type"] == "urn:mockbin:problem:no-such-fault-rule"


def test_socket_faults_without_a_socket_are_501_and_run_no_handler(app):
    client = app.test_client()
    for when in ("before", "after"):
        assert admin_post(client, {"fault": "connection-reset", "when": when, "path": "/store/*"}).status_code == 201
        answer = client.post("/store/orders", json={"n": 1})
        assert answer.status_code == 501
        assert answer.get_json()["type"] == "urn:mockbin:problem:engine-cannot"
        assert "fault rule" in answer.get_json()["detail"]
        client.delete("/__mockbin/faults")
    assert client.get("/__mockbin/store").get_json()["items"] == {}  # the after rule let nothing be written


# -- the admin API and the handle ---------------------------------------------------


@STATEFUL
def test_rules_are_listed_with_their_counters(mockbin):
    first = mockbin.fault({"response": {"status": 503}}, "/status/*", "GET", times=2)
    second = mockbin.fault("empty-response", "/anything/*", when="after")
    assert [rule.id for rule in mockbin.faults] == [first.id, second.id]
    for _ in range(3):
        requests.get(mockbin + "/status/200")
    requests.post(mockbin + "/status/200")  # another method: not matched
    listed = mockbin.faults[0].document
    assert listed == {
        "id": first.id, "method": "GET", "path": "/status/*", "fault": {"response": {"status": 503}},
        "when": "before", "times": 2, "probability": 1.0, "seed": None, "matched": 2, "fired": 2, "remaining": 0,
    }
    assert second.fired == 0 and second.matched == 0
    second.delete()
    assert [rule.id for rule in mockbin.faults] == [first.id]
    mockbin.clear_faults()
    assert mockbin.faults == []


@STATEFUL
def test_reset_removes_rules(mockbin):
    mockbin.fault("connection-reset")
    mockbin.reset()
    assert mockbin.faults == [] and requests.get(mockbin + "/get").status_code == 200


@STATEFUL
def test_admin_api_is_never_faulted(mockbin):
    mockbin.fault("connection-reset", "*")
    assert len(mockbin.faults) == 1  # GET /__mockbin/faults itself went through
    with pytest.raises(requests.ConnectionError):
        requests.get(mockbin + "/get")
    mockbin.clear_faults()


# -- options ----------------------------------------------------------------------


@STATEFUL
def test_times_limits_the_rule_to_n_requests(mockbin):
    rule = mockbin.fault("connection-reset", "/get", times=2)
    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(mockbin + "/get")
    assert requests.get(mockbin + "/get").status_code == 200
    assert rule.fired == 2 and rule.refresh()["remaining"] == 0


def outcomes(mockbin: Mockbin, seed: int, count: int = 30) -> List[int]:
    mockbin.clear_faults()
    mockbin.fault({"response": {"status": 503}}, "/get", probability=0.5, seed=seed)
    return [requests.get(mockbin + "/get").status_code for _ in range(count)]


@STATEFUL
def test_probability_with_a_seed_is_repeatable(mockbin):
    first = outcomes(mockbin, 42)
    assert set(first) == {200, 503}  # some fired, some did not
    assert outcomes(mockbin, 42) == first  # the same seed, the same sequence
    other = outcomes(mockbin, 43)
    assert other != first
    (rule,) = mockbin.faults
    assert rule.document["matched"] == 30 and rule.document["fired"] == other.count(503)


@STATEFUL
def test_probability_zero_never_fires_but_counts_matches(mockbin):
    rule = mockbin.fault("connection-reset", "/get", probability=0)
    assert all(requests.get(mockbin + "/get").status_code == 200 for _ in range(5))
    assert rule.refresh()["matched"] == 5 and rule.document["fired"] == 0


@STATEFUL
def test_first_matching_rule_that_fires_wins(mockbin):
    mockbin.fault({"response": {"status": 503}}, "/get", probability=0)  # matches, never fires
    mockbin.fault({"response": {"status": 418}}, "/g*")
    assert requests.get(mockbin + "/get").status_code == 418


@STATEFUL
@pytest.mark.parametrize("glob, hit, miss", [
    ("/store/orders", "/store/orders", "/store/orders/1"),
    ("/store/*", "/store/orders/1", "/stored"),
    ("/store/orders/?", "/store/orders/7", "/store/orders/77"),
    ("/status/[45]*", "/status/418", "/status/200"),
])
def test_path_globs(glob, hit, miss, mockbin):
    mockbin.fault({"response": {"status": 299}}, glob)
    assert requests.get(mockbin + hit).status_code == 299
    assert requests.get(mockbin + miss).status_code != 299


@STATEFUL
def test_before_stores_nothing(mockbin):
    mockbin.fault("connection-reset", "/store/orders", "POST")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(mockbin + "/store/orders", json={"item": "tea"})
    assert len(mockbin.store) == 0
    (entry,) = mockbin.matching("POST", "/store/orders")
    assert entry.fault == {"rule": mockbin.faults[0].id, "fault": "connection-reset", "when": "before"}
    assert entry.json() == {"item": "tea"}


@STATEFUL
def test_after_keeps_the_write_and_loses_the_answer(mockbin):
    mockbin.fault("connection-reset", "/store/orders", "POST", when="after")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(mockbin + "/store/orders", json={"item": "tea"})
    assert list(mockbin.store.keys()) == ["/store/orders/1"]
    assert mockbin.last_request.fault["when"] == "after"


@STATEFUL
@pytest.mark.parametrize("kind, error", [
    ("empty-response", requests.exceptions.ConnectionError),
    ("malformed-chunk", requests.exceptions.ChunkedEncodingError),
    ("random-data-then-close", requests.exceptions.ConnectionError),
    ("truncated-body", requests.exceptions.ChunkedEncodingError),
])
def test_after_faults_break_the_real_answer(kind, error, mockbin):
    mockbin.fault(kind, "/store/*", "PUT", when="after")
    with pytest.raises(error):
        requests.put(mockbin + "/store/a", json={"v": 1})
    assert mockbin.store["/store/a"] == {"v": 1}


@STATEFUL
def test_after_truncated_body_keeps_the_real_head(mockbin):
    import socket

    from support.rawhttp import build_request

    mockbin.fault("truncated-body", "/store/a", "PUT", when="after")
    body = b'{"value": "' + b"x" * 100 + b'"}'
    with socket.create_connection((mockbin.host, mockbin.port), timeout=10) as sock:
        sock.sendall(build_request("PUT", "/store/a", [("Host", "x"), ("Content-Type", "application/json"),
                                                        ("Content-Length", str(len(body)))], body))
        data = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    head, _, sent = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201 CREATED") and b"ETag: " in head
    declared = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    assert declared == len(body) and len(sent) == declared // 2 and body.startswith(sent)


@STATEFUL
def test_hang_rule_times_out_the_client(mockbin):
    mockbin.fault("hang", "/get")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(mockbin + "/get", timeout=0.3)


@STATEFUL
def test_fixed_delay_before_and_after(mockbin):
    mockbin.fault({"delay": {"fixed": "300ms"}}, "/store/*", "PUT", when="after")
    start = time.monotonic()
    answer = requests.put(mockbin + "/store/slow", json={"v": 1})
    assert answer.status_code == 201 and time.monotonic() - start >= 0.29
    assert mockbin.last_request.fault == {"rule": mockbin.faults[0].id, "fault": "delay", "when": "after", "delay": 0.3}
    mockbin.clear_faults()
    mockbin.fault({"delay": {"fixed": 0.3}}, "/get")
    start = time.monotonic()
    assert requests.get(mockbin + "/get").status_code == 200 and time.monotonic() - start >= 0.29


def recorded_delays(mockbin: Mockbin, fault: Dict[str, Any], count: int = 12) -> List[float]:
    mockbin.clear_faults()
    mockbin.clear_requests()
    mockbin.fault(fault, "/uuid", seed=5)
    for _ in range(count):
        assert requests.get(mockbin + "/uuid").status_code == 200
    return [req.fault["delay"] for req in mockbin.matching("GET", "/uuid")]


@STATEFUL
def test_uniform_delays_stay_within_bounds_and_repeat_with_a_seed(mockbin):
    delays = recorded_delays(mockbin, {"delay": {"uniform": {"min": 0.01, "max": 0.05}}})
    assert all(0.01 <= d <= 0.05 for d in delays) and len(set(delays)) > 1
    assert recorded_delays(mockbin, {"delay": {"uniform": {"min": 0.01, "max": 0.05}}}) == delays


@STATEFUL
def test_lognormal_delays_are_cut_at_max_duration(mockbin):
    delays = recorded_delays(mockbin, {"delay": {"lognormal": {"median": "5ms", "sigma": 4}}}, count=20)
    assert len(set(delays)) > 1 and max(delays) <= 3.0  # the server's --max-duration
    assert sorted(delays)[len(delays) // 2] < 0.5  # most near the median


@STATEFUL
def test_canned_response_before_and_after(mockbin):
    mockbin.fault({"response": {"status": 503, "headers": {"Retry-After": "1"}, "body": {"error": "busy"}}},
                  "/store/orders", "POST")
    answer = requests.post(mockbin + "/store/orders", json={"n": 1})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert answer.json() == {"error": "busy"} and answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert len(mockbin.store) == 0
    mockbin.clear_faults()
    mockbin.fault({"response": {"status": 502, "body": "bad gateway"}}, "/store/orders", "POST", when="after")
    answer = requests.post(mockbin + "/store/orders", json={"n": 2})
    assert answer.status_code == 502 and answer.text == "bad gateway"
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert len(mockbin.store) == 1  # written, then answered 502


@STATEFUL
def test_canned_response_without_body(mockbin):
    mockbin.fault({"response": {"status": 204}}, "/get")
    answer = requests.get(mockbin + "/get")
    assert answer.status_code == 204 and answer.content == b"" and "Content-Type" not in answer.headers


# -- the retry story (docs/faults.md) ----------------------------------------------


def retrying_session() -> requests.Session:
    retry = Retry(total=3, connect=3, read=3, backoff_factor=0, allowed_methods=None)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def test_retry_after_a_lost_answer_creates_exactly_one_order(engine):
    handle = Mockbin(engine.url)
    handle.reset()
    rule = handle.fault("connection-reset", "/store/orders", "POST", when="after", times=1)
    try:
        answer = retrying_session().post(
            engine.url + "/store/orders", json={"item": "tea"}, headers={"Idempotency-Key": '"order-1"'}, timeout=10
        )
        assert answer.status_code == 201 and answer.headers["Idempotent-Replayed"] == "true"
        assert rule.fired == 1
        assert list(handle.store.keys()) == ["/store/orders/1"]
        posts = handle.matching("POST", "/store/orders")
        assert [req.fault is not None for req in posts] == [True, False]  # the write, then the retry
    finally:
        handle.reset()


def test_without_idempotency_key_the_retry_duplicates(engine):
    """What the test above guards against: a retried POST without a key writes twice."""
    handle = Mockbin(engine.url)
    handle.reset()
    handle.fault("connection-reset", "/store/orders", "POST", when="after", times=1)
    try:
        assert retrying_session().post(engine.url + "/store/orders", json={"item": "tea"}, timeout=10).status_code == 201
        assert len(handle.store) == 2
    finally:
        handle.reset()


def test_handle_reports_a_bad_rule(mockbin):
    with pytest.raises(AdminError, match="400"):
        mockbin.fault("explode")


@STATEFUL
def test_globs_match_the_path_as_text(mockbin):
    mockbin.fault({"response": {"status": 299}}, "/anything/caf\u00e9*")
    assert requests.get(mockbin + "/anything/caf%C3%A9/x").status_code == 299
    assert requests.get(mockbin + "/anything/cafe").status_code == 200


def test_a_delay_leaves_the_request_body_to_the_handler(engine):
    """The wait watches the connection without reading from it: the body still reaches the store."""
    handle = Mockbin(engine.url)
    handle.reset()
    handle.fault({"delay": {"fixed": 0.2}}, "/store/*", "PUT")
    handle.fault({"delay": {"fixed": 0.2}}, "/get", when="after")
    try:
        session = requests.Session()  # one connection: the next request follows the delayed one
        body = {"blob": "x" * 200_000}
        assert session.put(engine.url + "/store/big", json=body, timeout=10).status_code == 201
        assert session.get(engine.url + "/get", timeout=10).status_code == 200
        assert session.get(engine.url + "/store/big", timeout=10).json() == body
    finally:
        handle.reset()
