"""Request bodies: whole or refused, echoed in bounded memory, freed when the answer ends.

The guarded input (``mockbin.limits.BodyInput``) is checked in-process; what a
client sees -- a 400 for a body cut short, the connection closed after a
broken one, a 413 for JSON past ``--max-json-values`` -- over real sockets.
Memory *figures* are benchmarks (benchmarks/bench_memory.py); here: that the
streamed echo is byte for byte the in-memory one, and that nothing keeps a
request's body alive once its answer is done (no reference cycle).
"""

from __future__ import annotations

import gc
import io
import json
import socket
import tracemalloc
import weakref
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests
from hypothesis import given, settings as hypothesis_settings, strategies as st
from werkzeug.test import EnvironBuilder

from mockbin import create_app, echo, limits
from mockbin.limits import BodyInput, body_failure, guard, json_budget_problem, json_depth, json_shape, json_values
from mockbin.problems import Problem
from mockbin.serving import workers
from mockbin.settings import Settings
from mockbin.store.patching import measure
from mockbin.testing.livesrv import LiveServer
from support.rawhttp import read_response
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

# -- the guarded input, in-process --------------------------------------------------


class Failing(io.BytesIO):
    """A server's body stream that fails after its bytes, as gunicorn's readers do."""

    def __init__(self, data: bytes, error: Exception) -> None:
        super().__init__(data)
        self.error = error

    def read(self, size: Any = -1) -> bytes:
        data = super().read(size)
        if not data:
            raise self.error
        return data


def test_a_body_shorter_than_its_length_is_an_error_not_an_end():
    body = BodyInput(io.BytesIO(b"12345"), 100, 1000)
    with pytest.raises(Problem) as raised:
        body.read()
    assert raised.value.kind == "incomplete-body" and raised.value.extra["received"] == 5
    with pytest.raises(Problem) as again:  # sticky: a second reader learns the same
        body.read(10)
    assert again.value is raised.value


@pytest.mark.parametrize(
    "error, kind",
    [
        (ValueError("Invalid chunk size: b'zz'"), "malformed-body"),
        (OSError("connection reset"), "incomplete-body"),
        (TimeoutError("timed out"), "incomplete-body"),
    ],
)
def test_server_read_errors_become_problems(error, kind):
    body = BodyInput(Failing(b"abc", error), None, 1000)
    assert body.read(3) == b"abc"
    with pytest.raises(Problem) as raised:
        body.read(3)
    assert raised.value.kind == kind and raised.value.code == 400


def test_a_chunked_body_past_the_limit_is_cut_off_one_byte_after():
    stream = io.BytesIO(b"x" * 50)
    body = BodyInput(stream, None, 10)
    with pytest.raises(Problem) as raised:
        body.read()
    assert raised.value.kind == "body-too-large"
    assert stream.tell() == 11


def test_readline_and_iteration_stop_at_the_declared_length():
    body = BodyInput(io.BytesIO(b"a\nb\nc\nNEXT REQUEST"), 6, 1000)
    assert list(body) == [b"a\n", b"b\n", b"c\n"]


def test_guard_marks_the_environ_and_reports_the_failure():
    environ: Dict[str, Any] = {"CONTENT_LENGTH": "10", "wsgi.input": io.BytesIO(b"short")}
    guard(environ, 1000)
    assert environ["wsgi.input_terminated"] is True and body_failure(environ) is None
    with pytest.raises(Problem):
        environ["wsgi.input"].read()
    assert body_failure(environ).kind == "incomplete-body"


def test_no_body_is_left_unguarded_and_a_bodyless_request_untouched():
    bare = io.BytesIO()
    environ: Dict[str, Any] = {"CONTENT_LENGTH": "0", "wsgi.input": bare}
    guard(environ, 1000)
    assert environ["wsgi.input"] is bare
    environ = {"wsgi.input": bare, "wsgi.input_terminated": True}  # gunicorn: any request, chunked or not
    guard(environ, 1000)
    assert isinstance(environ["wsgi.input"], BodyInput)


# -- over sockets: a body cut short, a broken one on a kept-alive connection ------------


@pytest.fixture(scope="module", params=["gthread", "live"])
def server(request: pytest.FixtureRequest) -> Iterator[int]:
    """A keep-alive server with the journal on: gunicorn's default (gevent) worker, or the live server."""
    if request.param == "live":
        with LiveServer(create_app(Settings(journal=True))) as live:
            yield live.port
        return
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--journal"), port):
        yield port


def test_a_truncated_body_is_400_and_journaled_as_incomplete(server):
    url = f"http://{HOST}:{server}"
    requests.delete(url + "/__mockbin/requests", timeout=10)
    with socket.create_connection((HOST, server), timeout=10) as sock:
        sock.sendall(b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"a\":")
        sock.shutdown(socket.SHUT_WR)  # the client stops after 5 of 100 bytes
        response, _ = read_response(sock, "POST")
    assert response.status == 400
    problem = json.loads(response.body)
    assert problem["type"] == "urn:mockbin:problem:incomplete-body" and problem["received"] == 5
    assert b"data" not in response.body  # nothing echoed
    (entry,) = requests.get(url + "/__mockbin/requests", timeout=10).json()
    assert (entry["status"], entry["body_error"], entry["body_size"]) == (400, "incomplete-body", 5)


def test_a_broken_chunked_body_closes_a_kept_alive_connection(server):
    broken = b"POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"
    follower = b"GET /get HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((HOST, server), timeout=10) as sock:
        sock.sendall(broken + follower)
        response, rest = read_response(sock, "POST")
        assert response.status == 400 and response.header("Connection") == "close"
        assert json.loads(response.body)["type"] == "urn:mockbin:problem:malformed-body"
        assert rest == b"" and sock.recv(1) == b""  # the bytes after it were never taken for a request


def test_a_whole_body_keeps_the_connection(server):
    with requests.Session() as session:
        for _ in range(2):
            answer = session.post(f"http://{HOST}:{server}/post", data=iter([b"ab", b"cd"]), timeout=10)
            assert answer.status_code == 200 and answer.json()["data"] == "abcd"
            assert answer.headers.get("Connection") != "close"


def test_every_worker_class_includes_the_body_handling_mixin():
    from gunicorn.workers.base import Worker

    classes = [
        value for value in vars(workers).values()
        if isinstance(value, type) and issubclass(value, Worker) and value.__module__ == workers.__name__
    ]
    assert len(classes) >= 2
    for cls in classes:
        assert issubclass(cls, workers._BodyHandling), cls


# -- the JSON budget ---------------------------------------------------------------------

BUDGET = 1000


@pytest.fixture(scope="module")
def budget_server() -> Iterator[str]:
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--worker-class", "sync", "--max-json-values", str(BUDGET)), port) as running:
        yield running.url


def array_of(values: int) -> bytes:
    return json.dumps(list(range(values - 1))).encode()  # the array itself is a value too


@pytest.mark.parametrize("path", ["/post", "/anything/x"])  # fast lane and Flask
def test_json_past_the_budget_is_413_before_it_is_parsed(budget_server, path):
    answer = requests.post(budget_server + path, data=array_of(BUDGET + 1), headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 413 and answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:mockbin:problem:json-too-large" and problem["limit"] == BUDGET
    assert "--max-json-values" in problem["detail"] and "MOCKBIN_MAX_JSON_VALUES" in problem["detail"]


def test_json_at_the_budget_is_echoed(budget_server):
    answer = requests.post(budget_server + "/post", data=array_of(BUDGET), headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["json"] == list(range(BUDGET - 1))


def test_marks_inside_strings_do_not_count(budget_server):
    body = json.dumps(["a, b: [c, {d}" * 100] * 10).encode()  # 11 values, thousands of marks
    answer = requests.post(budget_server + "/post", data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200 and len(answer.json()["json"]) == 10


def test_text_that_only_starts_like_json_is_echoed_as_httpbin_does(budget_server):
    body = b"[INFO] " + b"a, b: c, " * 5000  # many "values" by its commas, but not JSON
    answer = requests.post(budget_server + "/post", data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["json"] is None and answer.json()["data"] == body.decode()


JSON_TEXTS = [
    b"1", b"[]", b"{}", b"[[], {}, [ ], { }]", b'{"a": [1, {"b": null}], "c": "x,y:[{"}',
    b"[0]", b'["a"]', b'[[0], ["x"], [ "" ], {"a": ["b"]}, [true], [null]]',
    b'["\\"", "\\\\", "\\\\\\"", "[", "{"]', b'{"nested": {"deeper": [[[{"deepest": [1, 2, 3]}]]]}}',
    json.dumps({"k%d" % i: [i, {"v": "s,%d" % i}] for i in range(200)}).encode(),
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_counting_without_parsing_agrees_with_the_parsed_value(text):
    values, depth = measure(json.loads(text))
    assert json_values(text) == values
    assert json_depth(text) == depth


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=40,
)


@given(value=JSON_VALUES, indent=st.sampled_from([None, 0, 2]))
@hypothesis_settings(max_examples=120, deadline=None)
def test_counting_agrees_with_the_parser_on_any_json(value, indent):
    text = json.dumps(value, indent=indent).encode()
    assert (json_values(text), json_depth(text)) == measure(json.loads(text))


# The parsed size of a JSON text depends on its shape, not its size: the estimate taken on the
# bytes must follow what the interpreter really allocates (tracemalloc's count, not a timing).
SHAPES = {
    "numbers": b"[" + b"0," * 99_999 + b"0]",
    "records": json.dumps([{"id": i, "name": f"item-{i}", "tags": ["a", "b"], "ok": True} for i in range(20_000)]).encode(),
    "empty objects": b"[" + b"{}," * 99_999 + b"{}]",
    "tiny records": b"[" + b'{"a":1},' * 99_999 + b'{"a":1}]',
    "one-item arrays": b"[" + b"[0]," * 99_999 + b"[0]]",
    "short strings": b"[" + b'"ab",' * 99_999 + b'"ab"]',
    "a large map": json.dumps({f"k{i}": 0 for i in range(100_000)}).encode(),
}


def parsed_peak(text: bytes) -> int:
    tracemalloc.start()
    try:
        value = json.loads(text)
        del value
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_parsed_size_estimate_follows_the_interpreter(name, monkeypatch):
    text = SHAPES[name]
    estimate, actual = json_shape(text).parsed_size(), parsed_peak(text)
    assert 0.7 * actual <= estimate <= 1.6 * actual, (estimate / len(text), actual / len(text))
    # and so the budget of 10 times the size refuses exactly the shapes that cost more
    # (these texts are small: the parsed size always allowed is lowered below theirs)
    monkeypatch.setattr(limits, "JSON_MEMORY_FLOOR", 1024 * 1024)
    if actual > 12 * len(text):
        assert json_budget_problem(text, 10**9, 10) is not None
    if actual < 8 * len(text):
        assert json_budget_problem(text, 10**9, 10) is None


@pytest.fixture(scope="module")
def expansion_server() -> Iterator[str]:
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--stateful"), port) as running:  # the default budgets
        yield running.url


TINY_CONTAINERS = b'{"rows": [' + b'{"a":1},' * 99_999 + b'{"a":1}]}'  # 0.8 MB, about 25 times that parsed
RECORDS = SHAPES["records"]  # 1.3 MB, about 6 times that parsed


@pytest.mark.parametrize("path", ["/post", "/anything/x", "/items"])  # fast lane, Flask, the store
def test_json_that_would_parse_past_ten_times_its_size_is_413(expansion_server, path):
    answer = requests.post(expansion_server + path, data=TINY_CONTAINERS, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 413
    problem = answer.json()
    assert problem["type"] == "urn:mockbin:problem:json-too-large" and problem["limit"] == 10
    assert "--max-json-expansion" in problem["detail"] and "MOCKBIN_MAX_JSON_EXPANSION" in problem["detail"]
    assert requests.get(expansion_server + "/items", timeout=10).status_code == 404  # nothing stored


def test_json_in_a_dense_shape_is_parsed_and_echoed(expansion_server):
    answer = requests.post(expansion_server + "/post", data=RECORDS, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["json"] == json.loads(RECORDS)


def test_the_expansion_limit_can_be_lifted():
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--max-json-expansion", "0"), port) as running:
        answer = requests.post(running.url + "/post", data=TINY_CONTAINERS, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 200 and len(answer.json()["json"]["rows"]) == 100_000


# -- streamed echo == in-memory echo ---------------------------------------------------------


def call(app: Any, method: str, path: str, body: bytes, content_type: str) -> Tuple[str, List[Tuple[str, str]], bytes]:
    environ = EnvironBuilder(path=path, method=method, data=body, headers={"Content-Type": content_type}).get_environ()
    seen: List[Any] = []
    result = app.wsgi_app(environ, lambda status, headers, exc_info=None: seen.append((status, headers)))
    body_out = b"".join(result)
    getattr(result, "close", lambda: None)()
    status, headers = seen[0]
    return status, list(headers), body_out


LARGE_BODIES = [
    ("text/plain", ("Grüße 😀 \"q\" \\ \t\x01 " * 200_000).encode()),
    ("application/octet-stream", bytes(range(256)) * 12_000 + b"\x00"),
    ("application/json", json.dumps([{"id": i, "tags": ["a", "b"], "score": i / 7} for i in range(60_000)]).encode()),
]


@pytest.mark.parametrize("path", ["/post", "/anything/big"])
@pytest.mark.parametrize("content_type, body", LARGE_BODIES, ids=["text", "binary", "json"])
def test_the_streamed_echo_is_the_in_memory_echo(monkeypatch, path, content_type, body):
    """Megabyte bodies (past what the differential suite sends to httpbin): both paths, same bytes."""
    app = create_app(Settings())
    streamed = call(app, "POST", path, body, content_type)
    monkeypatch.setattr(echo, "LARGE", 1 << 40)  # everything in memory, as before streaming
    in_memory = call(app, "POST", path, body, content_type)
    assert streamed == in_memory
    assert int(dict(streamed[1])["Content-Length"]) == len(streamed[2])


# -- nothing outlives its answer -----------------------------------------------------------


class Input(io.BytesIO):
    """A ``wsgi.input`` that can be watched with a weak reference."""


REQUESTS = [
    ("POST", "/post", b"abc", "text/plain"),  # fast lane
    ("POST", "/anything", b"abc", "text/plain"),  # Flask
    ("POST", "/post", b"x" * 5000, "text/plain"),  # 413 (limit below)
    ("POST", "/post", b"[" + b"0," * 1500 + b"0]", "application/json"),  # 413 json-too-large (within 4096 bytes)
    ("POST", "/items", b'{"a": 1}', "application/json"),  # stateful 201
    ("PATCH", "/missing/1", b'{"a": 1}', "application/merge-patch+json"),  # stateful 404
    ("GET", "/status/418", b"a", "text/plain"),  # a route that ignores the body
]


@pytest.mark.parametrize("journal", [False, True], ids=["journal-off", "journal-on"])
@pytest.mark.parametrize("method, path, body, content_type", REQUESTS, ids=lambda v: str(v)[:20])
def test_a_request_and_its_body_are_freed_when_the_answer_ends(journal, method, path, body, content_type):
    app = create_app(Settings(stateful=True, journal=journal, max_body_size=4096, max_json_values=1000))
    call(app, "GET", "/get", b"", "text/plain")  # first-request set-up out of the way
    environ = EnvironBuilder(path=path, method=method, data=body, headers={"Content-Type": content_type}).get_environ()
    environ["wsgi.input"] = Input(body)
    watched = weakref.ref(environ["wsgi.input"])
    gc.disable()
    try:
        result = app.wsgi_app(environ, lambda status, headers, exc_info=None: None)
        b"".join(result)
        getattr(result, "close", lambda: None)()
        del result, environ
        assert watched() is None, "something still holds the request (a reference cycle)"
    finally:
        gc.enable()
