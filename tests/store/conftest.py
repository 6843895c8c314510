"""Fixtures of the stateful-mode conformance suite: every test runs on every backend.

``live``: a server with the default stateful settings.  ``strict``: one with
the opt-in rules and small limits (``--require-if-match``, a required
Idempotency-Key, 6 items / 4 KiB, pages of 3, ``--prefix /mock`` and
``--store-prefix /store``, id injection off, 1-second key TTL); its tests
reset the store first, since they count items.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from support.stateful import BACKENDS, Live, start

STRICT_ARGS = (
    "--prefix",
    "/mock",
    "--store-prefix",
    "/store",
    "--require-if-match",
    "--require-idempotency-key",
    "--store-max-items",
    "6",
    "--store-max-bytes",
    "4KiB",
    "--store-max-page",
    "3",
    "--no-store-inject-id",
    "--idempotency-key-ttl",
    "1",
    "--max-body-size",
    "8KiB",
)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def live(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start(backend, str(tmp_path_factory.mktemp(f"live-{backend}")))


@pytest.fixture(scope="session")
def strict_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start(backend, str(tmp_path_factory.mktemp(f"strict-{backend}")), *STRICT_ARGS, mount="/mock")


@pytest.fixture
def strict(strict_server: Live) -> Live:
    """The strict server with an empty store."""
    assert strict_server.post("/__mockbin/reset").status_code == 200
    return strict_server
