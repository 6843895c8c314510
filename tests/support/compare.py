"""The differential suites' one helper: the same request to httpbin and to mockbin, answers compared.

:func:`differential_tests` makes the three tests every route suite uses:
``test_in_process`` (both WSGI apps called with the same environ),
``test_over_sockets`` (both apps under gunicorn with mockbin's default
worker, the same raw bytes sent) and ``test_over_granian`` (mockbin under
its second engine against the same oracle, the server's own spelling of
reason phrases and header names aside: :func:`spelled_as`).
Answers must agree byte for byte after :func:`~support.differential.normalise`
(each server's own host:port, the Date value, the Allow order), except
where a :class:`Case` says what may legitimately differ:

* a *mask* replaces random parts (a UUID, unseeded bytes, a Digest nonce, a
  fresh ETag) after checking their form, so everything else is still
  compared exactly;
* ``frames=True`` compares the chunk sizes of a chunked answer as well;
* a suite-wide *check* replaces the comparison where mockbin's answer is
  meant to differ (its own documents and pictures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import pytest

from .differential import Answer, Shape, assert_same, call_socket, call_wsgi, date_is_valid, normalise
from .rawhttp import RawResponse

AnyAnswer = Union[Answer, RawResponse]
Normalised = Tuple[str, list, bytes]
Mask = Callable[[Normalised], Normalised]
Check = Callable[[AnyAnswer, AnyAnswer, Sequence[str]], None]

UUID4 = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
_HEX_FIELD = re.compile(r'\b(nonce|opaque)="([0-9a-f]*)"')


@dataclass(frozen=True)
class Case:
    """A request shape and what may differ in its answers."""

    shape: Shape
    mask: Optional[Mask] = None
    frames: bool = False  # compare chunk sizes too (socket answers only)

    @property
    def id(self) -> str:
        return self.shape.id


# -- masks -------------------------------------------------------------------


def mask_uuid(answer: Normalised) -> Normalised:
    status, headers, body = answer
    assert UUID4.search(body), body
    return status, headers, UUID4.sub(b"<uuid4>", body)


def mask_body_length(answer: Normalised) -> Normalised:
    """Random bytes: only their number counts."""
    status, headers, body = answer
    return status, headers, b"<%d random bytes>" % len(body)


def mask_header(name: str, pattern: "re.Pattern[str]") -> Mask:
    """A header whose value is fresh per answer: check its form, hide its value."""

    def mask(answer: Normalised) -> Normalised:
        status, headers, body = answer
        out = []
        for key, value in headers:
            if key.lower() == name.lower():
                assert pattern.fullmatch(value), (name, value)
                value = f"<{name}>"
            out.append((key, value))
        return status, out, body

    return mask


def _hex_shape(match: "re.Match[str]") -> str:
    return f'{match.group(1)}="<hex x{len(match.group(2))}>"'


def mask_random(answer: Normalised) -> Normalised:
    """Digest ``nonce``/``opaque`` hex values replaced by their length (their shape)."""
    status, headers, body = answer
    return status, [(name, _HEX_FIELD.sub(_hex_shape, value)) for name, value in headers], body


def both(*masks: Mask) -> Mask:
    def mask(answer: Normalised) -> Normalised:
        for one in masks:
            answer = one(answer)
        return answer

    return mask


# -- comparing ---------------------------------------------------------------


def as_case(item: Union[Shape, Case], mask: Optional[Mask] = None) -> Case:
    return item if isinstance(item, Case) else Case(item, mask)


def _compare(case: Case, expected: AnyAnswer, actual: AnyAnswer, ports: Sequence[str], check: Optional[Check]) -> None:
    if check is not None:
        check(expected, actual, ports)
        return
    if case.mask is None:
        assert_same(expected, actual, ports)
        return
    want, got = case.mask(normalise(expected, ports)), case.mask(normalise(actual, ports))
    assert got[0] == want[0], "status line differs"
    assert got[1] == want[1], "headers differ"
    assert got[2] == want[2], "body differs"


def compare_in_process(oracle_app, mockbin_app, item: Union[Shape, Case], check: Optional[Check] = None) -> None:
    case = as_case(item)
    _compare(case, call_wsgi(oracle_app, case.shape), call_wsgi(mockbin_app, case.shape), (), check)


def compare_sockets(live_pair, item: Union[Shape, Case], check: Optional[Check] = None) -> None:
    case = as_case(item)
    oracle, mine = live_pair
    expected, actual = call_socket(oracle.port, case.shape), call_socket(mine.port, case.shape)
    _compare(case, expected, actual, (str(oracle.port), str(mine.port)), check)
    assert date_is_valid(actual) == date_is_valid(expected), "one answer lacks a valid Date"
    if case.frames:
        assert actual.chunked_frames == expected.chunked_frames


def spelled_as(expected: AnyAnswer, actual: AnyAnswer) -> AnyAnswer:
    """*actual* with the oracle's reason phrase and header-name spelling (granian's are its own).

    granian writes the canonical reason phrase whatever the app says and
    lower-cases header names; both are the server's, not mockbin's, and HTTP
    gives them no meaning.  Only the spelling changes: a header the oracle
    lacks, a value or an order that differs still shows.
    """
    code = actual.status_line.split(" ", 2)[:2]
    status_line = expected.status_line if expected.status_line.split(" ", 2)[:2] == code else actual.status_line
    spellings: Dict[str, List[str]] = {}
    for name, _ in expected.headers:
        spellings.setdefault(name.lower(), []).append(name)
    headers = []
    for name, value in actual.headers:
        left = spellings.get(name.lower())
        headers.append((left.pop(0) if left else name, value))
    return Answer(status_line, headers, actual.body)


def compare_granian(granian_pair, item: Union[Shape, Case], check: Optional[Check] = None) -> None:
    """The oracle against mockbin under granian, spelling aside (:func:`spelled_as`)."""
    case = as_case(item)
    oracle, mine = granian_pair
    expected, actual = call_socket(oracle.port, case.shape), call_socket(mine.port, case.shape)
    _compare(case, expected, spelled_as(expected, actual), (str(oracle.port), str(mine.port)), check)


def ids(items: Sequence[Union[Shape, Case]]) -> List[str]:
    return [item.id for item in items]


def differential_tests(
    items: Sequence[Union[Shape, Case]],
    mask: Optional[Mask] = None,
    check: Optional[Check] = None,
    app: str = "mockbin_app",
    pair: str = "live_pair",
    granian: str = "granian_pair",
) -> Tuple[Callable, Callable, Callable]:
    """The three oracle tests for *items*: in-process, over sockets, over granian.

    Use as ``test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES)``.
    *mask* applies to every plain shape (a :class:`Case` brings its own);
    *check(expected, actual, ports)* replaces the comparison where mockbin's
    answer is meant to differ.  *app*, *pair* and *granian* name the fixtures
    that give mockbin's WSGI app and the (oracle, mockbin) server pairs, for
    suites that compare a differently configured mockbin (the stateful mode).
    Shapes in :data:`GRANIAN_SHAPES` are left out of the granian test: they
    differ there for the documented reasons, shown by tests/serving/test_granian.py.
    """
    cases = [as_case(item, mask) for item in items]
    in_process = [case for case in cases if not case.shape.socket_only]
    over_sockets = [case for case in cases if not case.shape.in_process_only]
    over_granian = [case for case in over_sockets if case.id not in GRANIAN_SHAPES]

    @pytest.mark.oracle
    @pytest.mark.parametrize("case", in_process, ids=ids(in_process))
    def test_in_process(case: Case, oracle_app, request: pytest.FixtureRequest) -> None:
        compare_in_process(oracle_app, request.getfixturevalue(app), case, check)

    @pytest.mark.oracle
    @pytest.mark.parametrize("case", over_sockets, ids=ids(over_sockets))
    def test_over_sockets(case: Case, request: pytest.FixtureRequest) -> None:
        compare_sockets(request.getfixturevalue(pair), case, check)

    @pytest.mark.oracle
    @pytest.mark.parametrize("case", over_granian, ids=ids(over_granian))
    def test_over_granian(case: Case, request: pytest.FixtureRequest) -> None:
        compare_granian(request.getfixturevalue(granian), case, check)

    return test_in_process, test_over_sockets, test_over_granian


#: The three ways mockbin under granian answers differently from httpbin under
#: gunicorn, for reasons mockbin cannot change (granian's HTTP parser and
#: writer never hand the app what it would need).  docs/compatibility.md
#: lists each with the test in tests/serving/test_granian.py that shows it.
GRANIAN_REASONS = {
    "header-bytes": "request header values that are not ASCII reach the app empty",
    "request-head": "granian's parser reads some request heads differently (underscores, Cookie, Host, raw target characters)",
    "response-head": "granian writes some response heads its own way (a final 1xx, repeated names, Transfer-Encoding last, a wrong Content-Length, non-UTF-8 bytes)",
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
    "etag-latin1-path": "response-head",
    "etag-latin1-304": "response-head",
    # granian writes Transfer-Encoding: chunked last, gunicorn right after Connection.
    **{
        shape: "response-head"
        for shape in (
            "stream-bytes-seed-chunk-4", "stream-bytes-default-chunk", "stream-bytes-chunk-0-means-1",
            "stream-bytes-chunk-negative", "stream-bytes-chunk-key-uppercase", "stream-bytes-chunk-larger-than-n",
            "stream-bytes-over-cap", "stream-bytes-zero", "stream-bytes-unseeded", "stream-0", "stream-1",
            "stream-3-args-headers", "stream-env-headers-hidden", "stream-show-env", "stream-proto-https",
            "stream-capped-at-100",
        )
    },
}
