"""The Store interface: what every backend (memory, SQLite, Redis) must do atomically.

The HTTP rules live in :mod:`mockbin.store.resources`; a backend only keeps
items and answers a handful of operations, each of which is atomic on its
own, even across gunicorn workers or mockbin replicas:

* :meth:`Store.swap` -- compare-and-set one item: write (or delete) it only
  if its current ETag is still the one the caller based its decision on.
  Conditional requests, PUT, PATCH and DELETE are all built on it, so a
  lost update is impossible whatever the backend.
* :meth:`Store.append` -- assign the next id of a collection and insert the
  new member in one step (never two members with one id, never an id reused).
* :meth:`Store.claim` / :meth:`Store.release` -- the Idempotency-Key table.

Limits (items, bytes) are checked inside the same atomic step as the write,
so a full store refuses the write and keeps everything it already holds.
"""

from __future__ import annotations

import hashlib
import json
import json.decoder
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Dict, List, Optional, Tuple

from ..limits import check_json, json_deeper_than, json_too_deep, over_json_budget, probably_json
from ..problems import Problem
from ..settings import describe

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_JSON_STARTS = frozenset(b' \t\r\n{["-0123456789tfn')


class StoreError(Exception):
    """Base class of the errors a backend reports."""

    def problem(self) -> Problem:
        """What a client is told."""
        raise NotImplementedError


class StoreFull(StoreError):
    """A write would take the store past ``--store-max-items`` or ``--store-max-bytes``."""

    def __init__(self, limit_name: str, limit: int) -> None:
        super().__init__(f"store limit {limit_name}={limit} reached")
        self.limit_name = limit_name  # "store_max_items" or "store_max_bytes"
        self.limit = limit

    def problem(self) -> Problem:
        return Problem(
            "store-full",
            f"This write would take the store past {describe(self.limit_name)} = {self.limit}; "
            "nothing was changed. Delete items, reset the store, or raise the limit.",
            limit=self.limit,
        )


class StoreUnavailable(StoreError):
    """The backend cannot be reached or refused to work (Redis down, disk full, ...)."""

    def problem(self) -> Problem:
        return Problem("store-unavailable", str(self))


@dataclass(frozen=True)
class Limits:
    max_items: int
    max_bytes: int

    def check(self, items: int, size: int) -> None:
        """Raise :class:`StoreFull` if a store of *items* items and *size* bytes is too big."""
        if items > self.max_items:
            raise StoreFull("store_max_items", self.max_items)
        if size > self.max_bytes:
            raise StoreFull("store_max_bytes", self.max_bytes)


UNLIMITED = Limits(2**62, 2**62)


def etag_of(body: bytes, content_type: str) -> str:
    """A strong validator: the same bytes with the same type always get the same tag."""
    digest = hashlib.sha256(content_type.encode("utf-8", "surrogateescape") + b"\n" + body)
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Budget:
    """How much JSON the store parses: values (member names included), memory and nesting depth.

    ``--max-json-values``, ``--max-json-expansion`` and ``--store-max-depth``; all are checked on the
    bytes, before a document is parsed (``mockbin.limits``), so nothing in
    the store ever builds, copies or walks a document past them -- and no
    recursion (the json module's, ``copy.deepcopy``'s, jsonpatch's) goes
    deeper than the depth limit.
    """

    values: int
    depth: int
    expansion: int = 0  #: ``--max-json-expansion`` (0: none)

    def fits(self, body: bytes) -> bool:
        """Whether *body* (JSON or not) is within the budget."""
        return not over_json_budget(body, self.values, self.expansion) and not json_deeper_than(body, self.depth)

    def check(self, body: bytes, what: str) -> None:
        """413 ``json-too-large`` / ``json-too-deep`` when *body* looks like JSON and is past the budget."""
        check_json(body, self.values, self.expansion, what)
        if json_deeper_than(body, self.depth) and probably_json(body):
            raise json_too_deep(self.depth, what)


#: Deepest JSON shown as a value (rather than base64) by exports: the largest --store-max-depth.
EXPORT_DEPTH = 256


def parse_json(body: bytes, budget: Optional[Budget] = None) -> Tuple[bool, object]:
    """``(True, value)`` if *body* is one strict JSON text in UTF-8 (within *budget*), else ``(False, None)``.

    Strict means what RFC 8259 allows: no NaN/Infinity, no byte order mark.
    Absurdly deep nesting, or a document past the budget, is "not JSON"
    rather than a crash or a memory spike.
    """
    if not body or body[0] not in _JSON_STARTS:
        return False, None
    if budget is not None and not budget.fits(body):
        return False, None
    try:
        return True, loads(body)
    except (ValueError, RecursionError):
        return False, None


def loads(data: bytes) -> object:
    """Strict JSON from UTF-8 bytes; ValueError (or RecursionError) when it is not."""
    return json.loads(data.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)


def dumps(value: object) -> bytes:
    """How mockbin writes JSON it produced itself (an injected id, a patch result); ValueError if too deep."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except RecursionError:
        raise ValueError("nested too deeply to write") from None


_DECODER = json.JSONDecoder(
    parse_constant=lambda name: _reject_constant(name), parse_float=lambda text: _finite_float(text)
)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # the C scanner json.loads uses
_BLANK = re.compile(r"[ \t\n\r]*")


def _skip_blank(text: str, position: int) -> int:
    """The position after the JSON whitespace at *position*."""
    match = _BLANK.match(text, position)
    return match.end() if match else position


def object_members(text: str) -> Optional[List[Tuple[str, int, int]]]:
    """``(name, start, end)`` of each member value of the JSON object *text*; None when *text* is not one.

    What ``json.loads`` accepts, walked one member at a time (the values are
    parsed by the same C scanner and dropped), so the caller can edit the
    text in place of re-serialising the whole document.
    """
    position = _skip_blank(text, 0)
    if not text.startswith("{", position):
        return None
    members: List[Tuple[str, int, int]] = []
    position = _skip_blank(text, position + 1)
    try:
        if text.startswith("}", position):
            position += 1
        else:
            while True:
                if not text.startswith('"', position):
                    return None
                name, position = json.decoder.scanstring(text, position + 1, True)  # type: ignore[attr-defined]
                position = _skip_blank(text, position)
                if not text.startswith(":", position):
                    return None
                start = _skip_blank(text, position + 1)
                _, end = _SCAN(text, start)
                members.append((name, start, end))
                position = _skip_blank(text, end)
                if text.startswith(",", position):
                    position = _skip_blank(text, position + 1)
                    continue
                if not text.startswith("}", position):
                    return None
                position += 1
                break
    except (StopIteration, ValueError, RecursionError):
        return None
    return members if _skip_blank(text, position) == len(text) else None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def parent_of(path: str) -> str:
    """The collection an item belongs to: ``/a/b/3`` -> ``/a/b``; ``/a`` -> ``/``."""
    return path[: path.rfind("/")] or "/"


def child_of(collection: str, name: str) -> str:
    return collection.rstrip("/") + "/" + name


@dataclass(frozen=True)
class Item:
    """One stored representation: bytes verbatim, their type, validators."""

    __slots__ = ("path", "body", "content_type", "etag", "modified")  # a million of them in memory://

    path: str
    body: bytes
    content_type: str
    etag: str  # without quotes
    modified: float  # seconds since the epoch

    @classmethod
    def make(cls, path: str, body: bytes, content_type: str, modified: Optional[float] = None) -> "Item":
        return cls(
            path,
            body,
            content_type,
            etag_of(body, content_type),
            time.time() if modified is None else modified,
        )

    @property
    def size(self) -> int:
        return len(self.body)

    def json(self, budget: Optional[Budget] = None) -> Tuple[bool, object]:
        """``(True, value)`` when the stored bytes are a JSON text (within *budget*)."""
        return parse_json(self.body, budget)


@dataclass(frozen=True)
class Receipt:
    """An idempotency record to store in the same atomic step as a new item."""

    key: str
    ttl: float  # seconds
    record: Callable[[Item], bytes] = field(compare=False)


class Store(ABC):
    """Items by path, collections with id counters, and idempotency records."""

    kind: ClassVar[str] = ""

    def __init__(self, limits: Limits = UNLIMITED) -> None:
        self.limits = limits

    @abstractmethod
    def get(self, path: str) -> Optional[Item]:
        """The item stored at *path*, or None."""

    @abstractmethod
    def swap(self, path: str, expected: Optional[str], new: Optional[Item]) -> bool:
        """Atomically replace the item at *path* if its ETag is still *expected*.

        *expected* None means "there must be no item"; *new* None deletes.
        Returns False (and changes nothing) when the current state differs;
        raises :class:`StoreFull` when the write would pass a limit.
        """

    @abstractmethod
    def append(
        self, collection: str, build: Callable[[str], Item], receipt: Optional[Receipt] = None
    ) -> Item:
        """Insert ``build(next_id)`` as a new member of *collection* and return it.

        Ids count 1, 2, 3... per collection, are never reused (a counter, not
        max+1) and skip names already taken by a PUT.  With *receipt*, the
        idempotency record is stored in the same atomic step.
        """

    @abstractmethod
    def members(self, collection: str, offset: int, limit: int) -> Tuple[int, List[Item]]:
        """``(total, items)``: the direct children of *collection* in creation order."""

    @abstractmethod
    def last_id(self, collection: str) -> Optional[int]:
        """The last id POST issued in *collection*, or None if it never did."""

    @abstractmethod
    def claim(self, key: str, marker: bytes, lease: float) -> Optional[bytes]:
        """Store *marker* under *key* for *lease* seconds unless a record exists; return that record."""

    @abstractmethod
    def release(self, key: str, marker: bytes) -> None:
        """Drop the record under *key* if it is still *marker* (the request failed)."""

    @abstractmethod
    def dump(self) -> Tuple[List[Item], Dict[str, int]]:
        """Every item (creation order) and every collection counter."""

    @abstractmethod
    def load(self, items: List[Item], counters: Dict[str, int]) -> None:
        """Replace everything with *items* and *counters*; all or nothing."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every item, counter and idempotency record."""

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""

    def describe(self) -> str:
        return self.kind

    def check_load(self, items: List[Item]) -> None:
        """Refuse a seed that passes the limits before anything is touched."""
        self.limits.check(len(items), sum(item.size for item in items))
