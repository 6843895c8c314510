"""Request bodies: bounded, whole, or refused.

Every request body mockbin reads goes through :class:`BodyInput`, which the
app's mount puts in place of ``wsgi.input`` (see :func:`guard`).  It makes
three promises, whatever server runs mockbin:

* **bounded** -- a declared ``Content-Length`` above ``--max-body-size`` is
  refused before a byte is read (:func:`enforce`); a chunked body is cut off
  one byte past the limit.  Both are 413 ``body-too-large``.
* **whole** -- a body that ends before its ``Content-Length`` (the client
  closed early) is ``incomplete-body``; a chunked body whose framing the
  server could not read (a bad chunk size, a missing CRLF, a bad trailer, no
  last chunk) is ``malformed-body``.  Both are 400.  No reader ever sees a
  short read where the body should go on: the error is raised instead of
  the end of the body, so nothing truncated is echoed, journaled as
  complete or stored.
* **sticky** -- once a body has failed, every later read fails the same way,
  so a layer that reads first (the journal) cannot hide the failure from
  the app, and the server layer can tell (:func:`body_failure`) that the
  connection must close (it cannot know where the next request starts).

The chunked framing rules both of mockbin's servers enforce (gunicorn's
workers in ``mockbin.serving.workers``, the pytest plugin's live server) are
here too, so that one definition decides what a well-framed body is.

JSON bodies get a second budget (:func:`check_json`): ``--max-json-values``
caps how many values a body that mockbin parses may hold, and
``--max-json-expansion`` how much memory its parsed form may take against
its size (estimated on the bytes, :meth:`JSONShape.parsed_size`): the parsed
form of a text made of tiny arrays, objects or strings costs twenty-five
times its size and more.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Optional

from werkzeug.exceptions import ClientDisconnected, NotImplemented

from .problems import Problem
from .settings import describe

#: The environ key under which the mount keeps the request's :class:`BodyInput`.
BODY_KEY = "mockbin.body"
#: Largest single read handed to the server's stream when the whole body is wanted.
READ_STEP = 1024 * 1024


def body_too_large(limit: int) -> Problem:
    """The request body is larger than ``--max-body-size`` allows."""
    return Problem(
        "body-too-large",
        f"The request body exceeds the limit of {limit} bytes set by {describe('max_body_size')}.",
        limit=limit,
    )


def incomplete_body(received: int, declared: Optional[int]) -> Problem:
    """The connection ended (or stalled) before the body did."""
    expected = f"of the {declared} bytes its Content-Length declares" if declared is not None else "of a chunked body"
    return Problem(
        "incomplete-body",
        f"The request body ended after {received} bytes {expected}: the client closed the "
        "connection or stopped sending. Nothing was processed.",
        received=received,
    )


def malformed_body(received: int, reason: str) -> Problem:
    """The chunked framing of the body is broken (RFC 9112 section 7.1)."""
    return Problem(
        "malformed-body",
        f"The chunked request body is malformed after {received} bytes ({reason}). Nothing was processed.",
        received=received,
    )


def _is_disconnect(exc: BaseException) -> bool:
    """A read error that means "the client went away", rather than "the framing is wrong"."""
    return isinstance(exc, (OSError, EOFError, ClientDisconnected))


class BodyInput:
    """``wsgi.input`` that is bounded, whole or failing, and sticky about failures (module doc).

    *declared* is the ``Content-Length`` (None for a chunked body, whose end
    the server's stream marks); *limit* the largest body accepted.
    """

    __slots__ = ("_stream", "declared", "_limit", "received", "failure")

    def __init__(self, stream: BinaryIO, declared: Optional[int], limit: int) -> None:
        self._stream = stream
        self.declared = declared
        self._limit = limit
        self.received = 0
        self.failure: Optional[Problem] = None

    @property
    def complete(self) -> bool:
        """Whether the whole declared body has been read."""
        return self.declared is not None and self.received >= self.declared

    @property
    def refused(self) -> bool:
        """Whether the declared length is over the limit: the body will not be read at all."""
        return self.declared is not None and self.declared > self._limit

    def _fail(self, problem: Problem) -> Problem:
        self.failure = problem
        return problem

    def _pull(self, size: int) -> bytes:
        """One read of at most *size* bytes from the server's stream, checked."""
        if self.failure is not None:
            raise self.failure
        if self.declared is not None:
            size = min(size, self.declared - self.received)
            if size <= 0:
                return b""
        else:
            size = min(size, self._limit - self.received + 1)  # one byte past the limit at most
        return self._checked(self._stream.read, size)

    def _checked(self, read: Callable[[int], bytes], size: int) -> bytes:
        """One call of the server stream's *read* (``read`` or ``readline``) for at most *size* bytes, checked.

        Its errors, an early end and a chunked body past the limit become the body's failure.
        """
        try:
            data = read(size)
        except Problem:
            raise
        except Exception as exc:
            if _is_disconnect(exc):
                raise self._fail(incomplete_body(self.received, self.declared)) from None
            raise self._fail(malformed_body(self.received, str(exc) or type(exc).__name__)) from None
        self.received += len(data)
        if not data and self.declared is not None:
            raise self._fail(incomplete_body(self.received, self.declared))
        if self.declared is None and self.received > self._limit:
            raise self._fail(body_too_large(self._limit))
        return data

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is not None and size >= 0:
            return self._pull(size) if size else b""
        if self.declared is not None:
            # One request for the rest: servers then fill one buffer (gunicorn
            # grows a BytesIO and hands it over without a copy), where a join
            # of pieces would hold the body twice.  (The echo reads every body so.)
            if self.failure is not None:
                raise self.failure
            left = self.declared - self.received
            if left <= 0:
                return b""
            data = self._checked(self._stream.read, left)
            return data if self.received == self.declared else data + self.read()
        parts: List[bytes] = []
        while True:
            chunk = self._pull(READ_STEP)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: Optional[int] = -1) -> bytes:
        if self.failure is not None:
            raise self.failure
        cap = self._limit + 1 if size is None or size < 0 else size
        if self.declared is not None:
            cap = min(cap, self.declared - self.received)
            if cap <= 0:
                return b""
        else:
            cap = min(cap, self._limit - self.received + 1)
        return self._checked(self._stream.readline, cap)

    def readlines(self, hint: Optional[int] = -1) -> List[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def close(self) -> None:
        """WSGI servers close the input themselves; nothing to do here."""


def declared_length(environ: Dict[str, Any]) -> Optional[int]:
    """The ``Content-Length`` as a number; None when absent or not a number."""
    text = environ.get("CONTENT_LENGTH") or ""
    return int(text) if text.isdigit() else None


def guard(environ: Dict[str, Any], limit: int) -> None:
    """Put a :class:`BodyInput` in front of the request's body, if it has one.

    A body has a ``Content-Length`` above zero, or no length and a stream
    the server ends itself (``wsgi.input_terminated``: a de-chunked body;
    gunicorn marks every request so).  The guarded input ends the body
    itself, so it is marked terminated: Werkzeug then reads it as is.
    """
    declared = declared_length(environ)
    if declared == 0 or (declared is None and not environ.get("wsgi.input_terminated")):
        return
    body = BodyInput(environ["wsgi.input"], declared, limit)
    environ["wsgi.input"] = body
    environ["wsgi.input_terminated"] = True
    environ[BODY_KEY] = body


def body_failure(environ: Dict[str, Any]) -> Optional[Problem]:
    """Why this request's body could not be read whole, or None (also when it was not read)."""
    body: Optional[BodyInput] = environ.get(BODY_KEY)
    return body.failure if body is not None else None


def chunked_unsupported(environ: Dict[str, Any]) -> NotImplemented:
    """httpbin's answer when the server cannot de-chunk a request body for the app."""
    software = environ.get("SERVER_SOFTWARE", "")
    return NotImplemented(f"Chunked requests are not supported for server {software}")


def enforce(environ: Dict[str, Any], limit: int) -> None:
    """Refuse an oversized declared body now (a streamed one is cut off by :class:`BodyInput`).

    A chunked body is only readable when the server de-chunks it and marks
    the input as terminated (gunicorn and mockbin's live server do); under a
    server that does not, the request gets httpbin's 501 instead of an
    empty body.
    """
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            declared = int(length)
        except ValueError:
            declared = -1
        if declared > limit:
            raise body_too_large(limit)
    elif not environ.get("wsgi.input_terminated") and environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        raise chunked_unsupported(environ)


# -- chunked framing (RFC 9112 section 7.1), as mockbin's servers read it -----------

#: Longest chunk-size line (size and extensions), and largest trailer section.
CHUNK_LINE_LIMIT = 8192
TRAILER_LIMIT = 64 * 1024
# RFC 9110 section 5.6.2 (token), 5.6.4 (quoted-string); RFC 9112 section 7.1.1 (chunk-ext).
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
_CHUNK_EXT = re.compile(rb"(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*")
_FIELD_NAME = re.compile(_TOKEN)
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")  # 16 hex digits: 2**64 - 1, far past any limit
_BAD_FIELD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
#: Fields a trailer must not carry: framing, routing, authentication (RFC 9110 section 6.5.1).
FORBIDDEN_TRAILERS = frozenset((b"host", b"content-length", b"transfer-encoding", b"trailer", b"authorization", b"te"))


def chunked_is_final(transfer_encoding: str) -> bool:
    """Whether ``chunked`` is the last coding of a Transfer-Encoding value (RFC 9112 section 6.3)."""
    return transfer_encoding.split(",")[-1].strip(" \t").lower() == "chunked"


def chunk_size(line: bytes) -> int:
    """The size on a chunk-size line (CRLF removed); ValueError saying why the line is malformed."""
    if b"\r" in line or b"\n" in line:
        raise ValueError("a chunk-size line is not ended by CRLF")
    size, semicolon, extensions = line.partition(b";")
    if semicolon:
        size = size.rstrip(b" \t")  # whitespace is allowed before extensions only
        if not _CHUNK_EXT.fullmatch(b";" + extensions):
            raise ValueError("invalid chunk extension")
    if not _CHUNK_SIZE.fullmatch(size):
        raise ValueError(f"invalid chunk size {size[:32]!r}")
    return int(size, 16)


def check_trailer_field(line: bytes) -> None:
    """ValueError when a trailer field line (CRLF removed) is malformed or not allowed in a trailer."""
    name, colon, value = line.partition(b":")
    if not colon or not _FIELD_NAME.fullmatch(name) or _BAD_FIELD_VALUE.search(value):
        raise ValueError("a malformed trailer field")
    if name.lower() in FORBIDDEN_TRAILERS:
        raise ValueError(f"{name.decode('ascii')} is not allowed in a trailer")


# -- JSON budget -------------------------------------------------------------------

# A JSON value other than the first follows one of these bytes; counting them
# bounds the number of values from above (those inside strings overcount).
_VALUE_MARKS = (b",", b"[", b"{", b":")


def json_values_at_most(text: bytes) -> int:
    """An upper bound of the number of values (member names included) in the JSON *text*.

    Every value but the first follows one of ``[ { , :`` (C-speed counting;
    an empty container counts twice, marks inside strings count too).
    """
    return 1 + sum(text.count(mark) for mark in _VALUE_MARKS)


_KEPT = b'",:[]{}'
_DROPPED = bytes(c for c in range(256) if c not in _KEPT)
_BLANKS = b" \t\n\r"
#: Structure and quotes stay, blanks go, every other byte becomes ``0``.
_TOKENS = bytes(c if c in _KEPT else ord("0") for c in range(256))
_WINDOW = 64 * 1024


def _unescaped(text: bytes) -> bytes:
    """*text* without escaped backslashes and quotes: the quotes left alternate open/close."""
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    return text


def _tokens(text: bytes) -> bytes:
    """*text*'s quotes and structure (``" , : [ ] { }``), every other byte as ``0``, no blanks."""
    return _unescaped(text).translate(_TOKENS, _BLANKS)


def _reduced(text: bytes) -> bytes:
    """*text*'s quotes and structure (``" , : [ ] { }``) alone."""
    return _unescaped(text).translate(None, _DROPPED)


def _structure(reduced: bytes) -> Iterator[bytes]:
    """The parts of *reduced* (:func:`_reduced` or :func:`_tokens` of a JSON text) outside strings, in windows.

    The text is read in windows of bounded size, keeping what lies outside
    strings; a string leaves a ``0`` (so that ``["a"]`` reads as an array
    with an item).  All of it C-speed byte operations, and the memory of a
    window at a time.
    """
    inside = False
    for start in range(0, len(reduced), _WINDOW):
        pieces = reduced[start : start + _WINDOW].split(b'"')
        yield b"0".join(pieces[1::2] if inside else pieces[0::2])
        if len(pieces) % 2 == 0:  # an odd number of quotes: the window ends in the other state
            inside = not inside


@dataclass(frozen=True)
class JSONShape:
    """What a JSON text is made of, counted on its bytes (strings' contents left out)."""

    values: int  #: every value, member names included
    arrays: int  #: arrays with items
    empty_arrays: int
    empty_objects: int
    objects: int  #: objects with members
    members: int
    strings: int  #: member names included
    short_strings: int  #: string values (not names) of at most one byte: shared, they cost nothing

    def parsed_size(self) -> int:
        """An estimate of the bytes CPython's parsed form of the text takes (64-bit, 3.9 to 3.13).

        Each value is a pointer in its container (9 bytes with the lists'
        growth); an empty array costs 56 bytes, one with items 88 (room for
        four), an empty object 64, an object with members 170 and 14 more
        per member (a small dict: 184 bytes up to five members, 464 at
        twenty).  A string value costs its header (about 50 bytes; its
        characters are counted by the body's own size), unless it is empty
        or one ASCII character (the interpreter shares those).  Member names
        repeat across records and the parser shares them, so they cost
        nothing more -- unless objects hold many members each (a large map),
        whose names are all distinct: then a name costs its header too, and
        its entry in a large table (130 bytes in all).  Numbers cost at most
        32 bytes, never more than ten times their text.
        """
        per_member = 130 if self.members > 16 * self.objects else 14
        costly_strings = max(self.strings - self.members - self.short_strings, 0)
        return (
            9 * self.values + 88 * self.arrays + 56 * self.empty_arrays + 64 * self.empty_objects
            + 170 * self.objects + per_member * self.members + 50 * costly_strings
        )


def json_shape(text: bytes) -> JSONShape:
    """The :class:`JSONShape` of the JSON *text*, in bounded memory and at C speed.

    Marks inside strings are left out and empty containers count as one
    value.  Not a parser: for invalid JSON the figures are merely some
    counts, which is all a budget needs (invalid JSON does not get parsed far).
    """
    tokens = _tokens(text)
    short_strings = sum(tokens.count(short) for short in (b'""', b'"0"'))
    short_strings -= sum(tokens.count(short) for short in (b'"":', b'"0":'))  # names
    marks = opened_arrays = opened_objects = empty_arrays = empty_objects = members = 0
    for outside in _structure(tokens):
        marks += sum(outside.count(mark) for mark in _VALUE_MARKS)
        opened_arrays += outside.count(b"[")
        opened_objects += outside.count(b"{")
        empty_arrays += outside.count(b"[]")
        empty_objects += outside.count(b"{}")
        members += outside.count(b":")
    return JSONShape(
        values=1 + marks - empty_arrays - empty_objects,
        arrays=opened_arrays - empty_arrays,
        empty_arrays=empty_arrays,
        empty_objects=empty_objects,
        objects=opened_objects - empty_objects,
        members=members,
        strings=tokens.count(b'"') // 2,
        short_strings=short_strings,
    )


def json_values(text: bytes) -> int:
    """The number of values (member names included) in the JSON *text*, in bounded memory."""
    return json_shape(text).values


_OPENING = frozenset(b"[{")
_CLOSING = frozenset(b"]}")


def json_depth(text: bytes, stop_above: Optional[int] = None) -> int:
    """How deep the JSON *text* nests arrays and objects (``[1]`` is 1), without parsing it.

    With *stop_above*, counting stops as soon as the depth passes it.
    """
    depth = deepest = 0
    for outside in _structure(_reduced(text)):
        for byte in outside:
            if byte in _OPENING:
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if stop_above is not None and deepest > stop_above:
                        return deepest
            elif byte in _CLOSING:
                depth -= 1
    return deepest


def json_deeper_than(text: bytes, limit: int) -> bool:
    """Whether the JSON *text* nests arrays and objects more than *limit* levels deep (no parsing)."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    return json_depth(text, stop_above=limit) > limit


def json_too_deep(limit: int, what: str = "The JSON request body") -> Problem:
    return Problem(
        "json-too-deep",
        f"{what} nests arrays and objects more than {limit} levels deep, the limit set by "
        f"{describe('store_max_depth')}.",
        limit=limit,
    )


def json_too_large(limit: int, what: str = "The JSON request body") -> Problem:
    return Problem(
        "json-too-large",
        f"{what} holds more than {limit} JSON values, the limit set by {describe('max_json_values')} "
        "(its parsed form would cost far more memory than its size); send fewer values or raise the limit.",
        limit=limit,
    )


def json_too_expansive(size: int, estimate: int, expansion: int, what: str = "The JSON request body") -> Problem:
    return Problem(
        "json-too-large",
        f"{what} ({size} bytes) would take about {estimate // 1024 // 1024} MiB of memory once parsed, "
        f"more than {expansion} times its size (the limit set by {describe('max_json_expansion')}): "
        "its values are mostly tiny arrays, objects or strings. Send it in a denser shape, or raise the limit.",
        limit=expansion,
    )


#: A JSON text whose parsed form is estimated below this is parsed whatever its shape.
JSON_MEMORY_FLOOR = 8 * 1024 * 1024
#: No JSON text's :meth:`JSONShape.parsed_size` exceeds this many bytes per byte of text.
_MOST_PER_BYTE = 64


#: A JSON text of at most this many bytes, and no more bytes than ``--max-json-values``, is within
#: budget whatever its shape (a shortcut past :func:`json_budget_problem`, which settles it the same way).
JSON_SETTLED_SIZE = JSON_MEMORY_FLOOR // _MOST_PER_BYTE

#: How much of an over-budget body is parsed to tell JSON from text that merely starts like it.
JSON_PROBE = 64 * 1024
_CONTAINER_START = re.compile(rb"[ \t\n\r]*[\[{]")


def probably_json(text: bytes) -> bool:
    """Whether the first :data:`JSON_PROBE` bytes of *text* read as the start of a JSON text.

    A cut-off JSON text fails to parse only at the cut (or inside the string
    the cut falls in); anything else -- ``[INFO] a log line``, CSV after a
    bracket, bytes that are not UTF-8 -- fails earlier, and so would the
    whole text: a cheap way to know a large body is not JSON without
    decoding all of it.  Nesting too deep to parse counts as "maybe".
    """
    try:
        prefix, _ = codecs.utf_8_decode(text[:JSON_PROBE], "strict", False)  # a cut character is left out
        json.loads(prefix)
    except json.JSONDecodeError as exc:
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(prefix) - 32
    except RecursionError:
        return True
    except ValueError:  # UnicodeDecodeError among them
        return False
    return True


def json_budget_problem(
    text: bytes, limit: int, expansion: int = 0, what: str = "The JSON request body"
) -> Optional[Problem]:
    """The 413 ``json-too-large`` problem when *text* is JSON past the budget, else None (cheap checks first).

    The budget: at most *limit* values, and (with *expansion*) a parsed form
    estimated at most *expansion* times the text's size, or below
    :data:`JSON_MEMORY_FLOOR`.  Only arrays and objects hold more than one
    value; a count bounds the values from above, counts outside strings
    settle it, and a parse of the first bytes tells JSON from text that only
    starts with a bracket.  Invalid UTF-8 is not JSON.
    """
    size = len(text)
    allowance = max(JSON_MEMORY_FLOOR, expansion * size)
    # A text holds fewer values than bytes, and no shape parses past _MOST_PER_BYTE: most bodies
    # are settled by their size alone.
    may_be_expansive = expansion > 0 and size * _MOST_PER_BYTE > allowance
    if (size <= limit and not may_be_expansive) or not _CONTAINER_START.match(text):
        return None
    if json_values_at_most(text) <= limit and not may_be_expansive:
        return None
    shape = json_shape(text)
    problem: Optional[Problem] = None
    if shape.values > limit:
        problem = json_too_large(limit, what)
    elif expansion > 0:
        estimate = shape.parsed_size()
        if estimate > allowance:
            problem = json_too_expansive(size, estimate, expansion, what)
    return problem if problem is not None and probably_json(text) else None


def over_json_budget(text: bytes, limit: int, expansion: int = 0) -> bool:
    """Whether *text* is a JSON document past the budget (see :func:`json_budget_problem`)."""
    return json_budget_problem(text, limit, expansion) is not None


def check_json(text: bytes, limit: int, expansion: int = 0, what: str = "The JSON request body") -> None:
    """Raise the 413 ``json-too-large`` problem when *text* is JSON past the budget."""
    problem = json_budget_problem(text, limit, expansion, what)
    if problem is not None:
        try:
            raise problem
        finally:
            del problem  # the traceback holds this frame: no cycle keeping the body alive
