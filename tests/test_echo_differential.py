"""The echo endpoints answer exactly as httpbin 0.10.4 does, for every request shape.

Each shape in ``support/echo_shapes.py`` is sent to both apps twice: in-process as
the same WSGI environ, and over real sockets with both apps served by
gunicorn (one sync worker each).  Status line, headers (in order) and body
must be identical, modulo each server's own host:port, the Date value and
the order of methods in Allow.
"""

from __future__ import annotations

import pytest

from support.compare import GRANIAN_DIFFERENCES, compare_granian
from support.echo_shapes import all_shapes
from support.differential import assert_same, call_socket, call_wsgi, date_is_valid

SHAPES = all_shapes()
IN_PROCESS = [shape for shape in SHAPES if not shape.socket_only]


def test_suite_is_broad_enough():
    # The foundation issue asks for at least 120 distinct request shapes.
    assert len({shape.id for shape in SHAPES}) >= 120


@pytest.mark.oracle
@pytest.mark.parametrize("shape", IN_PROCESS, ids=lambda shape: shape.id)
def test_in_process(shape, oracle_app, mockbin_app):
    assert_same(call_wsgi(oracle_app, shape), call_wsgi(mockbin_app, shape), ports=())


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [s for s in SHAPES if not s.in_process_only], ids=lambda shape: shape.id)
def test_over_sockets(shape, live_pair):
    oracle, mine = live_pair
    expected = call_socket(oracle.port, shape)
    actual = call_socket(mine.port, shape)
    assert_same(expected, actual, ports=(str(oracle.port), str(mine.port)))
    assert date_is_valid(actual) == date_is_valid(expected)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [s for s in SHAPES if not s.in_process_only], ids=lambda shape: shape.id)
def test_over_granian(shape, granian_pair):
    """The same shapes against mockbin under granian (reason phrase and header-name case aside)."""
    if shape.id in GRANIAN_DIFFERENCES:
        pytest.skip(f"granian: {GRANIAN_DIFFERENCES[shape.id]} (docs/compatibility.md)")
    compare_granian(granian_pair, shape)
