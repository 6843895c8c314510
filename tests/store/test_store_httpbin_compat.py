"""With the stateful mode on, every httpbin route still answers byte for byte as httpbin 0.10.4.

The echo differential shapes are replayed against a stateful mockbin (in
process, and under gunicorn like the oracle); only shapes aimed at paths
that no httpbin route claims are left out, since those are resource paths now.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from werkzeug.exceptions import HTTPException, NotFound

from support.echo_shapes import all_shapes
from mockbin import create_app
from mockbin.settings import Settings
from mockbin.problems import Problem
from support.compare import differential_tests
from support.servers import ServerProcess, free_port, granian_oracle, mockbin_argv, pair_worker_args

STATEFUL_APP = create_app(Settings(stateful=True))


def claimed_by_httpbin(shape) -> bool:
    """Flask routes the path (even if not for this method), or it is not a resource path."""
    environ = shape.environ()
    try:
        STATEFUL_APP.url_map.bind("localhost").match(environ["PATH_INFO"], method=shape.method)
        return True
    except NotFound:
        pass
    except HTTPException:  # 405 or a redirect: a route claims the path
        return True
    try:
        return STATEFUL_APP.extensions["mockbin.resources"].paths.resource_path(environ) is None
    except Problem:
        return False


SHAPES = [shape for shape in all_shapes() if claimed_by_httpbin(shape)]


def test_only_unclaimed_paths_are_left_out():
    left_out = {shape.id for shape in all_shapes()} - {shape.id for shape in SHAPES}
    assert left_out == {"unknown-path-404", "unknown-path-404-post", "options-404", "undechunked-get-nope"}


@pytest.fixture(scope="module")
def stateful_app():
    return STATEFUL_APP


@pytest.fixture(scope="module")
def stateful_pair(live_pair) -> Iterator:
    oracle, _ = live_pair
    port = free_port()
    argv = mockbin_argv(port, "--stateful", *pair_worker_args())  # the live pair's worker
    with ServerProcess(argv, port) as mine:
        yield oracle, mine


@pytest.fixture(scope="module")
def stateful_granian_pair(live_pair) -> Iterator:
    pytest.importorskip("granian", reason="granian (the extra fast) is not installed")
    port = free_port()
    argv = mockbin_argv(port, "--stateful", "--server", "granian")
    with granian_oracle(live_pair[0]) as oracle, ServerProcess(argv, port) as mine:
        yield oracle, mine


test_in_process, test_over_sockets, test_over_granian = differential_tests(
    SHAPES, app="stateful_app", pair="stateful_pair", granian="stateful_granian_pair"
)
