"""``memory://``: the store in one process's memory, behind one lock.

Fast and simple, gone when the process ends, and private to one process:
with several gunicorn workers each would hold a different store, so mockbin
refuses that combination at start-up (see :func:`mockbin.store.open_store`).

Idempotency: ``_claims`` holds in-flight markers, ``_keys`` maps a completed
key to the path of the item its POST created, and ``_records`` holds each
such item's record (counted in ``_bytes``, dropped with the item).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from .base import Item, Limits, Receipt, Store, StoreFull, child_of, parent_of

PURGE_EVERY = 1000  # idempotency claims between sweeps of expired records


class MemoryStore(Store):
    kind = "memory"

    def __init__(self, limits: Limits) -> None:
        super().__init__(limits)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._items: Dict[str, Item] = {}
        # parent -> {child path: None}; a dict keeps creation order.
        self._children: Dict[str, Dict[str, None]] = {}
        self._counters: Dict[str, int] = {}
        self._bytes = 0  # item bodies and idempotency records
        self._claims: Dict[str, Tuple[bytes, float]] = {}  # key -> (in-flight marker, expiry)
        self._keys: Dict[str, Tuple[str, float]] = {}  # key -> (path of the item it created, expiry)
        self._records: Dict[str, Tuple[str, bytes]] = {}  # item path -> (key, record)
        self._claim_count = 0

    def get(self, path: str) -> Optional[Item]:
        return self._items.get(path)

    def swap(self, path: str, expected: Optional[str], new: Optional[Item]) -> bool:
        with self._lock:
            current = self._items.get(path)
            if (current.etag if current else None) != expected:
                return False
            self._write(path, current, new)
            return True

    def _write(self, path: str, current: Optional[Item], new: Optional[Item]) -> None:
        """Apply one change; the caller holds the lock and has compared."""
        old_size = current.size if current else 0
        if new is None:
            if current is not None:
                del self._items[path]
                self._children[parent_of(path)].pop(path, None)
                self._bytes -= old_size
                self._drop_record(path)
            return
        count = len(self._items) + (0 if current else 1)
        self.limits.check(count, self._bytes - old_size + new.size)
        self._items[path] = new
        self._children.setdefault(parent_of(path), {})[path] = None
        self._bytes += new.size - old_size

    def _drop_record(self, path: str) -> None:
        """The item at *path* is gone: so is its idempotency record (and its key)."""
        record = self._records.pop(path, None)
        if record is not None:
            self._bytes -= len(record[1])
            if self._keys.get(record[0], ("", 0.0))[0] == path:
                del self._keys[record[0]]

    def append(
        self, collection: str, build: Callable[[str], Item], receipt: Optional[Receipt] = None
    ) -> Item:
        with self._lock:
            if len(self._items) + 1 > self.limits.max_items:
                raise StoreFull("store_max_items", self.limits.max_items)
            number = self._counters.get(collection, 0)
            while True:
                number += 1
                if child_of(collection, str(number)) not in self._items:
                    break
            item = build(str(number))
            record = receipt.record(item) if receipt is not None else b""
            self.limits.check(len(self._items) + 1, self._bytes + item.size + len(record))
            self._write(item.path, None, item)
            self._counters[collection] = number
            if receipt is not None:
                self._claims.pop(receipt.key, None)
                self._keys[receipt.key] = (item.path, time.time() + receipt.ttl)
                self._records[item.path] = (receipt.key, record)
                self._bytes += len(record)
            return item

    def members(self, collection: str, offset: int, limit: int) -> Tuple[int, List[Item]]:
        with self._lock:
            children = self._children.get(collection, {})
            paths = list(itertools.islice(children, offset, offset + limit))
            return len(children), [self._items[path] for path in paths]

    def last_id(self, collection: str) -> Optional[int]:
        return self._counters.get(collection)

    def claim(self, key: str, marker: bytes, lease: float) -> Optional[bytes]:
        now = time.time()
        with self._lock:
            self._claim_count += 1
            if self._claim_count % PURGE_EVERY == 0:
                self._keys = {k: v for k, v in self._keys.items() if v[1] > now}
                self._claims = {k: v for k, v in self._claims.items() if v[1] > now}
            done = self._keys.get(key)
            if done is not None and done[1] > now:
                record = self._records.get(done[0])
                if record is not None and record[0] == key:
                    return record[1]
            claimed = self._claims.get(key)
            if claimed is not None and claimed[1] > now:
                return claimed[0]
            self._claims[key] = (marker, now + lease)
            return None

    def release(self, key: str, marker: bytes) -> None:
        with self._lock:
            claimed = self._claims.get(key)
            if claimed is not None and claimed[0] == marker:
                del self._claims[key]

    def dump(self) -> Tuple[List[Item], Dict[str, int]]:
        with self._lock:
            return list(self._items.values()), dict(self._counters)

    def load(self, items: List[Item], counters: Dict[str, int]) -> None:
        self.check_load(items)
        with self._lock:
            self._reset()
            for item in items:
                self._write(item.path, self._items.get(item.path), item)
            self._counters = dict(counters)

    def clear(self) -> None:
        with self._lock:
            self._reset()
