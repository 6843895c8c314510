"""Shared fixtures: the two apps in-process, and both served by gunicorn on real sockets."""

from __future__ import annotations

import logging
from typing import Iterator, Tuple

import pytest

from support.servers import (
    DEFAULT_WORKER_FOR_ORACLE, LOW_DURATION, LOW_SIZE, ServerProcess, free_port, granian_oracle, low_limit_argv,
    mockbin_argv, pair_worker_args,
    oracle_argv,
)

pytest_plugins = ("pytester",)  # the pytest plugin's tests run real pytest sessions


@pytest.fixture(scope="session")
def oracle_app():
    """httpbin 0.10.4's WSGI app (the oracle; a test dependency only)."""
    logging.getLogger("httpbin").setLevel(logging.ERROR)
    import httpbin

    return httpbin.app


@pytest.fixture(scope="session")
def mockbin_app():
    from mockbin import create_app
    from mockbin.settings import Settings

    return create_app(Settings())


@pytest.fixture(scope="session")
def live_pair() -> Iterator[Tuple[ServerProcess, ServerProcess]]:
    """httpbin and mockbin, each under gunicorn with mockbin's default worker, on real sockets.

    mockbin runs as ``mockbin serve`` does by default (one gevent worker);
    httpbin runs under the same worker class, as its own container runs it
    (gunicorn's gevent worker), so even gunicorn's own headers (``Server``,
    ``Connection``) must agree.
    """
    oracle_port, port = free_port(), free_port()
    other_worker = pair_worker_args()  # MOCKBIN_TEST_WORKER_CLASS: both sides under another worker
    oracle = ServerProcess(oracle_argv(oracle_port, *(other_worker or DEFAULT_WORKER_FOR_ORACLE)), oracle_port)
    mine = ServerProcess(mockbin_argv(port, *other_worker), port)
    with oracle, mine:
        yield oracle, mine


@pytest.fixture(scope="session")
def granian_pair(live_pair) -> Iterator[Tuple[ServerProcess, ServerProcess]]:
    """An oracle under gunicorn (the live pair's, see ``granian_oracle``) and mockbin under granian."""
    pytest.importorskip("granian", reason="granian (the extra fast) is not installed")
    port = free_port()
    with granian_oracle(live_pair[0]) as oracle, ServerProcess(mockbin_argv(port, "--server", "granian"), port) as mine:
        yield oracle, mine


@pytest.fixture(scope="module")
def low_app():
    """The app with the tiny limits, in-process."""
    from mockbin import create_app
    from mockbin.settings import Settings

    return create_app(Settings(max_duration=float(LOW_DURATION), max_generated_size=int(LOW_SIZE)))


@pytest.fixture(scope="module")
def low_server():
    """The app with the tiny limits, under gunicorn (one sync worker)."""
    port = free_port()
    with ServerProcess(low_limit_argv(port), port) as server:
        yield server


@pytest.fixture(scope="session", params=["gthread", "sync", "gevent", "livesrv"])
def engine(request):
    """mockbin under each engine that hands the app its client socket (see support/engines.py)."""
    from support.engines import start

    server = start(request.param)
    try:
        yield server
    finally:
        server.stop()
