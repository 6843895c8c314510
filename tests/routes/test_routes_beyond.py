"""go-httpbin's routes that httpbin lacks, and the parameters it added to httpbin's routes.

Two promises are checked here.  The new behaviour follows go-httpbin's
parameters (docs/compatibility.md, "Beyond httpbin"): /jsonl, /upload,
/env, /base64/encode and /base64/decode, ``?content-type=`` on the base64
routes, ``jitter`` on /sse, ``/ip?format=text``, Go durations in /delay and
/drip, cookie attributes.  And every request httpbin answers keeps
httpbin's answer, byte for byte: the differential cases below send requests
that come close to the new behaviour (an ``attr[...]`` cookie, another
``format``, a base64 value spelled ``decode``) to both servers.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from typing import List, Tuple

import pytest
import requests

from mockbin import create_app
from mockbin.settings import Settings
from support.compare import differential_tests
from support.differential import Shape, call_socket, call_wsgi
from support.rawhttp import build_request


def get(target: str, *headers: Tuple[str, str], method: str = "GET", **kw) -> Shape:
    return Shape(target, method, target, tuple(headers), **kw)


def problem(answer, kind: str = "invalid-parameter") -> dict:
    assert answer.status_line.startswith("400"), answer.status_line
    document = json.loads(answer.body)
    assert document["type"] == f"urn:mockbin:problem:{kind}"
    return document


# -- httpbin's answers stay httpbin's ---------------------------------------------

UNCHANGED = [
    get("/cookies/set?attr[Secure]=true&a=1"),
    get("/cookies/set?attr%5BSameSite%5D=Lax"),
    get("/cookies/delete?attr[Path]=/app&a"),
    get("/ip?format=json"),
    get("/ip?Format=text"),
    get("/ip?format=TEXT"),
    get("/ip?format=text", method="POST"),
    get("/base64/decode"),
    get("/base64/encode"),
    get("/base64/SFRUUEJJTiBpcyBhd2Vzb21l?content_type=text/plain"),
    get("/base64/SFRUUEJJTiBpcyBhd2Vzb21l?Content-Type=text/plain"),
    get("/delay/1e-2"),
    get("/drip?numbytes=2&duration=1e-2&delay=1e-2"),
    get("/trailer"),
    get("/jsonl/3"),
]
test_unchanged_in_process, test_unchanged_over_sockets, test_unchanged_over_granian = differential_tests(UNCHANGED)


NEW_ROUTES = [
    "/env", "/jsonl", "/trailers", "/websocket/echo", "/base64/encode/abc", "/base64/decode/YWJj",
    "/fault/connection-reset", "/fault/empty-response", "/fault/malformed-chunk",
    "/fault/random-data-then-close", "/fault/truncated-body", "/fault/hang",
]


@pytest.mark.oracle
@pytest.mark.parametrize("path", NEW_ROUTES)
def test_new_routes_are_404_in_httpbin(path, oracle_app):
    assert call_wsgi(oracle_app, get(path)).status_line.startswith("404")
    assert call_wsgi(oracle_app, get("/upload", method="POST")).status_line.startswith("404")


# -- /ip?format=text ------------------------------------------------------------


def test_ip_as_text(live_pair, mockbin_app):
    _, mine = live_pair
    for method in ("GET", "HEAD"):
        answer = call_socket(mine.port, get("/ip?format=text", method=method))
        assert answer.status == 200 and answer.header("Content-Type") == "text/plain; charset=utf-8"
        assert answer.header("Access-Control-Allow-Origin") == "*"
        assert answer.body == (b"127.0.0.1\n" if method == "GET" else b"")
    forwarded = call_wsgi(mockbin_app, get("/ip?format=text", ("X-Forwarded-For", "203.0.113.7, 10.0.0.1")))
    assert forwarded.body == b"203.0.113.7, 10.0.0.1\n"  # the same origin as the JSON form


# -- base64 ---------------------------------------------------------------------


@pytest.mark.parametrize("value, decoded", [
    ("bW9ja2Jpbg==", b"mockbin"),
    ("bW9ja2Jpbg", b"mockbin"),  # padding may be left out
    ("Pz8-Pz8_", base64.urlsafe_b64decode("Pz8-Pz8_")),  # URL-safe alphabet
    ("Pz8+Pz8+", base64.b64decode("Pz8+Pz8+")),  # standard alphabet ("/" cannot be in a path segment)
    ("_w==", b"\xff"),  # any bytes, not only UTF-8
])
def test_base64_decode(value, decoded, mockbin_app):
    answer = call_wsgi(mockbin_app, get(f"/base64/decode/{value}"))
    assert answer.status_line.startswith("200") and answer.body == decoded
    assert dict(answer.headers)["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("value", ["!!!", "SGk%C3%A9", "S", "SGk=SGk="])
def test_base64_decode_refuses_what_is_not_base64(value, mockbin_app):
    assert problem(call_wsgi(mockbin_app, get(f"/base64/decode/{value}")))["parameter"] == "value"


def test_base64_encode(mockbin_app):
    answer = call_wsgi(mockbin_app, get("/base64/encode/mockbin%20%E2%9C%93"))
    assert answer.body == base64.urlsafe_b64encode("mockbin ✓".encode())
    assert dict(answer.headers)["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("target, body", [
    ("/base64/bW9ja2Jpbg==?content-type=application/json", b"mockbin"),
    ("/base64/_w==?content-type=application/octet-stream", b"\xff"),  # without the parameter: httpbin's hint
    ("/base64/decode/bW9ja2Jpbg==?content-type=text/csv", b"mockbin"),
    ("/base64/encode/mockbin?content-type=application/x-b64", b"bW9ja2Jpbg=="),
])
def test_content_type_parameter(target, body, mockbin_app):
    answer = call_wsgi(mockbin_app, get(target))
    assert answer.body == body
    assert dict(answer.headers)["Content-Type"] == target.split("content-type=")[1]


def test_bad_content_type_is_400(mockbin_app):
    for target in ("/base64/bW9j?content-type=a%0D%0Ab", "/base64/encode/x?content-type=", "/base64/decode/eA==?content-type=%E2%82%AC"):
        assert problem(call_wsgi(mockbin_app, get(target)))["parameter"] == "content-type"


# -- /env -------------------------------------------------------------------------


def test_env_shows_only_the_chosen_prefixes(monkeypatch, mockbin_app):
    monkeypatch.setenv("MOCKBIN_ENV_REGION", "eu-1")
    monkeypatch.setenv("HTTPBIN_ENV_COLOR", "blue")
    monkeypatch.setenv("MOCKBIN_TOKEN_SECRET", "s3cr3t-1")
    monkeypatch.setenv("HTTPBIN_SECRET", "s3cr3t-2")
    monkeypatch.setenv("mockbin_env_lower", "s3cr3t-3")
    answer = call_wsgi(mockbin_app, get("/env"))
    assert json.loads(answer.body) == {"env": {"HTTPBIN_ENV_COLOR": "blue", "MOCKBIN_ENV_REGION": "eu-1"}}
    assert b"s3cr3t" not in answer.body


def test_env_under_gunicorn():
    from support.servers import ServerProcess, free_port, mockbin_argv

    port = free_port()
    env = {"MOCKBIN_ENV_BUILD": "42", "AWS_SECRET_ACCESS_KEY": "never-shown"}
    with ServerProcess(mockbin_argv(port), port, env) as server:
        answer = requests.get(server.url + "/env", timeout=10)
    assert answer.json() == {"env": {"MOCKBIN_ENV_BUILD": "42"}} and "never-shown" not in answer.text


# -- /delay and /drip take Go durations ------------------------------------------------


@pytest.mark.parametrize("spelling", ["150ms", "0.15s", "150000us", "0.0025m"])
def test_delay_go_durations(spelling, mockbin_app):
    start = time.monotonic()
    answer = call_wsgi(mockbin_app, get(f"/delay/{spelling}"))
    assert answer.status_line.startswith("200") and json.loads(answer.body)["url"].endswith(spelling)
    assert time.monotonic() - start >= 0.14


def test_delay_go_duration_is_cut_to_the_limit(low_app):
    from support.servers import LOW_DURATION

    start = time.monotonic()
    assert call_wsgi(low_app, get("/delay/1h")).status_line.startswith("200")
    assert float(LOW_DURATION) - 0.05 <= time.monotonic() - start < 5


@pytest.mark.parametrize("spelling", ["-1s", "1s2", "1.5 s", "soon", "1d"])
def test_delay_bad_durations(spelling, mockbin_app):
    document = problem(call_wsgi(mockbin_app, get(f"/delay/{spelling.replace(' ', '%20')}")))
    assert "500ms" in document["detail"] or "0 or more" in document["detail"]


def test_drip_go_durations(mockbin_app):
    start = time.monotonic()
    answer = call_wsgi(mockbin_app, get("/drip?numbytes=3&duration=200ms&delay=100ms"))
    assert answer.body == b"***" and time.monotonic() - start >= 0.29
    problem(call_wsgi(mockbin_app, get("/drip?numbytes=3&duration=2x")))


# -- /jsonl -----------------------------------------------------------------------


def lines_of(body: bytes) -> List[dict]:
    assert body.endswith(b"\n")
    return [json.loads(line) for line in body.decode().splitlines()]


def test_jsonl_lines_describe_the_request(live_pair):
    _, mine = live_pair
    answer = call_socket(mine.port, get("/jsonl?count=3&duration=0.2&a=1", ("X-Test", "yes")))
    assert answer.status == 200 and answer.header("Content-Type") == "application/jsonl; charset=utf-8"
    assert answer.header("Transfer-Encoding") == "chunked"
    lines = lines_of(answer.body)
    assert [line["id"] for line in lines] == [0, 1, 2]
    assert all(set(line) == {"id", "url", "args", "headers", "origin"} for line in lines)
    assert lines[0]["args"] == {"count": "3", "duration": "0.2", "a": "1"} and lines[0]["headers"]["X-Test"] == "yes"
    assert answer.chunked_frames[:3] == [len(json.dumps(line)) + 1 for line in lines]


def test_jsonl_defaults_and_head(mockbin_app):
    assert len(lines_of(call_wsgi(mockbin_app, get("/jsonl?duration=0")).body)) == 10
    assert call_wsgi(mockbin_app, get("/jsonl?duration=0", method="HEAD")).body == b""


def arrival_times(port: int, target: str) -> List[float]:
    """When each line of a streamed answer arrived, in seconds after the request."""
    start, seen, data = time.monotonic(), [], b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(build_request("GET", target, [("Host", "x")]))
        while not data.endswith(b"0\r\n\r\n"):
            piece = sock.recv(65536)
            if not piece:
                break
            before = data.count(b"\n{") + data.count(b"event: ping")
            data += piece
            seen += [time.monotonic() - start] * (data.count(b"\n{") + data.count(b"event: ping") - before)
    return seen


def test_jsonl_delay_and_duration(live_pair):
    _, mine = live_pair
    times = arrival_times(mine.port, "/jsonl?count=3&duration=0.4&delay=0.2")
    assert times[0] >= 0.15 and times[-1] - times[0] >= 0.3


@pytest.mark.parametrize("query, parameter, kind", [
    ("count=0", "count", "invalid-parameter"),
    ("count=x", "count", "invalid-parameter"),
    ("jitter=1.5", "jitter", "invalid-parameter"),
    ("jitter=-0.1", "jitter", "invalid-parameter"),
    ("duration=0.2&delay=0.2", "duration", "limit-exceeded"),
    ("count=100000&duration=0", "count", "limit-exceeded"),
])
def test_jsonl_refusals(query, parameter, kind, low_app):
    assert problem(call_wsgi(low_app, get(f"/jsonl?{query}")), kind)["parameter"] == parameter


# -- jitter on /sse and /jsonl -------------------------------------------------------


@pytest.mark.parametrize("route", ["/sse", "/jsonl"])
def test_jitter_varies_the_pauses_but_keeps_the_duration(route, live_pair):
    _, mine = live_pair
    times = arrival_times(mine.port, f"{route}?count=6&duration=0.5&jitter=1")
    assert len(times) == 6
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert 0.4 <= times[-1] - times[0] < 1.5  # scaled back to the duration
    assert max(gaps) - min(gaps) > 0.01  # not evenly spaced


def test_sse_accepts_jitter_zero_as_before(mockbin_app):
    body = call_wsgi(mockbin_app, get("/sse?count=2&duration=0&jitter=0")).body
    assert body.count(b"event: ping") == 2


# -- /upload ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_upload_reports_the_size(method, live_pair):
    _, mine = live_pair
    answer = call_socket(mine.port, Shape("up", method, "/upload?x=1", (("Content-Type", "application/octet-stream"),),
                                          b"\x00" * 300_000))
    document = json.loads(answer.body)
    assert answer.status == 200 and document["bytes_received"] == 300_000 and document["method"] == method
    assert document["args"] == {"x": "1"} and "data" not in document  # the body is not echoed


def test_upload_chunked(live_pair):
    _, mine = live_pair
    answer = call_socket(mine.port, Shape("up", "POST", "/upload", chunks=(b"a" * 1000, b"b" * 10)))
    assert json.loads(answer.body)["bytes_received"] == 1010


def test_upload_limits_and_methods():
    client = create_app(Settings(max_body_size=100)).test_client()
    assert client.post("/upload", data=b"x" * 100).get_json()["bytes_received"] == 100
    assert client.post("/upload", data=b"x" * 101).status_code == 413
    assert client.get("/upload").status_code == 405
    assert client.post("/upload").get_json()["bytes_received"] == 0


# -- cookie attributes (--cookie-attributes) ----------------------------------------------


@pytest.fixture(scope="module")
def attributes_client():
    return create_app(Settings(cookie_attributes=True)).test_client()


def test_cookie_attributes_apply_to_every_cookie_set(attributes_client):
    answer = attributes_client.get("/cookies/set?session=abc&attr[SameSite]=lax&attr[HttpOnly]=true&attr[Path]=/app&b=2")
    assert answer.status_code == 302 and answer.headers["Location"] == "/cookies"
    assert answer.headers.getlist("Set-Cookie") == [
        "session=abc; HttpOnly; Path=/app; SameSite=Lax",
        "b=2; HttpOnly; Path=/app; SameSite=Lax",
    ]


def test_cookie_attribute_values(attributes_client):
    answer = attributes_client.get(
        "/cookies/set?a=1&attr[Expires]=Wed, 21 Oct 2026 07:28:00 GMT&attr[Partitioned]=true&attr[Secure]=1"
        "&attr[domain]=example.com"
    )
    assert answer.headers.getlist("Set-Cookie") == [
        "a=1; Domain=example.com; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Secure; Path=/; Partitioned"
    ]
    max_age = attributes_client.get("/cookies/set?a=1&attr[Max-Age]=60").headers["Set-Cookie"]
    assert re.fullmatch(r"a=1; Expires=[^;]+ GMT; Max-Age=60; Path=/", max_age)
    over_https = attributes_client.get("/cookies/set?a=1&attr[Secure]=false", base_url="https://localhost")
    assert over_https.headers["Set-Cookie"] == "a=1; Path=/"  # the attribute wins over the scheme


def test_cookie_attributes_on_delete(attributes_client):
    answer = attributes_client.get("/cookies/delete?session&attr[Path]=/app&attr[Domain]=example.com")
    assert answer.headers.getlist("Set-Cookie") == [
        "session=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"
    ]


@pytest.mark.parametrize("query", [
    "attr[Color]=red", "attr[SameSite]=sometimes", "attr[Max-Age]=soon", "attr[Expires]=tomorrow",
    "attr[Path]=/a;b", "attr[Secure]=maybe",
])
def test_bad_cookie_attributes_are_400(query, attributes_client):
    answer = attributes_client.get(f"/cookies/set?a=1&{query}")
    assert answer.status_code == 400 and answer.get_json()["parameter"] == query.split("=")[0]


def test_without_the_setting_attr_is_a_cookie(mockbin_app):
    answer = call_wsgi(mockbin_app, get("/cookies/set?attr[Secure]=true"))
    assert [value for name, value in answer.headers if name == "Set-Cookie"] == ["attr[Secure]=true; Path=/"]
