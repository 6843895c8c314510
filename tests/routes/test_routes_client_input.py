"""Routes that put client input into response headers never answer 500, whatever the input.

Property tests over arbitrary text for /redirect-to, /response-headers,
/cookies/set and /status: every answer is either the route's normal answer
or a 400, and every header of every answer is one gunicorn agrees to send
(checked with gunicorn's own patterns, not mockbin's).
"""

from __future__ import annotations

from urllib.parse import quote

from gunicorn.http.message import TOKEN_RE
from gunicorn.http.wsgi import HEADER_VALUE_RE
from hypothesis import given, settings
from hypothesis import strategies as st

from support.differential import Shape, call_wsgi

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["\r\n", "\x00", "\x7f", "//evil", "http://[::1", "http://a..b/", "é", "€", ":", "", " "])


def _sendable(answer) -> bool:
    return all(
        TOKEN_RE.fullmatch(name) and HEADER_VALUE_RE.fullmatch(value) for name, value in answer.headers
    )


def _status(answer) -> int:
    return int(answer.status_line.split(" ", 1)[0])


@settings(max_examples=150, deadline=None)
@given(url=TEXT, code=st.one_of(st.none(), TEXT))
def test_redirect_to_never_fails(url, code, mockbin_app):
    query = "url=" + quote(url, safe="") + ("" if code is None else "&status_code=" + quote(code, safe=""))
    answer = call_wsgi(mockbin_app, Shape("f", "GET", "/redirect-to?" + query))
    assert 300 <= _status(answer) < 400 or _status(answer) == 400
    assert _sendable(answer)


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=4))
def test_response_headers_never_fail(pairs, mockbin_app):
    query = "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in pairs)
    answer = call_wsgi(mockbin_app, Shape("f", "GET", "/response-headers?" + query))
    assert _status(answer) in (200, 400)
    assert _sendable(answer)


@settings(max_examples=150, deadline=None)
@given(name=TEXT, value=TEXT)
def test_cookie_set_never_fails(name, value, mockbin_app):
    answer = call_wsgi(mockbin_app, Shape("f", "GET", "/cookies/set?" + quote(name, safe="") + "=" + quote(value, safe="")))
    assert _status(answer) in (302, 400)
    assert _sendable(answer)


@settings(max_examples=150, deadline=None)
@given(codes=TEXT)
def test_status_never_fails(codes, mockbin_app):
    if not codes.strip("/") or "/" in codes:
        return  # not a single path segment: routing, not this route
    answer = call_wsgi(mockbin_app, Shape("f", "GET", "/status/" + quote(codes, safe="")))
    assert 100 <= _status(answer) <= 999
    assert b"Internal Server Error" not in answer.body  # a 500 here is one that was asked for
    assert _sendable(answer)
