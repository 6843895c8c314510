"""Caching (/cache, /cache/<n>, /etag/<etag>) answers exactly as httpbin 0.10.4.

Each case goes to both apps in-process and over real sockets (gunicorn);
only the fresh ``Last-Modified`` and ``ETag`` of a plain ``/cache`` answer
are compared by form.  The If-None-Match / If-Match matrix of ``/etag``
includes httpbin's loose tag reading (quotes, ``W/``, stray spaces).
"""

from __future__ import annotations

import json
import re

import pytest

from support.differential import Shape, call_socket, call_wsgi
from support.compare import HTTP_DATE, Case, both, differential_tests, ids, mask_header

FRESH = both(mask_header("Last-Modified", HTTP_DATE), mask_header("ETag", re.compile(r"[0-9a-f]{32}")))


def get(id_: str, target: str, *headers, method: str = "GET", **kw) -> Shape:
    return Shape(id_, method, target, tuple(headers), **kw)


def cache_cases():
    return [
        Case(get("cache-plain", "/cache?a=1"), FRESH),
        Case(get("cache-if-modified-since", "/cache", ("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT"))),
        Case(get("cache-if-modified-since-garbage", "/cache", ("If-Modified-Since", "yesterday"))),
        Case(get("cache-if-modified-since-empty", "/cache", ("If-Modified-Since", "")), FRESH),
        Case(get("cache-if-none-match", "/cache", ("If-None-Match", '"x"'))),
        Case(get("cache-if-none-match-empty", "/cache", ("If-None-Match", ""))),
        Case(get("cache-both-empty", "/cache", ("If-Modified-Since", ""), ("If-None-Match", ""))),
        Case(get("cache-if-match-ignored", "/cache", ("If-Match", "x")), FRESH),
        Case(get("cache-head", "/cache", method="HEAD"), FRESH),
        Case(get("cache-head-conditional", "/cache", ("If-None-Match", "*"), method="HEAD")),
        Case(get("cache-options", "/cache", method="OPTIONS")),
        Case(get("cache-post-405", "/cache", method="POST")),
        Case(get("cache-trailing-slash-404", "/cache/")),
        Case(get("cache-n-0", "/cache/0")),
        Case(get("cache-n-60-query", "/cache/60?x=y", ("X-Custom", "v"))),
        Case(get("cache-n-leading-zeros", "/cache/007")),
        Case(get("cache-n-large", "/cache/31536000")),
        Case(get("cache-n-conditional-ignored", "/cache/10", ("If-None-Match", "*"))),
        Case(get("cache-n-negative-404", "/cache/-1")),
        Case(get("cache-n-head", "/cache/5", method="HEAD")),
        Case(get("cache-n-put-405", "/cache/5", method="PUT")),
    ]


def etag_cases():
    inm = "If-None-Match"
    im = "If-Match"
    matrix = [
        ("none", ()),
        ("inm-match", ((inm, "abc"),)),
        ("inm-quoted", ((inm, '"abc"'),)),
        ("inm-weak", ((inm, 'W/"abc"'),)),
        ("inm-star", ((inm, "*"),)),
        ("inm-no-match", ((inm, '"xyz"'),)),
        ("inm-list-match", ((inm, '"x", "abc", "y"'),)),
        ("inm-list-no-space", ((inm, '"x","abc"'),)),
        ("inm-trailing-space-item", ((inm, "abc , x"),)),
        ("inm-commas-only", ((inm, ","),)),
        ("inm-empty", ((inm, ""),)),
        ("inm-unbalanced-quote", ((inm, '"abc'),)),
        ("inm-case-differs", ((inm, "ABC"),)),
        ("im-match", ((im, "abc"),)),
        ("im-quoted-match", ((im, '"abc"'),)),
        ("im-star", ((im, "*"),)),
        ("im-mismatch-412", ((im, '"xyz"'),)),
        ("im-list-mismatch-412", ((im, "x, y"),)),
        ("im-empty", ((im, ""),)),
        ("inm-mismatch-im-mismatch", ((inm, "x"), (im, "y"))),
        ("inm-match-im-mismatch", ((inm, "abc"), (im, "y"))),
        ("inm-empty-im-mismatch", ((inm, ""), (im, "y"))),
    ]
    cases = [Case(get(f"etag-{name}", "/etag/abc", *headers)) for name, headers in matrix]
    cases += [
        Case(get("etag-quoted-path", "/etag/%22abc%22", ("If-None-Match", '"abc"'))),
        Case(get("etag-weak-path", "/etag/W%2Fabc")),
        Case(get("etag-space-path", "/etag/a%20b", ("If-None-Match", "a b"))),
        Case(get("etag-star-path", "/etag/*", ("If-Match", "x"))),
        Case(get("etag-head", "/etag/abc", method="HEAD")),
        Case(get("etag-head-412", "/etag/abc", ("If-Match", "zzz"), method="HEAD")),
        Case(get("etag-query", "/etag/v1?a=1&a=2")),
        Case(get("etag-post-405", "/etag/abc", method="POST")),
        Case(get("etag-latin1-path", "/etag/caf%C3%A9", ("If-None-Match", "x"))),
        Case(get("etag-latin1-304", "/etag/%C3%BF", ("If-None-Match", "*"))),
        Case(get("etag-tab-path", "/etag/a%09b")),
    ]
    return cases


CASES = cache_cases() + etag_cases()


def test_suite_is_broad_enough():
    assert len(set(ids(CASES))) == len(CASES) >= 50


test_in_process, test_over_sockets, test_over_granian = differential_tests(CASES)


def test_cache_etag_is_fresh_each_time(mockbin_app):
    tags = {dict(call_wsgi(mockbin_app, get("c", "/cache")).headers)["ETag"] for _ in range(3)}
    assert len(tags) == 3


def test_etag_revalidation_round_trip(live_pair):
    """What a caching client does: keep the ETag, send it back, get 304."""
    _, mine = live_pair
    first = call_socket(mine.port, get("first", "/etag/v7"))
    assert first.status == 200 and first.header("ETag") == "v7"
    again = call_socket(mine.port, get("again", "/etag/v7", ("If-None-Match", first.header("ETag"))))
    assert again.status == 304 and again.body == b"" and again.header("ETag") == "v7"


# -- deviation from httpbin (docs/compatibility.md, "Caching") -----------------


@pytest.mark.parametrize("path", ["/etag/%E2%82%AC", "/etag/a%0Ab", "/etag/a%7Fb", "/etag/a%00b"])
def test_etag_that_cannot_be_a_header_is_400(path, live_pair):
    oracle, mine = live_pair
    shape = get("bad-etag", path)
    assert call_socket(oracle.port, shape).status == 500  # gunicorn refuses the header
    answer = call_socket(mine.port, shape)
    assert answer.status == 400 and answer.header("Content-Type") == "application/problem+json"
    assert json.loads(answer.body)["parameter"] == "etag"
