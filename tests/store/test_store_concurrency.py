"""Atomicity under load: many clients, several gunicorn workers, one store.

* 8 client processes x 500 POSTs to one collection through 4 workers give
  exactly 4000 members with the ids 1..4000, and no error (SQLite, Redis);
* concurrent If-Match writes of one item: exactly one winner per version,
  every other writer gets 412 (404 for a DELETE: the item is gone) (every backend);
* concurrent unconditional JSON Patches lose no update (every backend).
"""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Dict, List, Tuple

import pytest

from support.servers import HOST
from support.stateful import start

CLIENTS = 8
POSTS_PER_CLIENT = 500


@pytest.fixture(scope="module", params=("memory", "sqlite", "redis"))
def busy(request, tmp_path_factory):
    """A server with 4 workers (memory: 1 worker, its connections concurrent greenlets) for the backend."""
    yield from start(request.param, str(tmp_path_factory.mktemp("busy")), workers=4)


def post_many(port: int, collection: str, count: int, client: int) -> List[Tuple[int, str]]:
    """One client process: *count* POSTs on one keep-alive connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    answers = []
    try:
        for n in range(count):
            body = json.dumps({"client": client, "n": n})
            conn.request("POST", collection, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Location") or ""))
    finally:
        conn.close()
    return answers


@pytest.mark.parametrize("busy", ["sqlite", "redis"], indirect=True)  # memory:// is one process
def test_parallel_posts_get_distinct_sequential_ids(busy):
    collection = busy.unique("flood")
    with ProcessPoolExecutor(CLIENTS, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(post_many, busy.port, collection, POSTS_PER_CLIENT, c) for c in range(CLIENTS)]
        answers = [answer for future in futures for answer in future.result()]
    assert [status for status, _ in answers if status != 201] == []
    ids = sorted(int(location.rsplit("/", 1)[1]) for _, location in answers)
    assert ids == list(range(1, CLIENTS * POSTS_PER_CLIENT + 1))

    listed = []
    for offset in range(0, CLIENTS * POSTS_PER_CLIENT, 1000):
        page = busy.get(collection, params={"offset": offset, "limit": 1000})
        assert page.headers["X-Total-Count"] == str(CLIENTS * POSTS_PER_CLIENT)
        listed += page.json()
    assert len(listed) == CLIENTS * POSTS_PER_CLIENT
    assert len({member["id"] for member in listed}) == CLIENTS * POSTS_PER_CLIENT
    assert len({(member["client"], member["n"]) for member in listed}) == CLIENTS * POSTS_PER_CLIENT


def race(port: int, requests: List[Tuple[str, str, bytes, Dict[str, str]]]) -> List[int]:
    """Send all *requests* at the same moment, each on its own connection; their statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: List[int] = [0] * len(requests)

    def send(index: int) -> None:
        method, path, body, headers = requests[index]
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            conn.connect()
            barrier.wait()
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
            statuses[index] = response.status
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_if_match_has_exactly_one_winner_per_version(busy, method):
    path = busy.unique("race") + "/item"
    busy.put(path, json={"version": 0})
    for version in range(1, 6):
        etag = busy.get(path).headers["ETag"]
        contenders = []
        for client in range(CLIENTS):
            body = json.dumps({"version": version, "writer": client}).encode()
            headers = {
                "If-Match": etag,
                "Content-Type": "application/merge-patch+json" if method == "PATCH" else "application/json",
            }
            contenders.append((method, path, b"" if method == "DELETE" else body, headers))
        statuses = race(busy.port, contenders)
        winners = [s for s in statuses if s in (200, 204)]
        # A DELETE that lost finds nothing left: 404, since RFC 9110 13.2.1
        # ignores preconditions when the answer would be an error anyway.
        loser = 404 if method == "DELETE" else 412
        assert len(winners) == 1 and statuses.count(loser) == CLIENTS - 1, statuses
        if method == "DELETE":
            assert busy.get(path).status_code == 404
            busy.put(path, json={"version": version})
        else:
            assert busy.get(path).json()["version"] == version


def test_unconditional_patches_lose_no_update(busy):
    path = busy.unique("counter") + "/item"
    busy.put(path, json={"seen": []})
    rounds = 5
    for r in range(rounds):
        ops = [
            (
                "PATCH",
                path,
                json.dumps([{"op": "add", "path": "/seen/-", "value": f"{r}-{c}"}]).encode(),
                {"Content-Type": "application/json-patch+json"},
            )
            for c in range(CLIENTS)
        ]
        assert race(busy.port, ops) == [200] * CLIENTS
    seen = busy.get(path).json()["seen"]
    assert sorted(seen) == sorted(f"{r}-{c}" for r in range(rounds) for c in range(CLIENTS))
