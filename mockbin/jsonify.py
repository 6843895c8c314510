"""httpbin's JSON encoding, byte for byte, without the slow path.

httpbin answers with Flask's ``jsonify`` in non-compact mode, which is
``json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=True)`` plus one
newline.  On CPython before 3.13 any ``indent`` makes the standard library
drop its C encoder for a pure-Python generator chain, which costs more than
everything else an echo request does.  This module produces the same bytes
with one small recursive function that leans on the C string escaper.

The output is checked against the standard library for arbitrary JSON values
by a property-based test (``tests/test_jsonify.py``).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _escape  # C accelerated
from typing import Any, Iterator, List, Tuple

from flask import Response
from flask.json.provider import JSONProvider

__all__ = ["JSON", "dumps", "dumps_bytes", "loads_or_none", "compact", "json_response", "HttpbinJSONProvider"]

JSON = "application/json"

_INF = float("inf")


def _float(value: float) -> str:
    # The standard library's spelling: repr() for finite numbers, and the
    # JavaScript names for the three values JSON has no literal for.
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    # Object keys are strings in JSON: other scalars are spelled, then quoted.
    if isinstance(key, str):
        return _escape(key)
    if key is None or isinstance(key, (int, float)):
        return '"' + _scalar(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode(value: Any, indent: str) -> str:
    kind = type(value)
    if kind is str:
        return _escape(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        # Strings are escaped inline: most echo values are strings, and the
        # saved call per value is a measurable share of an echo request.
        body = ",\n".join(
            [
                inner
                + (_escape(k) if type(k) is str else _key(k))
                + ": "
                + (_escape(v) if type(v) is str else _encode(v, inner))
                for k, v in sorted(value.items())
            ]
        )
        return "{\n" + body + "\n" + indent + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        body = ",\n".join(
            [inner + (_escape(v) if type(v) is str else _encode(v, inner)) for v in value]
        )
        return "[\n" + body + "\n" + indent + "]"
    # Mapping and sequence subclasses (OrderedDict...) as their base type, as
    # in the standard library; everything else is a scalar.
    if isinstance(value, dict):
        return _encode(dict(value), indent)
    if isinstance(value, (list, tuple)):
        return _encode(list(value), indent)
    return _scalar(value)


def _scalar(value: Any) -> str:
    """A JSON scalar; subclasses (IntEnum, str subclasses...) spelled as their base type."""
    if isinstance(value, str):
        return _escape(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode_deep(value: Any) -> str:
    """The same spelling without recursion, for values nested deeper than the stack allows.

    Each stack entry is an iterator over an open container's ``(prefix, child)``
    pairs, where the prefix is the child's indentation (and key), plus the text
    that closes the container.
    """
    out: List[str] = []
    stack: List[Tuple[Iterator[Tuple[str, Any]], str]] = []

    def emit(child: Any, indent: str) -> bool:
        """Write *child*; True when it opened a container whose items follow."""
        if not isinstance(child, (dict, list, tuple)):
            out.append(_scalar(child))
            return False
        if not child:
            out.append("{}" if isinstance(child, dict) else "[]")
            return False
        inner = indent + "  "
        if isinstance(child, dict):
            out.append("{")
            pairs = ((inner + _key(k) + ": ", v) for k, v in sorted(child.items()))
            stack.append((pairs, "\n" + indent + "}"))
        else:
            out.append("[")
            stack.append((((inner, v) for v in child), "\n" + indent + "]"))
        return True

    first = emit(value, "")
    while stack:
        pairs, closing = stack[-1]
        item = next(pairs, None)
        if item is None:
            stack.pop()
            out.append(closing)
            first = False
            continue
        prefix, child = item
        out.append(("\n" if first else ",\n") + prefix)
        first = emit(child, prefix[: len(prefix) - len(prefix.lstrip(" "))])
    return "".join(out)


def dumps(value: Any) -> str:
    """Encode *value* exactly as httpbin does, trailing newline included."""
    try:
        return _encode(value, "") + "\n"
    except RecursionError:
        return _encode_deep(value) + "\n"


def dumps_bytes(value: Any) -> bytes:
    """:func:`dumps` as ASCII bytes, ready for the wire (the output is pure ASCII)."""
    return dumps(value).encode("ascii")


def compact(value: Any) -> str:
    """``json.dumps`` with its defaults: one line, ``", "`` and ``": "``, insertion order.

    httpbin uses this spelling for ``/stream/<n>`` lines and the 406 body.
    """
    return json.dumps(value)


def loads_or_none(raw: bytes) -> Any:
    """Parse a request body the way httpbin does: UTF-8, then JSON, else ``None``.

    Accepts any top-level value and NaN/Infinity; a BOM, invalid UTF-8,
    invalid JSON or nesting too deep for the interpreter all give ``None``.
    """
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def json_response(value: Any, status: int = 200) -> Response:
    """A body in httpbin's JSON spelling, ``Content-Type`` then ``Content-Length``."""
    return Response(dumps_bytes(value), status=status, content_type=JSON)


class HttpbinJSONProvider(JSONProvider):
    """Flask's JSON hooks (``return {...}`` from a view) in httpbin's spelling."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps(obj)

    def loads(self, s: Any, **kwargs: Any) -> Any:
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        value = args[0] if len(args) == 1 else (list(args) or kwargs)
        return json_response(value)
