"""Dynamic data (/uuid, /base64, /bytes, /stream-bytes, /stream, /delay, /drip, /range, /links).

Every case is sent to httpbin 0.10.4 and to mockbin, in-process and over
real sockets (both under gunicorn, one sync worker each), and the answers
must agree byte for byte: seeded bytes, range bytes, stream lines and link
pages exactly; UUIDs and unseeded bytes by form.  Streamed answers also
agree on their chunk sizes.  The deviations of docs/compatibility.md
("Dynamic data") and the limits have their own tests below.
"""

from __future__ import annotations

import json
import re
import socket
import time
from typing import List, Tuple

import pytest

from support.differential import Shape, call_socket, call_wsgi
from support.compare import Case, differential_tests, ids, mask_body_length, mask_uuid
from support.rawhttp import build_request, read_response
from support.servers import ServerProcess, free_port, mockbin_argv

JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")


def get(id_: str, target: str, *headers: Tuple[str, str], method: str = "GET", **kw) -> Shape:
    return Shape(id_, method, target, tuple(headers), **kw)


def uuid_cases() -> List[Case]:
    return [
        Case(get("uuid", "/uuid"), mask_uuid),
        Case(get("uuid-head", "/uuid", method="HEAD")),
        Case(get("uuid-options", "/uuid", method="OPTIONS")),
        Case(get("uuid-post-405", "/uuid", method="POST")),
    ]


def base64_cases() -> List[Case]:
    values = {
        "valid": "SFRUUEJJTiBpcyBhd2Vzb21l",
        "urlsafe-alphabet": "Pz8-Pz8_",  # "???>???" style: - and _ decode
        "standard-plus": "Pz8+Pz8+",
        "missing-padding": "SGk",
        "padding-then-more": "SGk=SGk=",
        "not-utf8": "_w==",
        "outside-alphabet-only": "!!!",
        "outside-alphabet-mixed": "S!G!k=",
        "cyrillic": "0J_RgNC40LLQtdGC",
        "non-ascii-in-path": "SGk%C3%A9=",
        "percent-space": "SGk%20=",
        "empty-decoded": "====",
    }
    cases = [Case(get(f"base64-{name}", f"/base64/{value}")) for name, value in values.items()]
    cases.append(Case(get("base64-empty-404", "/base64/")))
    cases.append(Case(get("base64-head", "/base64/SFRUUEJJTiBpcyBhd2Vzb21l", method="HEAD")))
    return cases


def bytes_cases() -> List[Case]:
    return [
        Case(get("bytes-seed-0", "/bytes/10?seed=0")),
        Case(get("bytes-seed-5", "/bytes/5?seed=5")),
        Case(get("bytes-seed-negative", "/bytes/5?seed=-5")),
        Case(get("bytes-seed-multiword", "/bytes/5?seed=1099511627779")),
        Case(get("bytes-seed-huge", "/bytes/64?seed=" + "9" * 60)),
        Case(get("bytes-seed-key-uppercase", "/bytes/8?SEED=3")),
        Case(get("bytes-seed-first-key-wins", "/bytes/8?Seed=1&seed=2")),
        Case(get("bytes-seed-repeated", "/bytes/8?seed=4&seed=9")),
        Case(get("bytes-seed-int-spelling", "/bytes/8?seed=+1_0%20")),
        Case(get("bytes-zero", "/bytes/0?seed=1")),
        Case(get("bytes-100k-seeded", "/bytes/102400?seed=42")),
        Case(get("bytes-over-cap-clamped", "/bytes/200000?seed=42")),
        Case(get("bytes-leading-zeros", "/bytes/0007?seed=7")),
        Case(get("bytes-head", "/bytes/300?seed=1", method="HEAD")),
        Case(get("bytes-unseeded", "/bytes/64"), mask_body_length),
        Case(get("bytes-unseeded-over-cap", "/bytes/150000"), mask_body_length),
        Case(get("bytes-negative-404", "/bytes/-1")),
    ]


def stream_bytes_cases() -> List[Case]:
    return [
        Case(get("stream-bytes-seed-chunk-4", "/stream-bytes/5?seed=5&chunk_size=4"), frames=True),
        Case(get("stream-bytes-default-chunk", "/stream-bytes/25000?seed=8"), frames=True),
        Case(get("stream-bytes-chunk-0-means-1", "/stream-bytes/5?seed=2&chunk_size=0"), frames=True),
        Case(get("stream-bytes-chunk-negative", "/stream-bytes/3?seed=2&chunk_size=-7"), frames=True),
        Case(get("stream-bytes-chunk-key-uppercase", "/stream-bytes/10?SEED=1&CHUNK_SIZE=3"), frames=True),
        Case(get("stream-bytes-chunk-larger-than-n", "/stream-bytes/10?seed=1&chunk_size=999"), frames=True),
        Case(get("stream-bytes-over-cap", "/stream-bytes/150000?seed=6&chunk_size=65536"), frames=True),
        Case(get("stream-bytes-zero", "/stream-bytes/0"), frames=True),
        Case(get("stream-bytes-head", "/stream-bytes/10?seed=1", method="HEAD")),
        Case(get("stream-bytes-http10", "/stream-bytes/20?seed=3&chunk_size=7", version="HTTP/1.0")),
        Case(get("stream-bytes-unseeded", "/stream-bytes/30?chunk_size=7"), mask_body_length, frames=True),
    ]


def stream_cases() -> List[Case]:
    return [
        Case(get("stream-0", "/stream/0"), frames=True),
        Case(get("stream-1", "/stream/1"), frames=True),
        Case(get("stream-3-args-headers", "/stream/3?b=2&a=1&a=3", ("X-B", "1"), ("X-A", "\xc3\xa9"), JSON), frames=True),
        Case(get("stream-env-headers-hidden", "/stream/2", ("X-Forwarded-For", "9.9.9.9"), ("Via", "1.1 proxy")), frames=True),
        Case(get("stream-show-env", "/stream/2?show_env=1", ("Via", "1.1 proxy"), ("X-Request-Id", "r1")), frames=True),
        Case(get("stream-proto-https", "/stream/1", ("X-Forwarded-Proto", "https")), frames=True),
        Case(get("stream-capped-at-100", "/stream/150"), frames=True),
        Case(get("stream-head", "/stream/5", method="HEAD")),
        Case(get("stream-http10", "/stream/2", version="HTTP/1.0")),
        Case(get("stream-post-405", "/stream/2", method="POST")),
    ]


def delay_cases() -> List[Case]:
    body = b'{"a": [1, 2]}'
    return [
        Case(get("delay-0", "/delay/0")),
        Case(get("delay-fraction", "/delay/0.1?x=1")),
        Case(get("delay-exponent", "/delay/1e-2")),
        Case(get("delay-leading-plus", "/delay/+0.01")),
        Case(get("delay-negative-zero", "/delay/-0")),
        Case(get("delay-spaces-underscore", "/delay/%201_0e-3%20")),
        Case(Shape("delay-post-json", "POST", "/delay/0", (JSON,), body)),
        Case(Shape("delay-put-form", "PUT", "/delay/0", (FORM,), b"a=1&a=2&b=%C3%A9")),
        Case(Shape("delay-patch-binary", "PATCH", "/delay/0", (("Content-Type", "application/octet-stream"),), b"\xff\x00")),
        Case(Shape("delay-delete", "DELETE", "/delay/0", (), b"")),
        Case(get("delay-trace", "/delay/0", method="TRACE")),
        Case(get("delay-head", "/delay/0.05", method="HEAD")),
        Case(get("delay-options", "/delay/5", method="OPTIONS")),
        Case(get("delay-propfind-405", "/delay/0", method="PROPFIND")),
    ]


def drip_cases() -> List[Case]:
    return [
        Case(get("drip-basic", "/drip?numbytes=5&duration=0.1")),
        Case(get("drip-zero-duration", "/drip?numbytes=100&duration=0")),
        Case(get("drip-code-201", "/drip?numbytes=3&duration=0&code=201")),
        Case(get("drip-code-204", "/drip?numbytes=3&duration=0&code=204")),
        Case(get("drip-code-418", "/drip?numbytes=2&duration=0&code=418")),
        Case(get("drip-code-999", "/drip?numbytes=2&duration=0&code=999")),
        Case(get("drip-delay", "/drip?numbytes=2&duration=0&delay=0.1")),
        Case(get("drip-negative-delay-ignored", "/drip?numbytes=2&duration=0&delay=-3")),
        Case(get("drip-nan-delay-ignored", "/drip?numbytes=2&duration=0&delay=nan")),
        Case(get("drip-numbytes-zero", "/drip?numbytes=0")),
        Case(get("drip-numbytes-negative", "/drip?numbytes=-4&delay=abc")),
        Case(get("drip-keys-case-sensitive", "/drip?Numbytes=2&duration=0.05")),
        Case(get("drip-float-spellings", "/drip?numbytes=%2B3&duration=1e-2&code=2_00")),
        Case(get("drip-head", "/drip?numbytes=4&duration=5&delay=0.05", method="HEAD")),
        Case(get("drip-head-over-cap", "/drip?numbytes=20000000&duration=0", method="HEAD")),
        Case(get("drip-http10", "/drip?numbytes=3&duration=0", version="HTTP/1.0")),
        Case(get("drip-negative-zero", "/drip?numbytes=2&duration=-0&delay=-0")),
    ]


def range_cases() -> List[Case]:
    ranges = {
        "two-to-five": "bytes=2-5",
        "past-end": "bytes=0-100",
        "suffix": "bytes=-5",
        "open-end": "bytes=5-",
        "suffix-zero": "bytes=-0",
        "suffix-larger": "bytes=-100",
        "multi-range-is-whole": "bytes=0-1,3-4",
        "other-unit": "items=0-1",
        "unparsable": "bytes=abc",
        "two-equals": "bytes=1-2=3",
        "spaces": "bytes = 1-2",
        "last-byte": "bytes=25-25",
        "start-at-size": "bytes=26-",
        "reversed": "bytes=3-2",
        "three-parts": "bytes=1-2-3",
        "empty": "",
        "no-dash": "bytes=7",
    }
    cases = [Case(get(f"range-{name}", "/range/26", ("Range", value))) for name, value in ranges.items()]
    cases += [
        Case(get("range-full", "/range/26")),
        Case(get("range-zero-404", "/range/0")),
        Case(get("range-over-cap-404", "/range/102401")),
        Case(get("range-100k", "/range/102400")),
        Case(get("range-100k-tail", "/range/102400", ("Range", "bytes=102000-"))),
        Case(get("range-chunked-paced", "/range/30?chunk_size=7&duration=0.1")),
        Case(get("range-chunk-key-uppercase", "/range/30?CHUNK_SIZE=3", ("Range", "bytes=4-20"))),
        Case(get("range-head", "/range/50", ("Range", "bytes=10-19"), method="HEAD")),
        Case(get("range-bad-duration-unsatisfiable", "/range/10?duration=-1", ("Range", "bytes=20-"))),
        Case(get("range-duration-negative-zero", "/range/5?duration=-0")),
        Case(get("range-http10", "/range/40", ("Range", "bytes=1-30"), version="HTTP/1.0")),
    ]
    return cases


def links_cases() -> List[Case]:
    return [
        Case(get("links-redirect", "/links/3")),
        Case(get("links-redirect-unclamped", "/links/500")),
        Case(get("links-page", "/links/3/1")),
        Case(get("links-page-first", "/links/10/0")),
        Case(get("links-n-zero-means-one", "/links/0/0")),
        Case(get("links-clamped-200", "/links/201/5")),
        Case(get("links-offset-beyond", "/links/5/10")),
        Case(get("links-head", "/links/4/2", method="HEAD")),
    ]


CASES = (
    uuid_cases() + base64_cases() + bytes_cases() + stream_bytes_cases() + stream_cases()
    + delay_cases() + drip_cases() + range_cases() + links_cases()
)


def test_suite_is_broad_enough():
    assert len(set(ids(CASES))) == len(CASES) >= 100


test_in_process, test_over_sockets, test_over_granian = differential_tests(CASES)


# -- exact vectors and generator properties ---------------------------------


def test_known_seed_vectors(mockbin_app):
    # The vectors httpbin's own test suite and the behaviour notes record.
    vectors = {(0, 10): "c5d71484f8cf9bf4b76f", (5, 5): "82b70eee7f", (1099511627779, 5): "701f309bda"}
    for (seed, n), expected in vectors.items():
        answer = call_wsgi(mockbin_app, get("v", f"/bytes/{n}?seed={seed}"))
        assert answer.body.hex() == expected


def test_seeded_stream_bytes_equal_bytes(mockbin_app):
    whole = call_wsgi(mockbin_app, get("b", "/bytes/5000?seed=77")).body
    streamed = call_wsgi(mockbin_app, get("s", "/stream-bytes/5000?seed=77&chunk_size=333")).body
    assert streamed == whole and len(whole) == 5000


def test_unseeded_bytes_differ_between_requests(mockbin_app):
    first = call_wsgi(mockbin_app, get("a", "/bytes/32")).body
    second = call_wsgi(mockbin_app, get("b", "/bytes/32")).body
    assert len(first) == len(second) == 32 and first != second


def test_range_bytes_are_the_alphabet(mockbin_app):
    body = call_wsgi(mockbin_app, get("r", "/range/60", ("Range", "bytes=24-29"))).body
    assert body == b"yzabcd"


# -- streaming over real sockets --------------------------------------------


def timed_exchange(port: int, target: str, method: str = "GET") -> Tuple[float, float, "object"]:
    """(seconds to the response head, seconds to the whole response, the response)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(build_request(method, target, [("Host", f"127.0.0.1:{port}")]))
        first = sock.recv(1, socket.MSG_PEEK)
        head_at = time.monotonic() - start
        assert first
        response, _ = read_response(sock, method)
    return head_at, time.monotonic() - start, response


def test_stream_is_chunked_one_line_per_chunk(live_pair):
    _, mine = live_pair
    response = call_socket(mine.port, get("s", "/stream/4"))
    assert response.header("Transfer-Encoding") == "chunked"
    lines = response.body.split(b"\n")[:-1]
    assert response.chunked_frames == [len(line) + 1 for line in lines] + [0]


def test_stream_bytes_frames_follow_chunk_size(live_pair):
    _, mine = live_pair
    response = call_socket(mine.port, get("s", "/stream-bytes/1000?chunk_size=300"))
    assert response.header("Transfer-Encoding") == "chunked"
    assert response.chunked_frames == [300, 300, 300, 100, 0]


def test_drip_takes_its_duration(live_pair):
    _, mine = live_pair
    head_at, total, response = timed_exchange(mine.port, "/drip?numbytes=4&duration=0.6&delay=0.3")
    assert response.body == b"****" and response.header("Content-Length") == "4"
    assert 0.25 <= head_at < 0.8  # the delay comes before the head
    # The last byte leaves 3 pauses of 0.15 s after the first (httpbin's schedule).
    assert 0.7 <= total < 2.5


def test_drip_bytes_arrive_spread_out(live_pair):
    _, mine = live_pair
    arrivals = []
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", mine.port), timeout=10) as sock:
        sock.sendall(build_request("GET", "/drip?numbytes=3&duration=0.6", [("Host", "x")]))
        data = b""
        while not data.endswith(b"***"):
            piece = sock.recv(65536)
            assert piece
            data += piece
            arrivals.append((time.monotonic() - start, data.count(b"*", data.find(b"\r\n\r\n"))))
    last_star_times = [t for t, stars in arrivals if stars >= 3]
    first_star_times = [t for t, stars in arrivals if stars >= 1]
    assert last_star_times[0] - first_star_times[0] >= 0.3  # third byte ~0.4 s after the first


def test_range_duration_paces_chunks(live_pair):
    _, mine = live_pair
    _, total, response = timed_exchange(mine.port, "/range/20?duration=0.5&chunk_size=5")
    assert response.body == b"abcdefghijklmnopqrst"
    # Four chunks of 5, each followed by its 0.125 s share: the last leaves at 0.375 s.
    assert 0.35 <= total < 2.0


def test_delay_waits(live_pair):
    _, mine = live_pair
    head_at, total, response = timed_exchange(mine.port, "/delay/0.4")
    assert response.status == 200
    assert 0.35 <= head_at < 1.5


def test_disconnected_slow_routes_free_the_worker(live_pair):
    """After a client hangs up, the one sync worker must serve the next request at once."""
    _, mine = live_pair
    # Each waits 4 s between pieces: a worker that did not notice would hold the next request.
    for target in ("/drip?numbytes=2&duration=8", "/delay/8", "/range/10?duration=8&chunk_size=5"):
        with socket.create_connection(("127.0.0.1", mine.port), timeout=10) as sock:
            sock.sendall(build_request("GET", target, [("Host", "x")]))
            time.sleep(0.2)
        start = time.monotonic()
        response = call_socket(mine.port, get("next", "/uuid"), timeout=10)
        assert response.status == 200
        assert time.monotonic() - start < 2.0, target  # not the ~4 s until the next piece


# -- deviations from httpbin (docs/compatibility.md, "Dynamic data") ----------


def problem_of(answer) -> dict:
    assert re.match(r"(HTTP/1.\d )?400 ", answer.status_line), answer.status_line
    assert dict(answer.headers)["Content-Type"] == "application/problem+json"
    return json.loads(answer.body)


@pytest.mark.parametrize(
    "target, parameter",
    [
        ("/delay/-1", "delay"),
        ("/delay/nan", "delay"),
        ("/delay/abc", "delay"),
        ("/bytes/4?seed=abc", "seed"),
        ("/bytes/4?seed=", "seed"),
        ("/stream-bytes/4?chunk_size=1.5", "chunk_size"),
        ("/drip?numbytes=2.5", "numbytes"),
        ("/drip?duration=x", "duration"),
        ("/drip?numbytes=0&duration=x", "duration"),
        ("/drip?code=abc&duration=0", "code"),
        ("/drip?duration=-1", "duration"),
        ("/drip?duration=nan", "duration"),
        ("/range/10?chunk_size=x", "chunk_size"),
        ("/range/10?duration=x", "duration"),
        ("/range/10?duration=-0.5", "duration"),
    ],
)
def test_httpbin_crashes_become_400(target, parameter, oracle_app, mockbin_app):
    shape = get("dev", target)
    assert httpbin_crashes(oracle_app, shape)
    problem = problem_of(call_wsgi(mockbin_app, shape))
    assert problem["type"] == "urn:mockbin:problem:invalid-parameter"
    assert problem["parameter"] == parameter


def httpbin_crashes(app, shape) -> bool:
    """A 500 page, or a body that fails half-way (httpbin sleeping a negative or NaN time)."""
    try:
        return call_wsgi(app, shape).status_line.startswith("500")
    except (ValueError, OverflowError):
        return True


@pytest.mark.parametrize("code", ["99", "0", "1000"])
def test_codes_gunicorn_cannot_send_are_refused(code, live_pair):
    oracle, mine = live_pair
    shape = get("code", f"/drip?numbytes=1&duration=0&code={code}")
    assert call_socket(oracle.port, shape).status == 500  # gunicorn refuses the status line
    answer = call_socket(mine.port, shape)
    assert problem_of(answer)["parameter"] == "code"


def test_seeding_does_not_leak_into_later_requests(oracle_app, mockbin_app):
    """httpbin seeds its process-wide generator; mockbin seeds the one request only."""
    seeded = get("seeded", "/bytes/10?seed=0")
    follow = get("follow", "/bytes/10")
    call_wsgi(oracle_app, seeded)
    oracle_follow = call_wsgi(oracle_app, follow).body
    call_wsgi(oracle_app, seeded)
    assert call_wsgi(oracle_app, follow).body == oracle_follow  # httpbin: predictable
    call_wsgi(mockbin_app, seeded)
    mine_follow = call_wsgi(mockbin_app, follow).body
    call_wsgi(mockbin_app, seeded)
    assert call_wsgi(mockbin_app, follow).body != mine_follow  # mockbin: fresh randomness


# -- limits: --max-duration and --max-generated-size --------------------------


def limit_problem(answer, setting: str) -> dict:
    problem = problem_of(answer)
    assert problem["type"] == "urn:mockbin:problem:limit-exceeded"
    assert problem["setting"] == setting and setting in problem["detail"]
    return problem


@pytest.mark.parametrize(
    "target, body_length",
    [
        ("/bytes/1000", 1000),
        ("/stream-bytes/1000?chunk_size=300", 1000),
        ("/range/1000", 1000),
        ("/drip?numbytes=1000&duration=0", 1000),
    ],
)
def test_generated_size_at_the_limit(target, body_length, low_app):
    answer = call_wsgi(low_app, get("edge", target))
    assert answer.status_line.startswith("200") and len(answer.body) == body_length


@pytest.mark.parametrize(
    "target",
    ["/bytes/1001", "/stream-bytes/1001", "/range/1001", "/drip?numbytes=1001&duration=0", "/bytes/200000"],
)
def test_generated_size_past_the_limit(target, low_app):
    problem = limit_problem(call_wsgi(low_app, get("past", target)), "--max-generated-size")
    assert problem["limit"] == 1000 and "MOCKBIN_MAX_GENERATED_SIZE" in problem["detail"]


def test_default_size_limit_keeps_httpbin_caps(mockbin_app):
    from mockbin.settings import Settings

    assert Settings().max_generated_size == 10 * 1024 * 1024  # /drip's own cap
    drip = call_wsgi(mockbin_app, get("d", "/drip?numbytes=10485760&duration=0", method="HEAD"))
    assert drip.status_line.startswith("200") and ("Content-Length", "10485760") in drip.headers


@pytest.mark.parametrize(
    "target",
    [
        "/drip?numbytes=1&duration=0.3",
        "/drip?numbytes=1&duration=0.1&delay=0.2",
        "/drip?numbytes=1&duration=0&delay=0.3",
        "/range/10?duration=0.3",
    ],
)
def test_duration_at_the_limit(target, low_app):
    answer = call_wsgi(low_app, get("edge", target, method="HEAD"))
    assert answer.status_line.startswith("200")


@pytest.mark.parametrize(
    "target",
    [
        "/drip?numbytes=1&duration=0.31",
        "/drip?numbytes=1&duration=0.2&delay=0.11",
        "/drip?numbytes=1&duration=0&delay=0.31",
        "/drip?numbytes=1&duration=0&delay=inf",
        "/drip?numbytes=1&duration=inf",
        "/range/10?duration=0.31",
        "/range/10?duration=inf",
    ],
)
def test_duration_past_the_limit(target, low_app):
    problem = limit_problem(call_wsgi(low_app, get("past", target)), "--max-duration")
    assert problem["limit"] == 0.3 and "MOCKBIN_MAX_DURATION" in problem["detail"]


@pytest.mark.parametrize("target", ["/drip?numbytes=1&duration=10", "/range/5?duration=10"])
def test_default_duration_limit_is_ten_seconds(target, mockbin_app):
    # HEAD checks the parameters without streaming the paced body.
    assert call_wsgi(mockbin_app, get("ten", target, method="HEAD")).status_line.startswith("200")
    past = call_wsgi(mockbin_app, get("more", target + ".001"))
    assert limit_problem(past, "--max-duration")["limit"] == 10


@pytest.mark.parametrize("delay", ["3", "inf", "1e9"])
def test_delay_is_cut_to_the_limit_not_refused(delay, low_server):
    """httpbin cuts /delay at 10 s silently; mockbin cuts it at --max-duration."""
    head_at, _, response = timed_exchange(low_server.port, f"/delay/{delay}")
    assert response.status == 200 and json.loads(response.body)["url"].endswith(f"/delay/{delay}")
    assert 0.25 <= head_at < 2.0  # 0.3 s, not the 3 s (or more) asked for


def test_limits_over_sockets(low_server):
    port = low_server.port
    assert call_socket(port, get("ok", "/bytes/1000")).status == 200
    limit_problem(call_socket(port, get("big", "/bytes/1001")), "--max-generated-size")
    limit_problem(call_socket(port, get("slow", "/drip?numbytes=2&duration=0.5")), "--max-duration")
    head_at, total, response = timed_exchange(port, "/drip?numbytes=3&duration=0.3")
    assert response.body == b"***" and 0.15 <= total < 1.5


# -- streaming under mockbin's default worker (gevent: keep-alive) ----


@pytest.fixture(scope="module")
def threaded_server():
    port = free_port()
    with ServerProcess(mockbin_argv(port), port) as server:
        yield server


def test_streams_keep_the_connection_usable(threaded_server):
    """Paced and chunked answers end cleanly, so a keep-alive connection serves the next request."""
    port = threaded_server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        buffer = b""
        for target in ("/drip?numbytes=3&duration=0.2", "/stream/2", "/stream-bytes/50?chunk_size=20&seed=1", "/uuid"):
            sock.sendall(build_request("GET", target, [("Host", "x")]))
            response, buffer = read_response(sock, "GET", buffer)
            assert response.status == 200 and response.header("Connection") != "close", target
        assert buffer == b""


def test_disconnect_under_threads(threaded_server):
    port = threaded_server.port
    clients = []
    for _ in range(2):  # occupy both threads with 8-second answers, then leave
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.sendall(build_request("GET", "/drip?numbytes=2&duration=8", [("Host", "x")]))
        clients.append(client)
    time.sleep(0.3)
    for client in clients:
        client.close()
    start = time.monotonic()
    assert call_socket(port, get("next", "/uuid"), timeout=10).status == 200
    assert time.monotonic() - start < 2.0  # not the ~4 s until the next byte


def test_links_carry_the_prefix():
    """Behind --prefix, link pages and their redirect point inside the prefix."""
    from mockbin import create_app
    from mockbin.settings import Settings

    app = create_app(Settings(prefix="/hb"))
    redirect = call_wsgi(app, get("r", "/hb/links/3"))
    assert ("Location", "/hb/links/3/0") in redirect.headers
    page = call_wsgi(app, get("p", "/hb/links/2/0")).body
    assert page == b"<html><head><title>Links</title></head><body>0 <a href='/hb/links/2/1'>1</a> </body></html>"


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"MOCKBIN_MAX_DURATION": "500ms"}, ("max_duration", 0.5)),
        ({"MOCKBIN_MAX_DURATION": "2.5"}, ("max_duration", 2.5)),
        ({"MOCKBIN_MAX_DURATION": "1m"}, ("max_duration", 60.0)),
        ({"MOCKBIN_MAX_DURATION": "30s"}, ("max_duration", 30.0)),
        ({"MOCKBIN_MAX_GENERATED_SIZE": "1KiB"}, ("max_generated_size", 1024)),
        ({"MOCKBIN_MAX_GENERATED_SIZE": "20MiB"}, ("max_generated_size", 20 * 1024 * 1024)),
    ],
)
def test_limit_settings_from_env(env, expected):
    from mockbin.settings import Settings

    name, value = expected
    assert getattr(Settings.from_env(env), name) == value


@pytest.mark.parametrize("flag, value", [("--max-duration", "-1"), ("--max-duration", "ten"), ("--max-generated-size", "big")])
def test_bad_limit_flags_exit_2(flag, value):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "mockbin", "serve", "--port", "0", flag, value],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2
    assert flag in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_large_drip_keeps_to_its_duration(live_pair):
    """httpbin sleeps once per byte, so 100 000 bytes over 0.5 s take far longer; mockbin sends
    the bytes that are due together and ends on time."""
    _, mine = live_pair
    _, total, response = timed_exchange(mine.port, "/drip?numbytes=100000&duration=0.5")
    assert len(response.body) == 100000 and set(response.body) == {ord("*")}
    assert 0.4 <= total < 3.0
