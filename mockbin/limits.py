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
caps how many values a body that mockbin parses may hold, because the
parsed form of a dense JSON text costs up to fifty times its size.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, BinaryIO, Dict, Iterator, List, Optional

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
        try:
            data = self._stream.read(size)
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
            # of pieces would hold the body twice.
            data = self._pull(self.declared - self.received)
            if self.received < self.declared:
                data += self.read()
            return data
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
        try:
            line = self._stream.readline(cap)
        except Problem:
            raise
        except Exception as exc:
            if _is_disconnect(exc):
                raise self._fail(incomplete_body(self.received, self.declared)) from None
            raise self._fail(malformed_body(self.received, str(exc) or type(exc).__name__)) from None
        self.received += len(line)
        if not line and self.declared is not None:
            raise self._fail(incomplete_body(self.received, self.declared))
        if self.declared is None and self.received > self._limit:
            raise self._fail(body_too_large(self._limit))
        return line

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
_WINDOW = 64 * 1024


def _structure(text: bytes) -> Iterator[bytes]:
    """The structure of the JSON *text* outside its strings (only ``, : [ ] { }``), in windows.

    Escaped backslashes and quotes are removed first, so the remaining
    quotes alternate open/close; then everything but quotes and structure is
    dropped, and the rest is read in windows of bounded size, keeping what
    lies outside strings.  All of it C-speed byte operations, and the
    memory of a window at a time.
    """
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    reduced = text.translate(None, _DROPPED)
    inside = False
    for start in range(0, len(reduced), _WINDOW):
        pieces = reduced[start : start + _WINDOW].split(b'"')
        yield b"".join(pieces[1::2] if inside else pieces[0::2])
        if len(pieces) % 2 == 0:  # an odd number of quotes: the window ends in the other state
            inside = not inside


def json_values(text: bytes) -> int:
    """The number of values (member names included) in the JSON *text*, in bounded memory.

    Marks inside strings are left out of the count and empty containers
    count once.  Not a parser: for invalid JSON the figure is merely some
    count, which is all a budget needs (invalid JSON does not get parsed far).
    """
    marks = empty = 0
    for outside in _structure(text):
        marks += sum(outside.count(mark) for mark in _VALUE_MARKS)
        empty += outside.count(b"[]") + outside.count(b"{}")
    return 1 + marks - empty


_OPENING = frozenset(b"[{")
_CLOSING = frozenset(b"]}")


def json_depth(text: bytes, stop_above: Optional[int] = None) -> int:
    """How deep the JSON *text* nests arrays and objects (``[1]`` is 1), without parsing it.

    With *stop_above*, counting stops as soon as the depth passes it.
    """
    depth = deepest = 0
    for outside in _structure(text):
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


def over_json_budget(text: bytes, limit: int) -> bool:
    """Whether *text* is a JSON document with more than *limit* values (cheap checks first).

    Only arrays and objects hold more than one value; a count bounds the
    values from above, an exact count (strings' contents left out) settles
    it, and a parse of the first bytes tells JSON from text that only starts
    with a bracket.  Invalid UTF-8 is not JSON.
    """
    if json_values_at_most(text) <= limit or not _CONTAINER_START.match(text):
        return False
    return json_values(text) > limit and probably_json(text)


def check_json(text: bytes, limit: int, what: str = "The JSON request body") -> None:
    """Raise a 413 ``json-too-large`` problem when *text* is JSON holding more than *limit* values."""
    if over_json_budget(text, limit):
        raise json_too_large(limit, what)
