"""Live stateful-mode servers for tests: one per backend, on real sockets.

Redis is the real server at 127.0.0.1:6379 (or ``MOCKBIN_TEST_REDIS_URL``).
When it cannot be reached, Redis tests skip with the reason -- unless
``MOCKBIN_REQUIRE_REDIS=1`` (set by .ci/run), where they fail loudly.
Every server gets its own key prefix, removed when it stops.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

import pytest
import requests

from .rawhttp import RawResponse, build_request, exchange
from .servers import HOST, ServerProcess, free_port, mockbin_argv

BACKENDS = ("memory", "sqlite", "redis")
REDIS_URL = os.environ.get("MOCKBIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_problem(url: str = REDIS_URL) -> Optional[str]:
    """Why Redis at *url* cannot be used, or None when it answers PING."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return f"Redis at {url} is unreachable ({exc})"
    if not reply.startswith(b"+PONG"):
        return f"Redis at {url} did not answer PING ({reply!r})"
    return None


def require_redis() -> None:
    """Skip (or, with MOCKBIN_REQUIRE_REDIS=1, fail) when Redis is not there."""
    problem = redis_problem()
    if problem is None:
        return
    if os.environ.get("MOCKBIN_REQUIRE_REDIS") == "1":
        pytest.fail(f"{problem}, and MOCKBIN_REQUIRE_REDIS=1 says Redis tests must run", pytrace=False)
    pytest.skip(problem)


def redis_store_url(prefix: str) -> str:
    return f"{REDIS_URL}?prefix={prefix}"


def drop_redis_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 1000):
            client.unlink(*keys[start : start + 1000])
    finally:
        client.close()


def store_args(backend: str, directory: str, workers: int = 2) -> Tuple[List[str], Optional[str]]:
    """``mockbin serve`` arguments for *backend*, and the Redis prefix to clean up."""
    if backend == "memory":
        return ["--workers", "1"], None
    if backend == "sqlite":
        return ["--workers", str(workers), "--store", f"sqlite://{directory}/store.db"], None
    require_redis()
    prefix = f"mockbin-test-{uuid.uuid4().hex[:12]}:"
    return ["--workers", str(workers), "--store", redis_store_url(prefix)], prefix


class Live:
    """A running stateful server and a client for it (keep-alive session)."""

    def __init__(self, server: ServerProcess, backend: str, mount: str = "") -> None:
        self.server = server
        self.backend = backend
        self.mount = mount  # --prefix of the server, prepended to every path
        self.session = requests.Session()

    @property
    def port(self) -> int:
        return self.server.port

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{self.mount}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def raw(
        self,
        method: str,
        target: str,
        headers: Tuple[Tuple[str, str], ...] = (),
        body: Optional[bytes] = None,
    ) -> RawResponse:
        """Exactly these bytes on the wire (no client-side path normalisation)."""
        head = [("Host", f"{HOST}:{self.port}"), *headers]
        if body is not None:
            head.append(("Content-Length", str(len(body))))
        return exchange(HOST, self.port, build_request(method, self.mount + target, head, body), method, 30.0)

    def unique(self, name: str = "c") -> str:
        """A fresh path, so tests sharing one server never see each other's data."""
        return f"/{name}-{uuid.uuid4().hex[:10]}"

    def export(self) -> Any:
        return self.get("/__mockbin/store").json()


def wait_healthy(port: int, mount: str = "", timeout: float = 20.0) -> None:
    """Wait until a worker answers, not just the listening socket.

    mockbin binds its socket before gunicorn sets TCP_NODELAY on it; a
    connection accepted in between keeps Nagle's algorithm and so answers
    every keep-alive request ~40 ms late.  Clients connecting after the
    first health answer never see that.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"http://{HOST}:{port}{mount}/__mockbin/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"mockbin on port {port} never answered /__mockbin/health")
        time.sleep(0.05)


def start(backend: str, directory: str, *extra: str, workers: int = 2, mount: str = "") -> Iterator[Live]:
    """Run a stateful server for *backend* until the generator is closed."""
    args, prefix = store_args(backend, directory, workers)
    port = free_port()
    argv = mockbin_argv(port, "--stateful", *args, *extra)
    try:
        with ServerProcess(argv, port) as server:
            wait_healthy(port, mount)
            live = Live(server, backend, mount)
            yield live
            live.session.close()
    finally:
        if prefix:
            drop_redis_prefix(prefix)


def is_problem(response: requests.Response, status: int, kind: str) -> bool:
    """*response* is an RFC 9457 document of this status and mockbin problem kind."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status and body["type"] == f"urn:mockbin:problem:{kind}", body
    assert body["title"] and body["detail"], body
    return True
