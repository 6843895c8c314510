"""Cookie routes answer as httpbin 0.10.4 does: Set-Cookie spelling, Secure, hidden tracking cookies."""

from __future__ import annotations

import json

import pytest
import requests

from support.compare import differential_tests
from support.differential import Shape, call_socket

COOKIE = "Cookie"

SHAPES = [
    Shape("list-none", "GET", "/cookies"),
    Shape("list-simple", "GET", "/cookies", ((COOKIE, "a=1; b=2"),)),
    Shape("list-duplicate-first-wins", "GET", "/cookies", ((COOKIE, "a=1; a=2"),)),
    Shape("list-quoted-unquoted", "GET", "/cookies", ((COOKIE, 'c="quoted"; d="a\\"b"'),)),
    Shape("list-octal-escapes", "GET", "/cookies", ((COOKIE, 'e="\\303\\251"; f="va\\073lue"'),)),
    Shape("list-no-percent-decoding", "GET", "/cookies", ((COOKIE, "x=caf%C3%A9"),)),
    Shape("list-name-without-value", "GET", "/cookies", ((COOKIE, "flag; a=1"),)),
    Shape("list-empty-value", "GET", "/cookies", ((COOKIE, "a="),)),
    Shape("list-latin1", "GET", "/cookies", ((COOKIE, b"a=caf\xe9"),)),
    Shape("list-spaces-and-semicolons", "GET", "/cookies", ((COOKIE, " a = 1 ;;b=2; "),)),
    Shape("list-two-cookie-headers", "GET", "/cookies", ((COOKIE, "a=1"), (COOKIE, "b=2"))),
    Shape("list-tracking-hidden", "GET", "/cookies", ((COOKIE, "_gauges_unique=1; __utma=2; __utmb=3; __utmz=4; _gauges_unique_hour=5; keep=6"),)),
    Shape("list-tracking-shown", "GET", "/cookies?show_env=1", ((COOKIE, "_gauges_unique=1; __utma=2; keep=6"),)),
    Shape("list-tracking-shown-bare-key", "GET", "/cookies?show_env", ((COOKIE, "__utmz=4"),)),
    Shape("list-head", "HEAD", "/cookies", ((COOKIE, "a=1"),)),
    Shape("list-options", "OPTIONS", "/cookies"),
    Shape("list-post-405", "POST", "/cookies"),
    Shape("set-path-simple", "GET", "/cookies/set/name/value"),
    Shape("set-path-space", "GET", "/cookies/set/name/v%202"),
    Shape("set-path-semicolon", "GET", "/cookies/set/name/va%3Blue"),
    Shape("set-path-utf8", "GET", "/cookies/set/name/%C3%A9"),
    Shape("set-path-utf8-name", "GET", "/cookies/set/%E2%82%AC/v"),
    Shape("set-path-quote", "GET", "/cookies/set/q/a%22b"),
    Shape("set-path-backslash", "GET", "/cookies/set/q/a%5Cb"),
    Shape("set-path-comma", "GET", "/cookies/set/q/a,b"),
    Shape("set-path-query-ignored", "GET", "/cookies/set/n/v?x=1"),
    Shape("set-path-head", "HEAD", "/cookies/set/n/v"),
    Shape("set-path-missing-value-404", "GET", "/cookies/set/n"),
    Shape("set-query-none", "GET", "/cookies/set"),
    Shape("set-query-several", "GET", "/cookies/set?a=v%202&b=va%3Blue&c=%C3%A9&d=a%22b&e="),
    Shape("set-query-first-value-wins", "GET", "/cookies/set?a=1&b=2&a=3"),
    Shape("set-query-bare-key", "GET", "/cookies/set?flag"),
    Shape("set-query-name-with-equals", "GET", "/cookies/set?a%3Db=1%3B2"),
    Shape("set-query-name-with-space", "GET", "/cookies/set?a%20b=1"),
    Shape("set-query-unicode-name", "GET", "/cookies/set?%C3%A9=1"),
    Shape("set-query-long-value", "GET", "/cookies/set?big=" + "x" * 3000),
    Shape("set-query-allowed-punctuation", "GET", "/cookies/set?p=!%23$%25%26'()*%2B-./:%3C%3D%3E?@[]^_`{|}~"),
    Shape("set-query-control-escaped-in-value", "GET", "/cookies/set?v=a%01b%7F"),
    Shape("set-existing-cookie-irrelevant", "GET", "/cookies/set?a=2", ((COOKIE, "a=1"),)),
    Shape("set-origin-cors", "GET", "/cookies/set?a=1", (("Origin", "https://o.example"),)),
    Shape("set-put-405", "PUT", "/cookies/set?a=1"),
    Shape("delete-one", "GET", "/cookies/delete?k1"),
    Shape("delete-several", "GET", "/cookies/delete?k1&k2=x&k3=y"),
    Shape("delete-none", "GET", "/cookies/delete"),
    Shape("delete-duplicate-names", "GET", "/cookies/delete?k&k"),
    Shape("delete-unicode-name", "GET", "/cookies/delete?%E2%82%AC"),
    Shape("delete-head", "HEAD", "/cookies/delete?a"),
    Shape("delete-https-not-secure", "GET", "/cookies/delete?a", (("X-Forwarded-Proto", "https"),)),
    Shape("set-https-secure", "GET", "/cookies/set?a=1&b=2", (("X-Forwarded-Proto", "https"),)),
    Shape("set-path-https-secure", "GET", "/cookies/set/n/v", (("X-Forwarded-Ssl", "on"),)),
]


test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES)


def test_secure_flag_over_https_from_a_trusted_proxy(live_pair):
    """gunicorn turns X-Forwarded-Proto: https from 127.0.0.1 into an https request."""
    _, mine = live_pair
    answer = call_socket(mine.port, Shape("s", "GET", "/cookies/set?a=1", (("X-Forwarded-Proto", "https"),)))
    assert answer.header_list("Set-Cookie") == ["a=1; Secure; Path=/"]


def test_a_browser_like_session_round_trips(live_pair):
    """requests.Session stores what /cookies/set sets and sends it back to /cookies."""
    _, mine = live_pair
    with requests.Session() as session:
        listed = session.get(f"{mine.url}/cookies/set?a=v%202&b=%C3%A9", timeout=10)
        assert listed.history[0].status_code == 302
        assert listed.json() == {"cookies": {"a": "v 2", "b": "é"}}
        listed = session.get(f"{mine.url}/cookies/set/c/3", timeout=10)
        assert listed.json()["cookies"]["c"] == "3"
        listed = session.get(f"{mine.url}/cookies/delete?a&c", timeout=10)
        assert listed.json() == {"cookies": {"b": "é"}}


# -- deviations (docs/compatibility.md, "Cookies") ----------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize(
    "path",
    ["/cookies/set?a%0D%0Ab=1", "/cookies/set?a%01b=1", "/cookies/set?a%7F=1",
     "/cookies/set/a%01b/v", "/cookies/delete?a%0Ab", "/cookies/delete?a%00"],
)
def test_unsendable_cookie_names_get_a_clear_400(path, live_pair):
    oracle, mine = live_pair
    shape = Shape("bad", "GET", path)
    assert call_socket(oracle.port, shape).status == 500  # the deviation is real
    answer = call_socket(mine.port, shape)
    assert answer.status == 400 and answer.header("Set-Cookie") is None
    problem = json.loads(answer.body)
    assert problem["type"] == "urn:mockbin:problem:invalid-cookie"
    assert "control character" in problem["detail"]


@pytest.mark.oracle
@pytest.mark.parametrize("path, expected", [
    ("/cookies/set?a=%1A%1F", 'a="\\032\\037"; Path=/'),
    ("/cookies/set/a/x%1By", 'a="x\\033y"; Path=/'),
    ("/cookies/set?a=%01%1E%7F", 'a="\\001\\036\\177"; Path=/'),
])
def test_every_control_character_in_a_value_is_escaped(path, expected, live_pair):
    """Werkzeug escapes 0x00-0x19 but sends 0x1A-0x1F raw, so httpbin answers 500; mockbin escapes all."""
    oracle, mine = live_pair
    shape = Shape("ctl", "GET", path)
    if "%1" in path:
        assert call_socket(oracle.port, shape).status == 500  # the deviation is real
    answer = call_socket(mine.port, shape)
    assert answer.status == 302 and answer.header_list("Set-Cookie") == [expected]
