"""The store as one JSON document, for ``GET``/``PUT /__mockbin/store``::

    {"items": {"/articles/1": {"content_type": "application/json", "body": {"id": 1}},
               "/logo": {"content_type": "image/png", "body_base64": "iVBORw0..."}},
     "counters": {"/articles": 1}}

An item whose stored bytes are a JSON text is shown as ``body`` (its value);
any other (and JSON nested deeper than any ``--store-max-depth``) as
``body_base64``.  Seeding writes a ``body`` value in mockbin's
own JSON spelling (as for an injected id), so a seeded JSON item's bytes,
and so its ETag, may differ in whitespace from the bytes first stored.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any, Dict, List, Tuple

from .base import EXPORT_DEPTH, Budget, Item, dumps, parse_json

#: What an export shows as a JSON value: any size, nested no deeper than a document can be written.
_EXPORTED = Budget(2**62, EXPORT_DEPTH)

Document = Dict[str, Any]


class BadDocument(ValueError):
    """The seed document is malformed; the message says where."""


def export(items: List[Item], counters: Dict[str, int]) -> Document:
    out: Dict[str, Any] = {}
    for item in items:
        ok, value = parse_json(item.body, _EXPORTED)
        entry: Dict[str, Any] = {"content_type": item.content_type}
        if ok:
            entry["body"] = value
        else:
            entry["body_base64"] = base64.b64encode(item.body).decode("ascii")
        out[item.path] = entry
    return {"items": out, "counters": dict(counters)}


def parse(document: Any, path_ok: Any) -> Tuple[List[Item], Dict[str, int]]:
    """Items and counters from a seed document; :class:`BadDocument` if anything is wrong.

    *path_ok(path)* returns None for a usable resource path, else the reason.
    """
    if not isinstance(document, dict):
        raise BadDocument("the document must be a JSON object with 'items' and 'counters'")
    unknown = sorted(set(document) - {"items", "counters"})
    if unknown:
        raise BadDocument(f"unknown member {unknown[0]!r} (expected 'items' and 'counters')")
    entries = document.get("items", {})
    counters = document.get("counters", {})
    if not isinstance(entries, dict):
        raise BadDocument("'items' must be an object mapping paths to items")
    if not isinstance(counters, dict):
        raise BadDocument("'counters' must be an object mapping collection paths to numbers")
    now = time.time()
    items = [_item(path, entry, path_ok, now) for path, entry in entries.items()]
    for path, value in counters.items():
        reason = path_ok(path)
        if reason:
            raise BadDocument(f"counter {path!r}: {reason}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BadDocument(f"counter {path!r} must be a whole number >= 0, not {value!r}")
    return items, {path: value for path, value in counters.items() if value > 0}


def _item(path: str, entry: Any, path_ok: Any, now: float) -> Item:
    where = f"item {path!r}"
    reason = path_ok(path)
    if reason:
        raise BadDocument(f"{where}: {reason}")
    if not isinstance(entry, dict):
        raise BadDocument(f"{where} must be an object with content_type and body or body_base64")
    unknown = sorted(set(entry) - {"content_type", "body", "body_base64"})
    if unknown:
        raise BadDocument(f"{where} has an unknown member {unknown[0]!r}")
    content_type = entry.get("content_type")
    if not isinstance(content_type, str) or not content_type.strip() or not content_type.isprintable():
        raise BadDocument(f"{where} needs a content_type string")
    if ("body" in entry) == ("body_base64" in entry):
        raise BadDocument(f"{where} needs exactly one of body and body_base64")
    if "body" in entry:
        try:
            body = dumps(entry["body"])
        except (ValueError, TypeError):
            raise BadDocument(f"{where}: body is not a JSON value") from None
    else:
        encoded = entry["body_base64"]
        if not isinstance(encoded, str):
            raise BadDocument(f"{where}: body_base64 must be a string")
        try:
            body = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise BadDocument(f"{where}: body_base64 is not valid base64") from None
    return Item.make(path, body, content_type, now)
