"""``redis://host:port/db``: the store in Redis, for several mockbin replicas.

Every atomic step is one Lua script (Redis runs a script with nothing else
interleaved): compare-and-set of an item together with the totals and the
collection index, id reservation, and the idempotency claim.  All keys start
with the store's prefix (``?prefix=``, default ``mockbin:``), so several
stores can share one Redis server.

Layout under the prefix ``P``::

    P i:<path>      hash  b=body t=content type e=etag m=modified s=seq
                          r=idempotency record of the POST that created it
    P k:<parent>    zset  member paths scored by seq (creation order)
    P n             hash  collection path -> last id issued
    P meta          hash  items, bytes (bodies and records), seq
    P x:<key>       string in-flight marker, or "@<path>" of the item the key
                          created (expires by itself)
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .base import Item, Limits, Receipt, Store, StoreFull, StoreUnavailable, parent_of

try:  # redis-py is an optional dependency: pip install redis (or '.[redis]')
    import redis as redis_py
except ImportError:  # pragma: no cover - exercised by a subprocess test
    redis_py = None  # type: ignore[assignment]

BATCH = 1000  # keys per SCAN/UNLINK round when clearing

# KEYS: item, kids(parent), meta, idempotency key
# ARGV: expected etag ('' = absent), path, op ('put'|'del'), body, type, etag,
#       modified, max items, max bytes, record ('' = none), record ttl ms
# A deleted item takes its idempotency record (field r) with it; a replaced
# one keeps it.
SWAP = """
local cur = redis.call('HGET', KEYS[1], 'e')
if ARGV[1] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[1] then
  return 0
end
local old = 0
if cur then old = redis.call('HSTRLEN', KEYS[1], 'b') end
if ARGV[3] == 'del' then
  if cur then
    old = old + redis.call('HSTRLEN', KEYS[1], 'r')
    redis.call('DEL', KEYS[1])
    redis.call('ZREM', KEYS[2], ARGV[2])
    redis.call('HINCRBY', KEYS[3], 'items', -1)
    redis.call('HINCRBY', KEYS[3], 'bytes', -old)
  end
  return 1
end
local items = tonumber(redis.call('HGET', KEYS[3], 'items') or '0')
local size = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
local added = string.len(ARGV[4]) + string.len(ARGV[10])
if not cur and items + 1 > tonumber(ARGV[8]) then return -1 end
if size - old + added > tonumber(ARGV[9]) then return -2 end
if cur then
  redis.call('HSET', KEYS[1], 'b', ARGV[4], 't', ARGV[5], 'e', ARGV[6], 'm', ARGV[7])
else
  local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
  redis.call('HSET', KEYS[1], 'b', ARGV[4], 't', ARGV[5], 'e', ARGV[6], 'm', ARGV[7], 's', seq)
  redis.call('ZADD', KEYS[2], seq, ARGV[2])
  redis.call('HINCRBY', KEYS[3], 'items', 1)
end
redis.call('HINCRBY', KEYS[3], 'bytes', added - old)
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], 'r', ARGV[10])
  redis.call('SET', KEYS[4], '@' .. ARGV[2], 'PX', ARGV[11])
end
return 1
"""

# KEYS: counters, meta.  ARGV: collection, item key prefix + collection + '/', max items
RESERVE = """
local items = tonumber(redis.call('HGET', KEYS[2], 'items') or '0')
if items + 1 > tonumber(ARGV[3]) then return -1 end
while true do
  local id = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  if redis.call('EXISTS', ARGV[2] .. id) == 0 then return id end
end
"""

# KEYS: record.  ARGV: marker, lease ms, item key prefix
# "@<path>" points at the item the key created, whose field r is the record;
# if the item is gone, so is the record: the key is claimed anew.
CLAIM = """
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 1) ~= '@' then return v end
  local record = redis.call('HGET', ARGV[3] .. string.sub(v, 2), 'r')
  if record then return record end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""

# KEYS: record.  ARGV: marker
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

FIELDS = ("b", "t", "e", "m")


def _item(path: str, values: List[Any]) -> Optional[Item]:
    body, ctype, etag, modified = values
    if etag is None:
        return None
    return Item(path, body, ctype.decode("utf-8", "surrogateescape"), etag.decode("ascii"), float(modified))


class RedisStore(Store):
    kind = "redis"

    def __init__(self, url: str, prefix: str, limits: Limits) -> None:
        super().__init__(limits)
        if redis_py is None:
            raise ImportError("redis")
        self.url = url
        self.prefix = prefix
        self._r = redis_py.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=30)
        self._swap = self._r.register_script(SWAP)
        self._reserve = self._r.register_script(RESERVE)
        self._claim = self._r.register_script(CLAIM)
        self._release = self._r.register_script(RELEASE)
        self._call(self._r.ping)

    def describe(self) -> str:
        return f"redis ({self.url}, prefix {self.prefix!r})"

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Redis errors (down, out of memory, ...) -> StoreUnavailable."""
        try:
            return fn(*args, **kwargs)
        except redis_py.RedisError as exc:
            raise StoreUnavailable(f"Redis store {self.url}: {exc}") from None

    def _key(self, kind: str, name: str = "") -> bytes:
        return (self.prefix + kind + name).encode("utf-8", "surrogateescape")

    # -- items ---------------------------------------------------------------

    def get(self, path: str) -> Optional[Item]:
        return _item(path, self._call(self._r.hmget, self._key("i:", path), FIELDS))

    def swap(self, path: str, expected: Optional[str], new: Optional[Item]) -> bool:
        return self._write(path, expected, new, None)

    def _write(
        self,
        path: str,
        expected: Optional[str],
        new: Optional[Item],
        receipt: Optional[Tuple[str, bytes, float]],
    ) -> bool:
        keys = [self._key("i:", path), self._key("k:", parent_of(path)), self._key("meta")]
        keys.append(self._key("x:", receipt[0]) if receipt else keys[0])
        args: List[Any] = [expected or "", path]
        if new is None:
            args += ["del", "", "", "", "", 0, 0, "", 0]
        else:
            args += ["put", new.body, new.content_type, new.etag, repr(new.modified)]
            args += [self.limits.max_items, self.limits.max_bytes]
            args += [receipt[1], int(receipt[2] * 1000)] if receipt else ["", 0]
        result = self._call(self._swap, keys=keys, args=args)
        if result == -1:
            raise StoreFull("store_max_items", self.limits.max_items)
        if result == -2:
            raise StoreFull("store_max_bytes", self.limits.max_bytes)
        return bool(result == 1)

    def append(
        self, collection: str, build: Callable[[str], Item], receipt: Optional[Receipt] = None
    ) -> Item:
        while True:
            number = self._call(
                self._reserve,
                keys=[self._key("n"), self._key("meta")],
                args=[collection, self._key("i:", collection.rstrip("/") + "/"), self.limits.max_items],
            )
            if number == -1:
                raise StoreFull("store_max_items", self.limits.max_items)
            item = build(str(number))
            record = (receipt.key, receipt.record(item), receipt.ttl) if receipt else None
            if self._write(item.path, None, item, record):
                return item
            # A PUT took this name between the reservation and the insert: next id.

    def members(self, collection: str, offset: int, limit: int) -> Tuple[int, List[Item]]:
        kids = self._key("k:", collection)
        if limit <= 0:
            return self._call(self._r.zcard, kids), []
        pipe = self._r.pipeline(transaction=True)
        pipe.zcard(kids)
        pipe.zrange(kids, offset, offset + limit - 1)
        total, paths = self._call(pipe.execute)
        pipe = self._r.pipeline(transaction=False)
        for path in paths:
            pipe.hmget(self._key("i:") + path, FIELDS)
        rows = self._call(pipe.execute)
        decoded = [path.decode("utf-8", "surrogateescape") for path in paths]
        items = [_item(path, row) for path, row in zip(decoded, rows)]
        return total, [item for item in items if item is not None]

    def last_id(self, collection: str) -> Optional[int]:
        value = self._call(self._r.hget, self._key("n"), collection)
        return int(value) if value is not None and int(value) > 0 else None

    # -- idempotency records -------------------------------------------------

    def claim(self, key: str, marker: bytes, lease: float) -> Optional[bytes]:
        record: Optional[bytes] = self._call(
            self._claim, keys=[self._key("x:", key)], args=[marker, int(lease * 1000), self._key("i:")]
        )
        return record

    def release(self, key: str, marker: bytes) -> None:
        self._call(self._release, keys=[self._key("x:", key)], args=[marker])

    # -- whole store -----------------------------------------------------------

    def _scan(self, pattern: str) -> List[bytes]:
        glob = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix) + pattern
        return list(self._call(self._r.scan_iter, match=glob.encode("utf-8", "surrogateescape"), count=BATCH))

    def dump(self) -> Tuple[List[Item], Dict[str, int]]:
        item_keys = self._scan("i:*")
        pipe = self._r.pipeline(transaction=False)
        for key in item_keys:
            pipe.hmget(key, FIELDS + ("s",))
        rows = self._call(pipe.execute)
        start = len(self._key("i:"))
        found = []
        for key, row in zip(item_keys, rows):
            item = _item(key[start:].decode("utf-8", "surrogateescape"), row[:4])
            if item is not None:
                found.append((int(row[4] or 0), item))
        found.sort(key=lambda pair: pair[0])
        counters = self._call(self._r.hgetall, self._key("n"))
        return [item for _, item in found], {k.decode(): int(v) for k, v in counters.items() if int(v) > 0}

    def load(self, items: List[Item], counters: Dict[str, int]) -> None:
        """Clear, then write in batches: validation and limits were checked before this."""
        self.check_load(items)
        self.clear()
        for start in range(0, len(items), BATCH):
            pipe = self._r.pipeline(transaction=False)
            for seq, item in enumerate(items[start : start + BATCH], start + 1):
                pipe.hset(
                    self._key("i:", item.path),
                    mapping={
                        "b": item.body,
                        "t": item.content_type,
                        "e": item.etag,
                        "m": repr(item.modified),
                        "s": seq,
                    },
                )
                pipe.zadd(self._key("k:", parent_of(item.path)), {item.path: seq})
            self._call(pipe.execute)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(
            self._key("meta"),
            mapping={
                "items": len(items),
                "bytes": sum(item.size for item in items),
                "seq": len(items),
            },
        )
        if counters:
            last_ids: Dict[Any, int] = dict(counters)  # redis-py's mapping keys are invariant
            pipe.hset(self._key("n"), mapping=last_ids)
        self._call(pipe.execute)

    def clear(self) -> None:
        keys = self._scan("*")
        for start in range(0, len(keys), BATCH):
            self._call(self._r.unlink, *keys[start : start + BATCH])

    def close(self) -> None:
        self._r.close()
