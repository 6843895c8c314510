"""The differential suites' one helper: the same request to httpbin and to mockbin, answers compared.

:func:`differential_tests` makes the pair of tests every route suite uses,
``test_in_process`` (both WSGI apps called with the same environ) and
``test_over_sockets`` (both apps under gunicorn, the same raw bytes sent).
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
from typing import Callable, List, Optional, Sequence, Tuple, Union

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


def ids(items: Sequence[Union[Shape, Case]]) -> List[str]:
    return [item.id for item in items]


def differential_tests(
    items: Sequence[Union[Shape, Case]],
    mask: Optional[Mask] = None,
    check: Optional[Check] = None,
    app: str = "mockbin_app",
    pair: str = "live_pair",
) -> Tuple[Callable, Callable]:
    """The pair of oracle tests for *items*: in-process and over sockets.

    Use as ``test_in_process, test_over_sockets = differential_tests(SHAPES)``.
    *mask* applies to every plain shape (a :class:`Case` brings its own);
    *check(expected, actual, ports)* replaces the comparison where mockbin's
    answer is meant to differ.  *app* and *pair* name the fixtures that give
    mockbin's WSGI app and the (oracle, mockbin) server pair, for suites that
    compare a differently configured mockbin (the stateful mode).
    """
    cases = [as_case(item, mask) for item in items]
    in_process = [case for case in cases if not case.shape.socket_only]
    over_sockets = [case for case in cases if not case.shape.in_process_only]

    @pytest.mark.oracle
    @pytest.mark.parametrize("case", in_process, ids=ids(in_process))
    def test_in_process(case: Case, oracle_app, request: pytest.FixtureRequest) -> None:
        compare_in_process(oracle_app, request.getfixturevalue(app), case, check)

    @pytest.mark.oracle
    @pytest.mark.parametrize("case", over_sockets, ids=ids(over_sockets))
    def test_over_sockets(case: Case, request: pytest.FixtureRequest) -> None:
        compare_sockets(request.getfixturevalue(pair), case, check)

    return test_in_process, test_over_sockets
