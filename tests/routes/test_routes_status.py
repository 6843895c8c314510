"""/status/<codes> answers as httpbin 0.10.4 does, except where httpbin crashes.

Deterministic shapes are compared byte for byte with the oracle, in-process
and over sockets.  Weighted random picks are compared as distributions, and
-- since both draw from the process-wide ``random`` generator the same way --
byte for byte in-process after seeding the generator identically.  The
deviations of docs/compatibility.md ("Status") are asserted at the end.
"""

from __future__ import annotations

import json
import random

import pytest

from support.compare import differential_tests
from support.differential import Shape, call_socket, call_wsgi

ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE", "HEAD")
SPECIAL = (301, 302, 303, 304, 305, 307, 401, 402, 406, 407)
PLAIN = (100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 226, 300, 306, 308, 400, 403,
         404, 405, 408, 410, 413, 421, 422, 425, 429, 451, 499, 500, 502, 503, 511, 599, 600, 999)

SHAPES = (
    [Shape(f"code-{code}", "GET", f"/status/{code}") for code in SPECIAL + PLAIN]
    + [Shape(f"head-{code}", "HEAD", f"/status/{code}") for code in (200, 302, 304, 402, 406, 500)]
    + [Shape(f"method-{m.lower()}-402", m, "/status/402", body=b"x" if m in ("POST", "PUT", "PATCH") else None)
       for m in ALL_METHODS]
    + [
        Shape("options", "OPTIONS", "/status/500", (("Origin", "https://a.example"),)),
        Shape("unknown-method-405", "PROPFIND", "/status/200"),
        Shape("lenient-plus", "GET", "/status/+201"),
        Shape("lenient-underscore", "GET", "/status/2_00"),
        Shape("lenient-spaces", "GET", "/status/%20202%20"),
        Shape("lenient-leading-zero", "GET", "/status/0404"),
        Shape("lenient-arabic-indic-digits", "GET", "/status/%D9%A2%D9%A0%D9%A0"),
        Shape("invalid-word", "GET", "/status/abc"),
        Shape("invalid-hex", "GET", "/status/0x10"),
        Shape("invalid-float", "GET", "/status/200.0"),
        Shape("invalid-empty-item", "GET", "/status/200,"),
        Shape("invalid-lone-comma", "GET", "/status/,"),
        Shape("invalid-empty-weight", "GET", "/status/200:,201"),
        Shape("invalid-empty-code", "GET", "/status/:1,201"),
        Shape("invalid-weight-word", "GET", "/status/200:x,201"),
        Shape("invalid-first-item-wins", "GET", "/status/x,200:1:2"),
        Shape("weights-zero-then-one", "GET", "/status/200:0,500:1"),
        Shape("weights-one-then-zeros", "GET", "/status/404:1,200:0,500:0"),
        Shape("weights-float-and-exponent", "GET", "/status/201:1e0,500:0.0"),
        Shape("weights-lenient-code", "GET", "/status/+202:1,500:0"),
        Shape("weights-post", "POST", "/status/200:0,307:2", body=b"a=1"),
        Shape("cors-origin-on-redirect", "GET", "/status/301", (("Origin", "https://x.example"),)),
        Shape("http10", "GET", "/status/402", version="HTTP/1.0"),
        Shape("trailing-slash-404", "GET", "/status/200/"),
    ]
)


test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES)


def test_suite_counts():
    assert len({shape.id for shape in SHAPES}) == len(SHAPES) >= 80


# -- weighted random choice -------------------------------------------------------------

DRAWS = ["200,201,202,404", "200:1,500:3", "301:0.5,404:0.25,503:0.25", "204:2,206:1e-3,202:1"]


@pytest.mark.oracle
@pytest.mark.parametrize("codes", DRAWS)
def test_seeded_draws_match_httpbin(codes, oracle_app, mockbin_app):
    """Same seed, same picks: both draw uniform(0, total) from the global generator."""
    seen = set()
    for seed in range(12):
        random.seed(seed)
        expected = call_wsgi(oracle_app, Shape("d", "GET", f"/status/{codes}"))
        random.seed(seed)
        actual = call_wsgi(mockbin_app, Shape("d", "GET", f"/status/{codes}"))
        assert (actual.status_line, actual.headers, actual.body) == (
            expected.status_line, expected.headers, expected.body
        ), f"seed {seed}"
        seen.add(actual.status_line)
    assert len(seen) >= 2  # the seeds really exercise the draw


def test_weighted_draws_follow_the_weights(live_pair):
    """Over sockets (unseeded): only listed codes, each roughly as often as its weight says."""
    _, mine = live_pair
    counts = {}
    for _ in range(200):
        status = call_socket(mine.port, Shape("w", "GET", "/status/200:3,503:1")).status
        counts[status] = counts.get(status, 0) + 1
    assert set(counts) == {200, 503}
    assert 110 <= counts[200] <= 190  # expected 150; far outside is a broken draw, not chance


def test_zero_weight_never_drawn(mockbin_app):
    statuses = {call_wsgi(mockbin_app, Shape("z", "GET", "/status/500:0,200:1,404:0")).status_line for _ in range(50)}
    assert statuses == {"200 OK"}


# -- mockbin's own teapot -----------------------------------------------------------------

def test_teapot_is_mockbins_own_with_httpbins_headers(live_pair):
    oracle, mine = live_pair
    shape = Shape("teapot", "GET", "/status/418")
    expected, actual = call_socket(oracle.port, shape), call_socket(mine.port, shape)
    assert actual.status_line == expected.status_line == "HTTP/1.1 418 I'M A TEAPOT"
    assert [n for n, _ in actual.headers] == [n for n, _ in expected.headers]
    assert actual.header("x-more-info") == "http://tools.ietf.org/html/rfc2324"
    assert actual.header("Content-Type") is None
    assert actual.body != expected.body  # own drawing, not httpbin's
    assert 100 <= len(actual.body) <= 200 and actual.body.isascii()
    assert actual.body.startswith(b"\n") and actual.body.endswith(b"\n")
    assert b"TEAPOT" in actual.body
    assert actual.header("Content-Length") == str(len(actual.body))


# -- deviations (docs/compatibility.md, "Status") ---------------------------------------------

CRASHES = [
    # (id, codes, httpbin's failure: "gunicorn" = gunicorn's own 500 page, "app" = Flask 500)
    ("below-100", "99", "gunicorn"),
    ("zero", "0", "gunicorn"),
    ("negative", "-1", "gunicorn"),
    ("four-digits", "1000", "gunicorn"),
    ("two-colons", "200:1:2,201", "app"),
    ("negative-weight-runs-off", "200:-1,201:1", "app"),
    ("all-weights-zero", "200:0,201:0", "app"),
    ("infinite-weight", "200:inf,201", "app"),
    ("nan-weight", "200:nan,201:1", "app"),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", CRASHES, ids=[c[0] for c in CRASHES])
def test_httpbin_crash_is_a_clear_400(case, live_pair):
    _, codes, _ = case
    oracle, mine = live_pair
    shape = Shape("crash", "GET", f"/status/{codes}")
    assert call_socket(oracle.port, shape).status == 500  # the deviation is real
    answer = call_socket(mine.port, shape)
    assert answer.status == 400
    assert answer.header("Content-Type") == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["status"] == 400 and problem["type"] == "urn:mockbin:problem:invalid-status-code"
    assert problem["detail"]
    assert answer.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("codes", ["99,200", "200:0,1000:0", "200:1,201:-0.5,202:1"])
def test_every_choice_is_checked_before_the_draw(codes, mockbin_app):
    """A list with an unusable code or weight is refused every time, not only when drawn."""
    for _ in range(5):
        assert call_wsgi(mockbin_app, Shape("c", "GET", f"/status/{codes}")).status_line == "400 BAD REQUEST"


def test_edge_codes_are_accepted(mockbin_app):
    for code in (100, 999):
        assert call_wsgi(mockbin_app, Shape("e", "GET", f"/status/{code}")).status_line.startswith(str(code))


def test_redirect_codes_honour_the_prefix():
    from mockbin import create_app
    from mockbin.settings import Settings

    app = create_app(Settings(prefix="/mb"))
    answer = call_wsgi(app, Shape("p", "GET", "/mb/status/302"))
    assert dict(answer.headers)["Location"] == "/mb/redirect/1"
