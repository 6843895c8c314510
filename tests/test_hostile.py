"""The hostile-input corpus (support/hostile.py) against every server mockbin runs on.

gunicorn's gevent worker (``mockbin serve``'s default), its sync worker and
the pytest plugin's live server, each with the journal off and on.  Every case must get
one of its expected statuses (never a 5xx but the 501 RFC 9112 asks for), the
connection closed where the framing leaves no way to read on, nothing stored
under the corpus path, and no journal entry that takes a broken body for a
whole one.
"""

from __future__ import annotations

import json
from typing import Iterator, NamedTuple

import pytest
import requests

from mockbin import create_app
from mockbin.settings import Settings
from mockbin.testing.livesrv import LiveServer
from support.hostile import SEEDS, SERVER_ARGS, STORE_PATH, Case, cases, send_case
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

CASES = cases()
BODY_PROBLEMS = {"urn:mockbin:problem:incomplete-body", "urn:mockbin:problem:malformed-body"}
SERVERS = [(kind, journal) for kind in ("gevent", "sync", "live") for journal in (False, True)]


class Target(NamedTuple):
    port: int
    journal: bool

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def corpus_settings(journal: bool) -> Settings:
    """The corpus flags (SERVER_ARGS) as settings, for the in-process server."""
    flags, args = {}, list(SERVER_ARGS)
    while args:
        name = args.pop(0)[2:].replace("-", "_")
        flags[name] = True if not args or args[0].startswith("--") else args.pop(0)
    return Settings.from_sources(dict(flags, journal=journal), environ={})


@pytest.fixture(scope="module", params=SERVERS, ids=[f"{k}-journal-{'on' if j else 'off'}" for k, j in SERVERS])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    kind, journal = request.param
    if kind == "live":
        with LiveServer(create_app(corpus_settings(journal))) as live:
            yield Target(live.port, journal)
        return
    port = free_port()
    extra = ["--worker-class", kind] + (["--journal"] if journal else [])
    with ServerProcess(mockbin_argv(port, *SERVER_ARGS, *extra), port):
        yield Target(port, journal)


def test_the_corpus_covers_what_the_issue_lists():
    ids = {case.id for case in CASES}
    assert len([i for i in ids if i.startswith("chunked-")]) >= 32  # malformed chunked framings
    assert len([i for i in ids if i.startswith("te-")]) >= 10
    assert {"truncated-echo", "truncated-put", "truncated-post", "huge-content-length",
            "json-too-many-values-echo", "json-patch-of-a-deep-document", "patch-copy-chain"} <= ids


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_input(target: Target, case: Case) -> None:
    for path, document in SEEDS:
        seeded = requests.put(target.url + path, data=document, headers={"Content-Type": "application/json"}, timeout=10)
        assert seeded.status_code in (200, 201)
    if target.journal:
        requests.delete(target.url + "/__mockbin/requests", timeout=10).raise_for_status()

    outcome = send_case(HOST, target.port, case)

    assert outcome.response is not None, "the connection closed without an answer"
    response = outcome.response
    assert response.status in case.expect, (response.status_line, response.body[:300])
    if case.close:
        assert outcome.closed, "the connection stayed open after a request it cannot read past"
    if case.broken_body and response.status == 400 and response.header("Content-Type") == "application/problem+json":
        assert json.loads(response.body)["type"] in BODY_PROBLEMS
    if case.stores:
        stored = requests.get(target.url + "/__mockbin/store", timeout=10).json()["items"]
        assert not [path for path in stored if path.startswith(STORE_PATH)]
    if target.journal and case.broken_body:
        recorded = requests.get(target.url + "/__mockbin/requests", timeout=10).json()
        assert recorded, "a request that reached the app is journaled"
        for entry in recorded:
            assert entry["body_error"] in ("incomplete-body", "malformed-body"), entry
