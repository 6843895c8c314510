"""The Store contract, backend by backend, without HTTP: what resources.py relies on."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from mockbin.store import open_store
from mockbin.store.base import Item, Limits, Receipt, StoreFull
from support.stateful import REDIS_URL, drop_redis_prefix, require_redis


@pytest.fixture(params=("memory", "sqlite", "redis"))
def make_store(request, tmp_path):
    """A factory: a fresh, empty store of the backend with the given limits."""
    opened = []
    prefix = f"mockbin-unit-{uuid.uuid4().hex[:10]}:"

    def make(max_items: int = 1000, max_bytes: int = 10**6):
        limits = Limits(max_items, max_bytes)
        if request.param == "memory":
            url = "memory://"
        elif request.param == "sqlite":
            url = f"sqlite://{tmp_path}/unit-{len(opened)}.db"
        else:
            require_redis()
            url = f"{REDIS_URL}?prefix={prefix}{len(opened)}:"
        store = open_store(url, limits)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if request.param == "redis" and opened:
        drop_redis_prefix(prefix)


def item(path: str, body: bytes = b"x", content_type: str = "text/plain") -> Item:
    return Item.make(path, body, content_type)


def test_swap_is_compare_and_set(make_store):
    store = make_store()
    first = item("/a/1", b"one")
    assert store.swap("/a/1", None, first)
    assert not store.swap("/a/1", None, item("/a/1", b"again"))  # must be absent: it is not
    assert store.get("/a/1") == first
    assert not store.swap("/a/1", "stale", item("/a/1", b"two"))
    second = item("/a/1", b"two")
    assert store.swap("/a/1", first.etag, second)
    assert store.get("/a/1") == second
    assert not store.swap("/a/1", first.etag, None)
    assert store.swap("/a/1", second.etag, None)
    assert store.get("/a/1") is None
    assert store.swap("/a/1", None, None)  # deleting nothing that is expected to be absent


def test_items_round_trip_exactly(make_store):
    store = make_store()
    original = Item.make("/caf\u00e9/\u2603", bytes(range(256)), 'application/x-thing; q="1"', 1700000000.25)
    store.swap(original.path, None, original)
    assert store.get(original.path) == original


def test_append_counts_per_collection_and_skips_taken_names(make_store):
    store = make_store()
    store.swap("/c/2", None, item("/c/2"))
    paths = [store.append("/c", lambda n: item(f"/c/{n}", n.encode())).path for _ in range(3)]
    assert paths == ["/c/1", "/c/3", "/c/4"]
    assert store.append("/other", lambda n: item(f"/other/{n}")).path == "/other/1"
    assert store.last_id("/c") == 4 and store.last_id("/nothing") is None
    store.swap("/c/4", store.get("/c/4").etag, None)
    assert store.append("/c", lambda n: item(f"/c/{n}")).path == "/c/5"


def test_append_stores_the_receipt_atomically(make_store):
    store = make_store()
    receipt = Receipt("key-1", 60, lambda stored: b"record for " + stored.path.encode())
    created = store.append("/c", lambda n: item(f"/c/{n}"), receipt)
    assert store.claim("key-1", b"marker", 60) == b"record for " + created.path.encode()


def test_members_in_creation_order_with_paging(make_store):
    store = make_store()
    for name in ("b", "a", "c"):
        store.swap(f"/m/{name}", None, item(f"/m/{name}"))
    store.swap("/m/a/deep", None, item("/m/a/deep"))
    store.swap("/m/a", store.get("/m/a").etag, item("/m/a", b"replaced"))  # keeps its place
    total, page = store.members("/m", 0, 10)
    assert total == 3 and [i.path for i in page] == ["/m/b", "/m/a", "/m/c"]
    assert page[1].body == b"replaced"
    total, page = store.members("/m", 1, 1)
    assert total == 3 and [i.path for i in page] == ["/m/a"]
    assert store.members("/m", 0, 0) == (3, [])
    assert store.members("/none", 0, 10) == (0, [])


def test_limits_refuse_and_keep_everything(make_store):
    store = make_store(max_items=2, max_bytes=10)
    store.swap("/l/1", None, item("/l/1", b"12345"))
    with pytest.raises(StoreFull) as full:
        store.swap("/l/2", None, item("/l/2", b"123456"))
    assert full.value.limit_name == "store_max_bytes"
    store.swap("/l/2", None, item("/l/2", b"1"))
    with pytest.raises(StoreFull) as full:
        store.swap("/l/3", None, item("/l/3"))
    assert full.value.limit_name == "store_max_items"
    with pytest.raises(StoreFull):
        store.append("/l", lambda n: item(f"/l/{n}"))
    assert store.dump()[0] == [store.get("/l/1"), store.get("/l/2")]
    assert store.swap("/l/1", store.get("/l/1").etag, item("/l/1", b"123456789"))  # 9 + 1 bytes fit


def test_claims_block_then_expire(make_store):
    store = make_store()
    assert store.claim("k", b"mine", 0.3) is None
    assert store.claim("k", b"theirs", 0.3) == b"mine"
    store.release("k", b"theirs")  # not theirs to release
    assert store.claim("k", b"theirs", 0.3) == b"mine"
    store.release("k", b"mine")
    assert store.claim("k", b"again", 0.3) is None
    time.sleep(0.5)
    assert store.claim("k", b"after expiry", 60) is None


def test_dump_load_clear(make_store):
    store = make_store()
    store.append("/d", lambda n: item(f"/d/{n}", b"first"))
    store.swap("/d/x", None, item("/d/x", b"second"))
    items, counters = store.dump()
    assert [i.path for i in items] == ["/d/1", "/d/x"] and counters == {"/d": 1}
    other = make_store()
    other.load(items, {"/d": 7})
    assert other.dump() == (items, {"/d": 7})
    assert other.members("/d", 0, 10) == (2, items)
    assert other.append("/d", lambda n: item(f"/d/{n}")).path == "/d/8"
    other.clear()
    assert other.dump() == ([], {})
    assert other.append("/d", lambda n: item(f"/d/{n}")).path == "/d/1"


def test_load_past_the_limits_changes_nothing(make_store):
    store = make_store(max_items=2)
    store.swap("/keep", None, item("/keep"))
    with pytest.raises(StoreFull):
        store.load([item(f"/n/{n}") for n in range(3)], {})
    assert [i.path for i in store.dump()[0]] == ["/keep"]


def test_parallel_appends_from_threads(make_store):
    store = make_store()
    paths = []

    def worker() -> None:
        for _ in range(50):
            paths.append(store.append("/t", lambda n: item(f"/t/{n}")).path)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(paths) == sorted(f"/t/{n}" for n in range(1, 401))
    assert store.members("/t", 0, 1000)[0] == 400
