"""Redirect routes answer as httpbin 0.10.4 does, under --prefix too, with a host allowlist.

Differential shapes cover the three chains and /redirect-to for every
method; real clients (requests) follow the chains over sockets; the
deviations of docs/compatibility.md ("Redirects") and the
``--allowed-redirect-domains`` setting are asserted at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from support.compare import compare_sockets, differential_tests, ids
from support.differential import Shape, assert_same, call_socket, call_wsgi
from support.servers import ServerProcess, free_port, mockbin_argv

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")
FORM = ("Content-Type", "application/x-www-form-urlencoded")

CHAIN_SHAPES = [
    Shape("redirect-1", "GET", "/redirect/1"),
    Shape("redirect-2", "GET", "/redirect/2"),
    Shape("redirect-6", "GET", "/redirect/6"),
    Shape("redirect-leading-zeros", "GET", "/redirect/007"),
    Shape("redirect-1-absolute", "GET", "/redirect/1?absolute=true"),
    Shape("redirect-3-absolute-upper", "GET", "/redirect/3?absolute=TRUE"),
    Shape("redirect-absolute-not-true", "GET", "/redirect/3?absolute=yes"),
    Shape("redirect-first-absolute-wins", "GET", "/redirect/2?absolute=false&absolute=true"),
    Shape("redirect-args-dropped", "GET", "/redirect/2?x=1&y=2"),
    Shape("redirect-host-default-port", "GET", "/redirect/2?absolute=true", host="Example.COM:80"),
    Shape("redirect-host-custom-port", "GET", "/absolute-redirect/1", host="mock.example:8443"),
    Shape("redirect-forwarded-host-ignored", "GET", "/redirect/1?absolute=true", (("X-Forwarded-Host", "other.example"),)),
    Shape("redirect-negative-404", "GET", "/redirect/-1"),
    Shape("redirect-word-404", "GET", "/redirect/two"),
    Shape("redirect-head", "HEAD", "/redirect/2"),
    Shape("redirect-options", "OPTIONS", "/redirect/2"),
    Shape("redirect-post-405", "POST", "/redirect/2"),
    Shape("redirect-cors-origin", "GET", "/redirect/1", (("Origin", "https://app.example"),)),
    Shape("redirect-http10", "GET", "/redirect/2", version="HTTP/1.0"),
    Shape("relative-1", "GET", "/relative-redirect/1"),
    Shape("relative-2", "GET", "/relative-redirect/2"),
    Shape("relative-25", "GET", "/relative-redirect/25"),
    Shape("relative-absolute-ignored", "GET", "/relative-redirect/3?absolute=true"),
    Shape("relative-head", "HEAD", "/relative-redirect/2"),
    Shape("relative-put-405", "PUT", "/relative-redirect/2"),
    Shape("absolute-1", "GET", "/absolute-redirect/1"),
    Shape("absolute-2", "GET", "/absolute-redirect/2"),
    Shape("absolute-9", "GET", "/absolute-redirect/9"),
    Shape("absolute-host-uppercase", "GET", "/absolute-redirect/2", host="LOCALHOST:5000"),
    Shape("absolute-head", "HEAD", "/absolute-redirect/3"),
    Shape("absolute-post-405", "POST", "/absolute-redirect/3"),
]

REDIRECT_TO_SHAPES = (
    [Shape(f"to-{m.lower()}", m, "/redirect-to?url=/get") for m in METHODS]
    + [Shape(f"to-{m.lower()}-307", m, "/redirect-to?url=/anything&status_code=307") for m in METHODS]
    + [Shape(f"to-status-{c}", "GET", f"/redirect-to?url=/get&status_code={c}")
       for c in ("300", "301", "302", "303", "304", "305", "308", "399", "200", "400", "299", "+307", "%20303%20", "0308")]
    + [
        Shape("to-head", "HEAD", "/redirect-to?url=/get&status_code=303"),
        Shape("to-options", "OPTIONS", "/redirect-to?url=/get"),
        Shape("to-absolute-http", "GET", "/redirect-to?url=http://example.com/path?q=1"),
        Shape("to-absolute-https", "GET", "/redirect-to?url=https%3A%2F%2Fexample.org%2Fa%3Fb%3Dc%26d%3De"),
        Shape("to-keys-case-insensitive", "GET", "/redirect-to?URL=/x&Status_Code=301"),
        Shape("to-first-url-wins", "GET", "/redirect-to?url=/first&URL=/second&url=/third"),
        Shape("to-first-status-wins", "GET", "/redirect-to?url=/x&status_code=301&STATUS_CODE=307"),
        Shape("to-form-body-ignored", "POST", "/redirect-to?url=/from-query", (FORM,), b"url=/from-body&status_code=307"),
        Shape("to-json-body-ignored", "PUT", "/redirect-to?url=/q", (("Content-Type", "application/json"),), b'{"url": "/b"}'),
        Shape("to-iri-encoded", "GET", "/redirect-to?url=http://b%C3%BCcher.example/%C3%A9?q=%C3%A9%20x"),
        Shape("to-specials-encoded", "GET", "/redirect-to?url=/a%20b%3Cc%3E%22'"),
        Shape("to-control-percent-encoded", "GET", "/redirect-to?url=/a%7Fb%01c%00"),
        Shape("to-tab-dropped", "GET", "/redirect-to?url=/a%09b"),
        Shape("to-empty-url", "GET", "/redirect-to?url="),
        Shape("to-fragment", "GET", "/redirect-to?url=/get%23frag"),
        Shape("to-scheme-relative", "GET", "/redirect-to?url=//example.net/x"),
        Shape("to-backslash", "GET", "/redirect-to?url=%5Cexample.net"),
        Shape("to-javascript", "GET", "/redirect-to?url=javascript:alert(1)"),
        Shape("to-ipv6-host", "GET", "/redirect-to?url=http://[::1]:8080/x"),
        Shape("to-userinfo", "GET", "/redirect-to?url=http://user:pw@example.com/"),
        Shape("to-space-in-host", "GET", "/redirect-to?url=http://a%20b/"),
        Shape("to-latin1-query-key", "GET", "/redirect-to?url=/x&caf%E9=1"),
        Shape("to-trailing-slash-404", "GET", "/redirect-to/?url=/x"),
        Shape("to-unknown-method-405", "PROPFIND", "/redirect-to?url=/x"),
    ]
)

SHAPES = CHAIN_SHAPES + REDIRECT_TO_SHAPES


test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES)


@pytest.mark.oracle
def test_https_from_a_trusted_proxy_makes_absolute_urls_https(live_pair):
    """gunicorn trusts X-Forwarded-Proto from 127.0.0.1: both servers then say https."""
    shape = Shape("xfp", "GET", "/absolute-redirect/2", (("X-Forwarded-Proto", "https"),))
    compare_sockets(live_pair, shape)
    assert call_socket(live_pair[1].port, shape).header("Location").startswith("https://")


# -- real clients follow the chains ---------------------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize("path", ["/redirect/4", "/redirect/3?absolute=true", "/relative-redirect/3", "/absolute-redirect/3"])
def test_requests_follows_the_same_chain(path, live_pair):
    oracle, mine = live_pair
    theirs = requests.get(oracle.url + path, timeout=10)
    ours = requests.get(mine.url + path, timeout=10)
    hops = int(path.split("/")[2].split("?")[0])
    assert len(ours.history) == len(theirs.history) == hops
    assert [r.status_code for r in ours.history] == [r.status_code for r in theirs.history]
    swap = (str(oracle.port), str(mine.port))
    assert [r.headers["Location"] for r in ours.history] == [
        r.headers["Location"].replace(*swap) for r in theirs.history
    ]
    assert ours.status_code == 200 and ours.json()["url"] == mine.url + "/get"


# -- --prefix -------------------------------------------------------------------------------

PREFIX = "/mb"
PREFIX_SHAPES = [
    Shape("prefix-redirect-3", "GET", "/redirect/3"),
    Shape("prefix-redirect-1", "GET", "/redirect/1"),
    Shape("prefix-redirect-absolute", "GET", "/redirect/2?absolute=true"),
    Shape("prefix-relative-2", "GET", "/relative-redirect/2"),
    Shape("prefix-relative-1", "GET", "/relative-redirect/1"),
    Shape("prefix-absolute-1", "GET", "/absolute-redirect/1"),
    Shape("prefix-absolute-2", "GET", "/absolute-redirect/2"),
    Shape("prefix-redirect-to-relative-kept", "GET", "/redirect-to?url=get"),
    Shape("prefix-cookies-set", "GET", "/cookies/set?a=1"),
    Shape("prefix-cookies-delete", "GET", "/cookies/delete?a"),
]


@pytest.fixture(scope="module")
def prefixed_app():
    from mockbin import create_app
    from mockbin.settings import Settings

    return create_app(Settings(prefix=PREFIX))


@pytest.mark.oracle
@pytest.mark.parametrize("shape", PREFIX_SHAPES, ids=ids(PREFIX_SHAPES))
def test_prefix_matches_httpbin_mounted_at_the_same_path(shape, oracle_app, prefixed_app):
    """httpbin mounted at SCRIPT_NAME=/mb and mockbin --prefix /mb build the same URLs."""
    expected = call_wsgi(oracle_app, shape, script_name=PREFIX)
    actual = call_wsgi(prefixed_app, shape, path_prefix=PREFIX)
    assert_same(expected, actual, ports=())


# -- deviations (docs/compatibility.md, "Redirects") ------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize("path", ["/redirect/0", "/relative-redirect/0", "/absolute-redirect/0", "/redirect/0?absolute=true"])
def test_zero_hops_answer_as_the_chain_end(path, live_pair):
    """httpbin: 500.  mockbin: no redirect left to make, so the answer /get would give."""
    oracle, mine = live_pair
    shape = Shape("zero", "GET", path)
    assert call_socket(oracle.port, shape).status == 500
    answer = call_socket(mine.port, shape)
    get = call_socket(mine.port, Shape("get", "GET", "/get" + path.partition("?")[1] + path.partition("?")[2]))
    assert answer.status == 200 and answer.header("Content-Type") == "application/json"
    body, get_body = json.loads(answer.body), json.loads(get.body)
    assert body["url"] == f"http://127.0.0.1:{mine.port}{path}"
    assert {k: v for k, v in body.items() if k != "url"} == {k: v for k, v in get_body.items() if k != "url"}


REDIRECT_TO_CRASHES = [
    # (id, query, what httpbin does)
    ("missing-url", "", "302 with Location: None"),
    ("only-status-code", "status_code=307", "307 with Location: None"),
    ("crlf-in-url", "url=/a%0D%0ASet-Cookie:%20x=1", "500"),
    ("lf-in-url", "url=/a%0Ab", "500"),
    ("status-code-not-a-number", "url=/x&status_code=abc", "500"),
    ("status-code-empty", "url=/x&status_code=", "500"),
    ("bad-ipv6-host", "url=http://%5B::1/x", "500"),
    ("empty-idna-label", "url=http://a..b%C3%A9/", "500"),
    ("port-out-of-range", "url=http://x:99999999/", "500"),
    ("port-not-a-number", "url=http://x:abc/", "500"),
    ("control-char-in-host", "url=http://a%01b/", "gunicorn 500"),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", REDIRECT_TO_CRASHES, ids=[c[0] for c in REDIRECT_TO_CRASHES])
def test_redirect_to_unusable_input_is_a_clear_400(case, live_pair):
    _, query, _ = case
    oracle, mine = live_pair
    shape = Shape("bad", "GET", "/redirect-to?" + query)
    theirs = call_socket(oracle.port, shape)
    assert theirs.status == 500 or theirs.header("Location") == "None"  # the deviation is real
    answer = call_socket(mine.port, shape)
    assert answer.status == 400 and answer.header("Location") is None
    assert answer.header("Content-Type") == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["type"] == "urn:mockbin:problem:invalid-redirect" and problem["detail"]


def test_missing_url_says_which_parameter(mockbin_app):
    detail = json.loads(call_wsgi(mockbin_app, Shape("m", "POST", "/redirect-to")).body)["detail"]
    assert "url query parameter is required" in detail


# -- --allowed-redirect-domains ----------------------------------------------------------------

ALLOWED = ("example.com", "*.example.org", "bücher.example")

ALLOWED_TARGETS = [
    "/get", "get", "../x", "?a=1", "#frag", "",
    "http://example.com/x", "https://EXAMPLE.com./y", "http://example.com:8080/",
    "http://a.example.org/", "https://b.c.example.org/z", "http://b%C3%BCcher.example/",
    "http://xn--bcher-kva.example/", "HTTP://EXAMPLE.COM", "http://example%E3%80%82com/",
    "https://example.com%5C.evil.test",  # a browser reads the backslash as a slash: example.com
]
REFUSED_TARGETS = {
    "http://evil.test/": "evil.test",
    "//evil.test/x": "evil.test",
    "/%5Cevil.test": "evil.test",
    "%5C%5Cevil.test": "evil.test",
    "http:evil.test": "evil.test",
    "https:/evil.test": "evil.test",
    "/%09/evil.test": "evil.test",
    "%20//evil.test": "evil.test",
    "http://example.com@evil.test/": "evil.test",
    "http://evil.test%5C@example.com/": "evil.test",
    "http://example.com.evil.test/": "example.com.evil.test",
    "http://example.org/": "example.org",
    "http://notexample.org/": "notexample.org",
    "http://evil%E3%80%82test/": "evil.test",
    "http://example.com%252F@evil.test": "evil.test",
    "%20%09//evil.test": "evil.test",
    "mailto:a@example.com": "mailto: URLs",
    "javascript:alert(1)": "javascript: URLs",
    "data:text/html,hi": "data: URLs",
    "ftp://example.com/": "ftp: URLs",
}


@pytest.fixture(scope="module")
def guarded_app():
    from mockbin import create_app
    from mockbin.settings import Settings, parse_hosts

    return create_app(Settings(allowed_redirect_domains=parse_hosts(",".join(ALLOWED))))


@pytest.mark.parametrize("target", ALLOWED_TARGETS)
def test_allowlist_lets_listed_hosts_and_relative_urls_through(target, guarded_app, mockbin_app):
    shape = Shape("ok", "GET", "/redirect-to?url=" + target)
    assert_same(call_wsgi(mockbin_app, shape), call_wsgi(guarded_app, shape), ports=())


@pytest.mark.parametrize("target", sorted(REFUSED_TARGETS))
def test_allowlist_refuses_other_hosts_with_a_readable_403(target, guarded_app):
    answer = call_wsgi(guarded_app, Shape("no", "GET", "/redirect-to?url=" + target))
    assert answer.status_line == "403 FORBIDDEN"
    headers = dict(answer.headers)
    assert "Location" not in headers and headers["Content-Type"] == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["allowed_hosts"] == ["example.com", "*.example.org", "xn--bcher-kva.example"]
    assert REFUSED_TARGETS[target] in problem["detail"]
    assert "example.com, *.example.org" in problem["detail"]
    assert "--allowed-redirect-domains" in problem["detail"]


def test_default_allows_any_host(mockbin_app):
    answer = call_wsgi(mockbin_app, Shape("any", "GET", "/redirect-to?url=http://evil.test/"))
    assert dict(answer.headers)["Location"] == "http://evil.test/"


@pytest.fixture(scope="module")
def guarded_server():
    """mockbin under gunicorn, configured from the environment: allowlist and prefix."""
    port = free_port()
    env = {"MOCKBIN_ALLOWED_REDIRECT_DOMAINS": "example.com", "MOCKBIN_PREFIX": PREFIX}
    with ServerProcess(mockbin_argv(port, "--workers", "1", "--worker-class", "sync"), port, env) as server:
        yield server


def test_allowlist_and_prefix_over_sockets(guarded_server):
    port = guarded_server.port
    ok = call_socket(port, Shape("ok", "GET", f"{PREFIX}/redirect-to?url=https://example.com/&status_code=308"))
    assert ok.status == 308 and ok.header("Location") == "https://example.com/"
    refused = call_socket(port, Shape("no", "GET", f"{PREFIX}/redirect-to?url=//evil.test"))
    assert refused.status == 403 and json.loads(refused.body)["allowed_hosts"] == ["example.com"]
    assert refused.header("Access-Control-Allow-Origin") == "*"
    relative = call_socket(port, Shape("rel", "POST", f"{PREFIX}/redirect-to?url=/anywhere"))
    assert relative.status == 302 and relative.header("Location") == "/anywhere"


def test_prefix_chain_followed_by_a_client(guarded_server):
    final = requests.get(f"{guarded_server.url}{PREFIX}/redirect/3", timeout=10)
    assert [r.headers["Location"] for r in final.history] == [
        f"{PREFIX}/relative-redirect/2", f"{PREFIX}/relative-redirect/1", f"{PREFIX}/get",
    ]
    assert final.json()["url"] == f"{guarded_server.url}{PREFIX}/get"
    absolute = requests.get(f"{guarded_server.url}{PREFIX}/absolute-redirect/2", timeout=10)
    assert absolute.history[0].headers["Location"] == f"{guarded_server.url}{PREFIX}/absolute-redirect/1"
    assert absolute.url == f"{guarded_server.url}{PREFIX}/get"


@pytest.mark.parametrize("value", ["http://example.com", "example.com:8080", "example.com/path", "*", "a b"])
def test_invalid_allowlist_entries_stop_the_server_with_status_2(value):
    result = subprocess.run(
        [sys.executable, "-m", "mockbin", "serve", "--port", "0", "--allowed-redirect-domains", value],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--allowed-redirect-domains" in result.stderr and "is not a host name" in result.stderr
