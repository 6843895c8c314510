"""Shared fixtures: the two apps in-process, and both served by gunicorn on real sockets."""

from __future__ import annotations

import logging
from typing import Iterator, Tuple

import pytest

from support.masked import LOW_DURATION, LOW_SIZE, low_limit_argv
from support.servers import ServerProcess, free_port, mockbin_argv, oracle_argv

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
    """httpbin and mockbin, each under gunicorn with one sync worker, on real sockets.

    Both run the same gunicorn configuration, so even gunicorn's own headers
    (``Server``, ``Connection: close``) must agree.
    """
    oracle_port, port = free_port(), free_port()
    oracle = ServerProcess(oracle_argv(oracle_port), oracle_port)
    mine = ServerProcess(mockbin_argv(port, "--workers", "1", "--threads", "1"), port)
    with oracle, mine:
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
