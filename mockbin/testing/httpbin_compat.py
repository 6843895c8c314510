"""pytest-httpbin's fixtures, served by mockbin: a project swaps the package, not its tests.

Registered by :mod:`mockbin.testing.plugin` only while pytest-httpbin itself
is not active (two plugins defining ``httpbin`` collide silently) and the
``mockbin_httpbin_fixtures`` ini option is true.  Same names, scopes and
server-object attributes as pytest-httpbin 2.1.0: ``url``, ``host``,
``port``, ``protocol``, ``join()``, ``+``; ``str()`` gives the URL too.
``HTTPBIN_HTTP_PORT`` / ``HTTPBIN_HTTPS_PORT`` pin the ports.  Unlike
pytest-httpbin, the servers keep connections alive, take chunked uploads
and serve concurrent requests; and these fixtures never reset mockbin's
state (pytest-httpbin had none to reset).
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

import pytest

from .servers import Pool

use_class_based_httpbin = pytest.mark.usefixtures("class_based_httpbin")
use_class_based_httpbin_secure = pytest.mark.usefixtures("class_based_httpbin_secure")


class HttpbinServer:
    """What pytest-httpbin's ``httpbin`` fixture returns, pointing at a mockbin server."""

    def __init__(self, url: str, app: Any = None) -> None:
        parts = urlsplit(url)
        self.url = url.rstrip("/")
        self.protocol = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port
        self.app = app

    def __add__(self, other: str) -> str:
        return self.url + other

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<HttpbinServer {self.url} (mockbin)>"

    def join(self, url: str, allow_fragments: bool = True) -> str:
        return urljoin(self.url, url, allow_fragments=allow_fragments)

    # The plugin owns the server's lifetime; these keep pytest-httpbin's API.
    def start(self) -> None:
        """No-op: the server is already running."""

    def stop(self) -> None:
        """No-op: the server stops at the end of the session."""

    def __enter__(self) -> "HttpbinServer":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _server(pool: Pool, scheme: str) -> HttpbinServer:
    app: Optional[Any] = None
    if not (scheme == "http" and pool.sidecar):
        app = pool.server(scheme).app
    return HttpbinServer(pool.url(scheme), app)


@pytest.fixture(scope="session")
def httpbin(mockbin_pool: Pool) -> HttpbinServer:
    """mockbin over HTTP (pytest-httpbin's ``httpbin``)."""
    return _server(mockbin_pool, "http")


@pytest.fixture(scope="session")
def httpbin_secure(mockbin_pool: Pool) -> HttpbinServer:
    """mockbin over HTTPS, certified by the session's CA (pytest-httpbin's ``httpbin_secure``)."""
    return _server(mockbin_pool, "https")


@pytest.fixture(scope="session", params=["http", "https"])
def httpbin_both(request: pytest.FixtureRequest, httpbin: HttpbinServer, httpbin_secure: HttpbinServer) -> HttpbinServer:
    """Runs the test over HTTP and again over HTTPS."""
    return httpbin if request.param == "http" else httpbin_secure


@pytest.fixture(scope="class")
def class_based_httpbin(request: pytest.FixtureRequest, httpbin: HttpbinServer) -> None:
    """Sets ``self.httpbin`` on a test class (see :data:`use_class_based_httpbin`)."""
    request.cls.httpbin = httpbin


@pytest.fixture(scope="class")
def class_based_httpbin_secure(request: pytest.FixtureRequest, httpbin_secure: HttpbinServer) -> None:
    """Sets ``self.httpbin_secure`` on a test class."""
    request.cls.httpbin_secure = httpbin_secure


@pytest.fixture
def httpbin_ca_bundle(monkeypatch: pytest.MonkeyPatch, mockbin_ca_bundle: str) -> None:
    """Points ``REQUESTS_CA_BUNDLE`` at the session's CA for this test (returns None, as pytest-httpbin's)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", mockbin_ca_bundle)
