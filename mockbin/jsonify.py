"""httpbin's JSON encoding, byte for byte, without the slow path.

httpbin answers with Flask's ``jsonify`` in non-compact mode, which is
``json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=True)`` plus one
newline.  On CPython before 3.13 any ``indent`` makes the standard library
drop its C encoder for a pure-Python generator chain, which costs more than
everything else an echo request does.  This module produces the same bytes
with one small recursive function that leans on the C string escaper.

The output is checked against the standard library for arbitrary JSON values
by a property-based test (``tests/test_jsonify.py``).

With orjson installed (the extra ``fast``), :func:`echo_bytes` writes the
echo routes' answers with it, some twenty times faster, and checks the
result: anything orjson would spell differently from the standard library
(text beyond ASCII, DEL, integers past 64 bits, nesting past 255, floats not
parsed by :func:`loads_or_none`) falls back to the encoder above.

A value too large to hold twice (an echoed body of megabytes) can be a
:class:`Deferred`: it knows the length of its JSON form up front and makes
the bytes piece by piece while they are sent.  A :class:`DeferredDict` (an
echo object holding such values) is encoded by :func:`encode_pieces` into a
``Content-Length`` and an iterable of bytes, the same bytes :func:`dumps`
would give for the plain value, without the whole answer ever being in
memory at once.
"""

from __future__ import annotations

import json
import json.decoder
from json.encoder import encode_basestring_ascii as _escape  # C accelerated
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from flask import Response
from flask.json.provider import JSONProvider

__all__ = [
    "JSON", "dumps", "dumps_bytes", "loads_or_none", "compact", "json_response", "HttpbinJSONProvider",
    "Deferred", "DeferredDict", "encode_pieces", "ParsedFloat", "echo_bytes",
]

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


class Deferred:
    """A JSON string made while it is sent: :attr:`length` bytes, quotes included, from :meth:`pieces`.

    In the encoded text it stands as its :attr:`token`: a NUL-delimited
    index that no encoded string can contain (the escaper spells NUL
    ``\\u0000``), replaced by its pieces in :func:`encode_pieces`.
    """

    length: int = 0
    token: str = ""

    def pieces(self) -> Iterator[bytes]:
        raise NotImplementedError


class DeferredDict(Dict[str, Any]):
    """A JSON object holding :class:`Deferred` values, listed in :attr:`deferred` by their token's index."""

    def __init__(self, items: Dict[str, Any], deferred: List[Deferred]) -> None:
        super().__init__(items)
        self.deferred = deferred
        for index, value in enumerate(deferred):
            value.token = f"\x00{index}\x00"


def encode_pieces(value: DeferredDict) -> Tuple[int, Iterable[bytes]]:
    """``(Content-Length, body pieces)`` of :func:`dumps_bytes` of *value*, made lazily."""
    parts = dumps(value).split("\x00")
    pieces: List[Union[bytes, Deferred]] = []
    length = 0
    for index, part in enumerate(parts):
        if index % 2:
            deferred = value.deferred[int(part)]
            pieces.append(deferred)
            length += deferred.length
        else:
            data = part.encode("ascii")
            pieces.append(data)
            length += len(data)
    return length, _chain(pieces)


def _chain(pieces: List[Union[bytes, Deferred]]) -> Iterator[bytes]:
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
        else:
            yield from piece.pieces()


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
    if isinstance(value, Deferred):
        return value.token
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode_deep(value: Any) -> str:
    """The same spelling without recursion, for values nested deeper than the stack allows."""
    return "".join(iter_encode(value))


#: Containers with at most this many items are written in one go by the fast encoder.
_SMALL = 256
#: Items of a large container written per piece.
_RUN = 512


class _Open:
    """A large container being written: its items (sorted keys for an object) and where we are."""

    __slots__ = ("container", "keys", "position", "inner", "closing", "deep")

    def __init__(self, container: Any, indent: str, deep: bool) -> None:
        self.container = container
        self.deep = deep  # nested too deep for the recursive encoder: write its items one by one
        self.keys = sorted(container) if isinstance(container, dict) else None
        self.position = 0
        self.inner = indent + "  "
        self.closing = "\n" + indent + ("}" if self.keys is not None else "]")

    def __len__(self) -> int:
        return len(self.container)

    def item(self, index: int) -> Tuple[str, Any]:
        """The prefix (indentation, and key) and the value of item *index*."""
        if self.keys is None:
            return self.inner, self.container[index]
        key = self.keys[index]
        return self.inner + _key(key) + ": ", self.container[key]


def _is_large(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple)) and len(value) > _SMALL


def iter_encode(value: Any, indent: str = "") -> Iterator[str]:
    """``_encode(value, indent)`` in pieces, without recursion: any depth, any size.

    Large containers are opened on a stack and written a run of items at a
    time; a run without large containers goes to the fast recursive encoder
    in one go (unless it nests too deep for it), a large item opens its own
    stack entry.  No piece is bigger than a run of small items.
    """
    stack: List[_Open] = []

    def start(child: Any, indent: str, deep: bool) -> Tuple[str, bool]:
        """The text that starts *child*; True when it opened a container whose items follow."""
        if not isinstance(child, (dict, list, tuple)):
            return _scalar(child), False
        if not child:
            return ("{}" if isinstance(child, dict) else "[]"), False
        if len(child) <= _SMALL and not deep:
            try:
                return _encode(child, indent), False
            except RecursionError:
                deep = True  # and so is everything on the way down: no more attempts there
        stack.append(_Open(child, indent, deep))
        return ("{" if isinstance(child, dict) else "["), True

    text, first = start(value, indent, False)
    yield text
    while stack:
        top = stack[-1]
        if top.position >= len(top):
            stack.pop()
            yield top.closing
            first = False
            continue
        separator = "\n" if first else ",\n"
        run = [top.item(index) for index in range(top.position, min(top.position + _RUN, len(top)))]
        small = 0
        while small < len(run) and not top.deep and not _is_large(run[small][1]):
            small += 1
        if small:
            inner = top.inner
            try:
                yield separator + ",\n".join(
                    [prefix + (_escape(child) if type(child) is str else _encode(child, inner)) for prefix, child in run[:small]]
                )
                top.position += small
                first = False
                continue
            except RecursionError:  # a small item nested deep: one at a time, from here down
                top.deep = True
        prefix, child = run[0]
        top.position += 1
        text, first = start(child, top.inner, top.deep)
        yield separator + prefix + text


class EncodedLater(Deferred):
    """A parsed JSON value, written as a member of a top-level object while it is sent.

    Measured by one pass of :func:`iter_encode`, written by another: the
    answer is never held whole, only the parsed value (and the request).
    """

    def __init__(self, value: Any, indent: str = "  ") -> None:
        self.value = value
        self.indent = indent
        self.length = sum(len(piece) for piece in iter_encode(value, indent))

    def pieces(self) -> Iterator[bytes]:
        block: List[str] = []
        size = 0
        for piece in iter_encode(self.value, self.indent):
            block.append(piece)
            size += len(piece)
            if size >= 64 * 1024:
                yield "".join(block).encode("ascii")
                block, size = [], 0
        if block:
            yield "".join(block).encode("ascii")


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


class ParsedFloat(float):
    """A number from a parsed request body: a plain float, marked so that :func:`echo_bytes` spells it as httpbin does.

    Only the floats orjson would spell otherwise are marked (see :func:`parse_float`).
    """

    __slots__ = ()


def parse_float(text: str) -> float:
    """A JSON number with a fraction or exponent: a float, a :class:`ParsedFloat` where orjson's spelling differs.

    orjson writes a float as ``repr()`` does, digit for digit, except from
    1e-9 up to 1e-4 (``0.00001`` and ``1e-9`` for ``1e-05`` and ``1e-09``)
    and the infinities a huge exponent gives (``null``).  Those are marked
    and spelled by :func:`echo_bytes` itself; the rest need no call back.
    """
    value = float(text)
    if 1e-4 <= value < _INF or -1e-4 >= value > -_INF or -1e-9 < value < 1e-9:
        return value
    return ParsedFloat(value)


_CONSTANTS = {"NaN": ParsedFloat("nan"), "Infinity": ParsedFloat("inf"), "-Infinity": ParsedFloat("-inf")}
#: ``json.loads`` as httpbin calls it; the floats orjson spells otherwise (NaN and infinities too) made :class:`ParsedFloat`.
_DECODER = json.JSONDecoder(parse_float=parse_float, parse_constant=_CONSTANTS.__getitem__)
_scan: Callable[[str, int], Tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_blank: Callable[[str, int], Any] = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


def _orjson() -> Optional[ModuleType]:
    """orjson (in the extra ``fast``), or None where it is not installed."""
    try:
        import orjson
    except ImportError:
        return None
    return orjson


_ORJSON = _orjson()
_loads_fast: Optional[Callable[[bytes], Any]] = _ORJSON.loads if _ORJSON is not None else None
#: Every digit read as 0 and E as e, so that two number shapes below are substrings.
_SHAPES = bytes.maketrans(b"123456789E", b"000000000e")


def standard_only(raw: bytes) -> bool:
    """Whether only the standard parser is sure to read *raw* as httpbin does (strings included).

    That is: 19 digits in a row (an integer past 64 bits, which orjson makes
    a float), a negative exponent or four zeros after a point (floats from
    1e-9 up to 1e-4, which orjson spells otherwise).  orjson refuses what
    would be an infinity.  A body with none of these is the same value from
    either parser.
    """
    shapes = raw.translate(_SHAPES)
    return b"0000000000000000000" in shapes or b"e-" in shapes or b".0000" in raw


def loads_or_none(raw: bytes) -> Any:
    """Parse a request body the way httpbin does: UTF-8, then JSON, else ``None``.

    Accepts any top-level value and NaN/Infinity (the floats orjson would
    spell otherwise come back as :class:`ParsedFloat`); a BOM, invalid
    UTF-8, invalid JSON or nesting too deep for the interpreter all give
    ``None``.  With orjson, it parses what it reads exactly as the standard
    parser does (:func:`standard_only`); what it refuses (NaN, lone
    surrogates, deep nesting, a BOM, invalid JSON) the standard parser decides.
    """
    if not raw:
        return None
    if _loads_fast is not None and not standard_only(raw):
        try:
            return _loads_fast(raw)
        except ValueError:  # orjson.JSONDecodeError
            pass
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            return None  # json.loads refuses a BOM
        # JSONDecoder.decode without its two Python-level calls: blanks, one value, blanks, the end.
        value, end = _scan(text, _blank(text, 0).end())
        return value if _blank(text, end).end() == len(text) else None
    except (ValueError, RecursionError, StopIteration):  # StopIteration: no value where one must start
        return None


def _spell(value: Any) -> Any:
    """What orjson hands over as a value it does not write itself (its ``default``).

    Only a parsed float is written here, in the standard library's spelling
    (NaN and 1e-05 included); anything else sends the value to the standard encoder.
    """
    if type(value) is ParsedFloat:
        return _ORJSON.Fragment(_float(value).encode("ascii"))  # type: ignore[union-attr]
    raise TypeError(type(value).__name__)


#: orjson's ``dumps`` and its options for httpbin's layout, or None without orjson.
_orjson_dumps: Optional[Callable[..., bytes]] = _ORJSON.dumps if _ORJSON is not None else None
_OPTIONS = (
    _ORJSON.OPT_INDENT_2 | _ORJSON.OPT_SORT_KEYS | _ORJSON.OPT_APPEND_NEWLINE
    | _ORJSON.OPT_PASSTHROUGH_DATETIME | _ORJSON.OPT_PASSTHROUGH_DATACLASS
) if _ORJSON is not None else 0


def echo_bytes(value: Any) -> bytes:
    """:func:`dumps_bytes` for an echo: strings, and values parsed by :func:`loads_or_none`.

    With orjson, its answer is taken when it is what the standard library
    writes: pure ASCII without DEL (orjson leaves text beyond ASCII as
    UTF-8 where httpbin escapes it), and every float one that orjson spells
    as ``repr()`` does or a :class:`ParsedFloat` (:func:`parse_float`; orjson
    writes ``0.00001`` and ``null`` for ``1e-05`` and NaN), which holds for an
    echo by construction.  Anything else takes the standard spelling.
    """
    if _orjson_dumps is not None:
        try:
            data = _orjson_dumps(value, default=_spell, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: big integers, deep nesting, lone surrogates, other types
            pass
        else:
            if data.isascii() and b"\x7f" not in data:
                return data
    return dumps_bytes(value)


def json_response(value: Any, status: int = 200) -> Response:
    """A body in httpbin's JSON spelling, ``Content-Type`` then ``Content-Length``."""
    if type(value) is DeferredDict:
        length, pieces = encode_pieces(value)
        response = Response(pieces, status=status, content_type=JSON)
        response.headers["Content-Length"] = str(length)
        return response
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
