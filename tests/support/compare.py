"""Helpers for the route differential suites: masks for random values, compare helpers.

``assert_same`` in :mod:`support.differential` compares answers byte for
byte.  Some answers carry random values by design (Digest nonces and
opaques); :func:`mask_random` replaces those with their *shape* (length and
alphabet) so everything else is still compared exactly.
"""

from __future__ import annotations

import re
import sys
from typing import Callable, Optional, Sequence, Tuple, Union

import pytest

from .differential import Answer, Shape, assert_same, call_socket, call_wsgi
from .rawhttp import RawResponse

AnyAnswer = Union[Answer, RawResponse]
Mask = Callable[[AnyAnswer], AnyAnswer]

_HEX_FIELD = re.compile(r'\b(nonce|opaque)="([0-9a-f]*)"')


def _hex_shape(match: "re.Match[str]") -> str:
    return f'{match.group(1)}="<hex x{len(match.group(2))}>"'


def mask_random(answer: AnyAnswer) -> AnyAnswer:
    """Replace Digest ``nonce``/``opaque`` hex values by their length (their shape)."""
    headers = [(name, _HEX_FIELD.sub(_hex_shape, value)) for name, value in answer.headers]
    return Answer(answer.status_line, headers, answer.body)


Check = Callable[[AnyAnswer, AnyAnswer, Sequence[str]], None]


def compare_in_process(
    oracle_app, mockbin_app, shape: Shape, mask: Optional[Mask] = None, check: Check = assert_same
) -> None:
    expected, actual = call_wsgi(oracle_app, shape), call_wsgi(mockbin_app, shape)
    if mask is not None:
        expected, actual = mask(expected), mask(actual)
    check(expected, actual, ())


def compare_sockets(live_pair, shape: Shape, mask: Optional[Mask] = None, check: Check = assert_same) -> None:
    oracle, mine = live_pair
    expected, actual = call_socket(oracle.port, shape), call_socket(mine.port, shape)
    if mask is not None:
        expected, actual = mask(expected), mask(actual)
    check(expected, actual, (str(oracle.port), str(mine.port)))


def spelled_as(expected: AnyAnswer, actual: AnyAnswer) -> AnyAnswer:
    """*actual* with the oracle's reason phrase and header-name spelling (granian's are its own).

    granian writes the canonical reason phrase whatever the app says and
    lower-cases header names; both are the server's, not mockbin's, and HTTP
    gives them no meaning.  Only the spelling changes: a header the oracle
    lacks, a value or an order that differs still shows.
    """
    code = actual.status_line.split(" ", 2)[:2]
    if expected.status_line.split(" ", 2)[:2] == code:
        status_line = expected.status_line
    else:
        status_line = actual.status_line
    spellings: dict = {}
    for name, _ in expected.headers:
        spellings.setdefault(name.lower(), []).append(name)
    headers = []
    for name, value in actual.headers:
        left = spellings.get(name.lower())
        headers.append((left.pop(0) if left else name, value))
    return Answer(status_line, headers, actual.body)


def compare_granian(granian_pair, shape: Shape, mask: Optional[Mask] = None, check: Check = assert_same) -> None:
    """The oracle under gunicorn against mockbin under granian, spelling aside (:func:`spelled_as`)."""
    oracle, mine = granian_pair
    expected, actual = call_socket(oracle.port, shape), call_socket(mine.port, shape)
    actual = spelled_as(expected, actual)
    if mask is not None:
        expected, actual = mask(expected), mask(actual)
    check(expected, actual, (str(oracle.port), str(mine.port)))


def ids(shapes: Sequence[Shape]) -> list:
    return [shape.id for shape in shapes]


def differential_tests(
    shapes: Sequence[Shape], mask: Optional[Mask] = None, check: Check = assert_same
) -> Tuple[Callable, Callable]:
    """The pair of oracle tests for *shapes*: in-process and over sockets.

    Use as ``test_in_process, test_over_sockets = differential_tests(SHAPES)``;
    *check(expected, actual, ports)* replaces the byte-for-byte comparison
    where mockbin's answer is meant to differ (own content, compression).

    A third test, the same shapes against mockbin under granian
    (:func:`compare_granian`), is added to the calling module as
    ``test_over_granian`` (``test_over_granian_2``... when a module makes
    several sets), so every differential suite covers both servers.
    """

    @pytest.mark.oracle
    @pytest.mark.parametrize("shape", shapes, ids=ids(shapes))
    def test_in_process(shape, oracle_app, mockbin_app):
        compare_in_process(oracle_app, mockbin_app, shape, mask=mask, check=check)

    @pytest.mark.oracle
    @pytest.mark.parametrize("shape", shapes, ids=ids(shapes))
    def test_over_sockets(shape, live_pair):
        compare_sockets(live_pair, shape, mask=mask, check=check)

    @pytest.mark.oracle
    @pytest.mark.parametrize("shape", [s for s in shapes if not s.in_process_only], ids=ids([s for s in shapes if not s.in_process_only]))
    def test_over_granian(shape, granian_pair):
        if shape.id in GRANIAN_DIFFERENCES:
            pytest.skip(f"granian: {GRANIAN_DIFFERENCES[shape.id]} (docs/compatibility.md)")
        compare_granian(granian_pair, shape, mask=mask, check=check)

    caller = sys._getframe(1).f_globals
    name, number = "test_over_granian", 2
    while name in caller:
        name, number = f"test_over_granian_{number}", number + 1
    caller[name] = test_over_granian
    return test_in_process, test_over_sockets


#: The three ways mockbin under granian answers differently from httpbin under
#: gunicorn, for reasons mockbin cannot change (granian's HTTP parser and
#: writer never hand the app what it would need).  docs/compatibility.md
#: lists each with the test in tests/serving/test_granian.py that shows it.
GRANIAN_REASONS = {
    "header-bytes": "request header values that are not ASCII reach the app empty",
    "request-head": "granian's parser reads some request heads differently (underscores, Cookie, Host, raw target characters)",
    "response-head": "granian writes some response heads differently (1xx, repeated names, a wrong Content-Length, non-UTF-8 bytes)",
}
#: Shape id -> reason key, for every differential shape that differs under granian.
GRANIAN_SHAPES = {
    "header-latin1-value": "header-bytes",
    "header-utf8-value": "header-bytes",
    "bearer-latin1-token": "header-bytes",
    "list-latin1": "header-bytes",
    "headers-latin1-value": "header-bytes",
    "user-agent-unicode-escaped": "header-bytes",
    "http11-no-host": "request-head",
    "query-get-raw-unsafe-chars": "request-head",
    "header-underscore-dropped": "request-head",
    "list-two-cookie-headers": "request-head",
    "code-100": "response-head",
    "code-102": "response-head",
    "code-103": "response-head",
    "get-content-type-added": "response-head",
    "get-content-type-lower": "response-head",
    "get-content-length-numeric": "response-head",
    "get-content-length-bigger": "response-head",
    "get-latin1-value": "response-head",
}
GRANIAN_DIFFERENCES = {shape: GRANIAN_REASONS[reason] for shape, reason in GRANIAN_SHAPES.items()}
