"""Helpers for the route differential suites: masks for random values, compare helpers.

``assert_same`` in :mod:`support.differential` compares answers byte for
byte.  Some answers carry random values by design (Digest nonces and
opaques); :func:`mask_random` replaces those with their *shape* (length and
alphabet) so everything else is still compared exactly.
"""

from __future__ import annotations

import re
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


def ids(shapes: Sequence[Shape]) -> list:
    return [shape.id for shape in shapes]


def differential_tests(
    shapes: Sequence[Shape], mask: Optional[Mask] = None, check: Check = assert_same
) -> Tuple[Callable, Callable]:
    """The pair of oracle tests for *shapes*: in-process and over sockets.

    Use as ``test_in_process, test_over_sockets = differential_tests(SHAPES)``;
    *check(expected, actual, ports)* replaces the byte-for-byte comparison
    where mockbin's answer is meant to differ (own content, compression).
    """

    @pytest.mark.oracle
    @pytest.mark.parametrize("shape", shapes, ids=ids(shapes))
    def test_in_process(shape, oracle_app, mockbin_app):
        compare_in_process(oracle_app, mockbin_app, shape, mask=mask, check=check)

    @pytest.mark.oracle
    @pytest.mark.parametrize("shape", shapes, ids=ids(shapes))
    def test_over_sockets(shape, live_pair):
        compare_sockets(live_pair, shape, mask=mask, check=check)

    return test_in_process, test_over_sockets
