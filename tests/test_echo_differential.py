"""The echo endpoints answer exactly as httpbin 0.10.4 does, for every request shape.

Each shape in ``support/echo_shapes.py`` is sent to both apps twice: in-process as
the same WSGI environ, and over real sockets with both apps served by
gunicorn (one sync worker each).  Status line, headers (in order) and body
must be identical, modulo each server's own host:port, the Date value and
the order of methods in Allow.
"""

from __future__ import annotations

from support.compare import differential_tests
from support.echo_shapes import all_shapes

SHAPES = all_shapes()


def test_suite_is_broad_enough():
    # The foundation issue asks for at least 120 distinct request shapes.
    assert len({shape.id for shape in SHAPES}) >= 120


test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES)
