"""Unit checks of the echo fields' fast paths against Werkzeug's own answers."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings, strategies as st
from werkzeug.wrappers import Request

from mockbin import echo

# Characters that exercise every branch of the plain-URL test: plain ones,
# reserved ones, percent signs, non-ASCII, spaces and slashes.
PATH_CHARS = st.sampled_from(list("aZ09-._~/!$&'()*+,:;=@ %?#é\u00ff[]") + ["%2F", "%41", "//"])
QUERY_CHARS = st.sampled_from(list("aZ09-._~!$&'()*+,/:;=?@ %#<>\"{}|\\^`é") + ["%20", "%3D", "%C3%A9", "%FF"])
HOSTS = st.sampled_from(
    ["127.0.0.1:8080", "example.com", "Example.COM:80", "h:443", "xn--n3h.net", "[::1]:8000", "a b", "", "x.y:abc", None]
)


def environ(host, path, query, scheme="http", script_name=""):
    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
    }
    if host is not None:
        env["HTTP_HOST"] = host
    return env


@given(
    HOSTS,
    st.lists(PATH_CHARS, max_size=12).map(lambda parts: "/" + "".join(parts)),
    st.lists(QUERY_CHARS, max_size=12).map("".join),
    st.sampled_from(["http", "https"]),
    st.sampled_from(["", "/prefix"]),
)
@settings(max_examples=1500, deadline=None)
def test_current_url_matches_werkzeug(host, path, query, scheme, script_name):
    request = Request(environ(host, path, query, scheme, script_name))
    assert echo.current_url(request) == request.url


@given(st.dictionaries(st.from_regex(r"[A-Z0-9_]{1,12}", fullmatch=True), st.text(max_size=5), max_size=8))
@settings(max_examples=300, deadline=None)
def test_header_names_match_werkzeug(cgi_headers):
    env = environ("h", "/get", "")
    env.update({"HTTP_" + key: value for key, value in cgi_headers.items()})
    env["CONTENT_TYPE"] = "text/plain"
    env["CONTENT_LENGTH"] = ""
    request = Request(env)
    expected = {name: value for name, value in request.headers.items() if name.lower() not in echo.ENV_HEADERS}
    assert list(echo.headers(request).items()) == list(expected.items())  # arrival order: compact JSON shows it
    assert list(echo.headers(request).items()) == list(expected.items())  # the same again, from the memo


@given(st.sampled_from(["", "text/plain", "multipart/form-data; boundary=x", " Multipart/Form-Data ;b=1",
                        "application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8",
                        "application/x-www-form-urlencodedx", "multipart/form-data,", ";multipart/form-data"]))
def test_form_detection_matches_werkzeug(content_type):
    env = environ("h", "/post", "")
    env["CONTENT_TYPE"] = content_type
    request = Request(env)
    assert echo.is_form(request) == (request.mimetype in echo.FORM_TYPES)


def test_exclusion_pattern_wildcards_and_case():
    pattern = echo.exclusion_pattern(["X-Amzn-*", "fly-region", "*-Secret"])
    assert pattern.fullmatch("x-amzn-trace-id")
    assert pattern.fullmatch("Fly-Region")
    assert pattern.fullmatch("X-Api-Secret")
    assert not pattern.fullmatch("Fly-Regions")
    assert not pattern.fullmatch("X-Amz")
    assert echo.exclusion_pattern([]) is None


@pytest.fixture
def empty_memos():
    """The request path's memos, emptied for the test and given back their entries after it."""
    from mockbin.serving import compat

    memos = (echo._URLS, echo._KEYS, echo._FIELD_KEYS, compat._verdicts)
    saved = [dict(memo) for memo in memos]
    for memo in memos:
        memo.clear()
    yield
    for memo, entries in zip(memos, saved):
        memo.clear()
        memo.update(entries)


def test_memos_stay_small_whatever_clients_send(empty_memos):
    """The URL, header-name, header-set and response-header memos keep only a bounded number of short entries."""
    from mockbin.serving import compat

    for number in range(5000):
        path = f"/{'a' * 3000}{number}"
        request = Request(environ("h", path, ""))
        assert echo.current_url(request) == request.url == "http://h" + path  # right, unremembered
        echo.current_url(Request(environ("h", f"/short/{number}", "")))
        fields = {f"HTTP_X_{'N' * 200}_{number}": "v", f"HTTP_X_{number}": "w"}
        shown = echo.headers(Request({**environ("h", "/", ""), **fields}))
        assert list(shown.values()) == ["h", "v", "w"]  # right, whether remembered or not
        many = {f"HTTP_X_{index}_{number}": str(index) for index in range(70)}
        assert len(echo.headers(Request({**environ("h", "/", ""), **many}))) == 71
        compat._verdict(("X-Long", "v" * 3000 + str(number)))
        compat._verdict(("X-Short", str(number)))
    assert len(echo._URLS) <= 4096 and max(len(host) + len(path) for _, host, path in echo._URLS) <= 256
    assert len(echo._KEYS) <= 4096 and max(map(len, echo._KEYS)) <= 64
    assert len(echo._FIELD_KEYS) <= 1024 and max(map(len, echo._FIELD_KEYS)) <= 64
    assert max(sum(map(len, keys)) for keys in echo._FIELD_KEYS) <= 2048
    assert len(compat._verdicts) <= 4096 and max(len(name) + len(value) for name, value in compat._verdicts) <= 256
