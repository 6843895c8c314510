"""The request journal: a bounded record of the requests mockbin received.

Tests ask "was this endpoint called, how often, with what body?".  The
journal answers from the server side, whatever client made the call:
:class:`JournalMiddleware` sits outside the fast lane, so every request is
recorded, except mockbin's own ``/__mockbin/`` API.  It keeps the newest
``--journal-size`` requests and at most ``--journal-max-bytes`` of them
(headers, kept body and a fixed overhead per entry; oldest dropped first),
and the first ``--journal-body-size`` bytes of each body.

Served at ``GET /__mockbin/requests`` (``DELETE`` clears it) in pages, so
no single answer grows with the journal: at most :data:`PAGE_ENTRIES`
entries and about :data:`PAGE_BYTES` of them, with a ``Link: rel="next"``
header while more follow.  Cleared by ``POST /__mockbin/reset``.  The journal lives in the memory of one process:
under gunicorn with ``--workers`` above 1 each worker sees only its share of
the traffic, which is why it is off by default for ``mockbin serve`` and on
in the pytest plugin (one process, many threads).  When it is off, the
middleware is not installed at all and costs nothing.
"""

from __future__ import annotations

import base64
import io
import itertools
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request

from .echo import header_fields
from .jsonify import json_response
from .limits import BODY_KEY, BodyInput, body_failure
from .problems import Problem
from .settings import ADMIN_PREFIX, Settings

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EXTENSION = "mockbin.journal"
#: Environ key of a dict that mockbin/faults/ fills with the fault rule that fired, shown as ``fault``.
FAULT = "mockbin.fault"

#: What an entry is charged beyond its text: the Python objects that hold it
#: (measured: about 1 KiB for a bare entry, 150-200 bytes per header field).
ENTRY_OVERHEAD = 1024
FIELD_OVERHEAD = 192
#: Most entries, and about the most entry bytes, one ``GET /__mockbin/requests`` returns.
PAGE_ENTRIES = 1000
PAGE_BYTES = 4 * 1024**2

blueprint = Blueprint("journal", __name__)


class Entry:
    """One recorded request; mutable only while its request is being served."""

    __slots__ = (
        "id", "time", "method", "scheme", "host", "script_name", "path", "query", "headers",
        "remote_addr", "remote_port", "body", "body_size", "body_truncated", "body_error", "status",
        "weight", "kept", "fault",
    )

    def __init__(self, id: int, environ: Dict[str, Any]) -> None:
        self.id = id
        self.time = time.time()
        self.method: str = environ.get("REQUEST_METHOD", "")
        self.scheme: str = environ.get("wsgi.url_scheme", "http")
        self.host: str = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        self.script_name = _text(environ.get("SCRIPT_NAME", ""))
        self.path = _text(environ.get("PATH_INFO", ""))
        self.query = _text(environ.get("QUERY_STRING", ""))
        self.headers = _headers(environ)
        self.remote_addr: str = environ.get("REMOTE_ADDR", "")
        port = environ.get("REMOTE_PORT")
        self.remote_port: Optional[int] = int(port) if port else None
        self.body = b""
        self.body_size: Optional[int] = 0
        self.body_truncated = False
        self.body_error: Optional[str] = None  # a problem kind: the body was never received whole
        self.status: Optional[int] = None
        self.weight = 0  # what the journal charged for this entry
        self.kept = False  # in the journal (not yet dropped or cleared)
        self.fault: Optional[Dict[str, Any]] = None

    def measure(self) -> int:
        """Bytes this entry holds, about: its text, its header fields, its kept body, the overhead."""
        text = sum(map(len, (self.method, self.scheme, self.host, self.script_name, self.path, self.query,
                             self.remote_addr)))
        fields = sum(len(name) + len(value) + FIELD_OVERHEAD for name, value in self.headers)
        return ENTRY_OVERHEAD + text + fields + len(self.body)

    def to_json(self) -> Dict[str, Any]:
        """The entry as ``GET /__mockbin/requests`` shows it."""
        entry: Dict[str, Any] = {
            "id": self.id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.time))
            + f".{int(self.time % 1 * 1000):03d}Z",
            "method": self.method,
            "url": f"{self.scheme}://{self.host}{self.script_name}{self.path}"
            + (f"?{self.query}" if self.query else ""),
            "path": self.path,
            "query": self.query,
            "args": _args(self.query),
            "headers": [list(pair) for pair in self.headers],
            "remote_addr": self.remote_addr,
            "remote_port": self.remote_port,
            "status": self.status,
            "body_size": self.body_size,
            "body_truncated": self.body_truncated,
            "fault": dict(self.fault) if self.fault else None,
            "body_error": self.body_error,
        }
        try:
            entry["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            entry["body_base64"] = base64.b64encode(self.body).decode("ascii")
        return entry


def _text(wsgi_string: str) -> str:
    """A WSGI (latin-1 tunnelled) string as the UTF-8 text the client sent."""
    return wsgi_string.encode("latin-1").decode("utf-8", "replace")


def _headers(environ: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [(name, _text(value)) for name, value in header_fields(environ)]


def _args(query: str) -> Dict[str, List[str]]:
    args: Dict[str, List[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        args.setdefault(name, []).append(value)
    return args


class Journal:
    """A thread-safe ring of :class:`Entry`, newest last, bounded by count and by bytes.

    Ids are consecutive: each is drawn and appended under one lock, and only
    the oldest entries leave (or all at once), so the entry with id ``n`` sits
    at index ``n - first id`` and a page starts without a scan.
    """

    def __init__(self, size: int, body_size: int, max_bytes: int = 64 * 1024**2) -> None:
        self.size = size
        self.body_size = body_size
        self.max_bytes = max_bytes
        self._entries: Deque[Entry] = deque()
        self._bytes = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, environ: Dict[str, Any]) -> Entry:
        with self._lock:
            entry = Entry(next(self._ids), environ)
            entry.weight, entry.kept = entry.measure(), True
            self._entries.append(entry)
            self._bytes += entry.weight
            self._trim()
        return entry

    def account(self, entry: Entry) -> None:
        """Charge *entry* again now that its body is read, dropping the oldest entries past the bound."""
        with self._lock:
            weight = entry.measure()
            if entry.kept:
                self._bytes += weight - entry.weight
            entry.weight = weight
            self._trim()

    def _trim(self) -> None:
        """Drop the oldest entries past either bound; the newest stays even when alone it is over."""
        entries = self._entries
        while len(entries) > self.size or (self._bytes > self.max_bytes and len(entries) > 1):
            dropped = entries.popleft()
            dropped.kept = False
            self._bytes -= dropped.weight

    @property
    def bytes(self) -> int:
        """What the entries held now were charged, together."""
        return self._bytes

    def entries(self) -> List[Entry]:
        with self._lock:
            return list(self._entries)

    def page(self, after: int = 0, before: Optional[int] = None, newest: Optional[int] = None) -> Tuple[List[Entry], Optional[int]]:
        """One page of the entries with ``after < id < before`` (only the *newest* of them), oldest first.

        The page holds at most :data:`PAGE_ENTRIES` entries and stops once
        it holds :data:`PAGE_BYTES` (one entry at least).  Also returned: the
        id bound of the rest of the window when entries are left for a next
        page (the window's last id plus one), else None.
        """
        with self._lock:
            entries = self._entries
            if not entries:
                return [], None
            first = entries[0].id
            start = max(0, after + 1 - first)
            end = len(entries) if before is None else max(0, min(len(entries), before - first))
            if newest is not None:
                start = max(start, end - newest)
            page: List[Entry] = []
            size = 0
            index = start
            while index < end and len(page) < PAGE_ENTRIES and (not page or size < PAGE_BYTES):
                entry = entries[index]
                page.append(entry)
                size += entry.weight
                index += 1
            rest = entries[end - 1].id + 1 if index < end else None
        return page, rest

    def clear(self) -> None:
        with self._lock:
            for entry in self._entries:
                entry.kept = False
            self._entries.clear()
            self._bytes = 0


class _Replay(io.RawIOBase):
    """``wsgi.input`` for the app: the bytes the journal already read, then the rest.

    For a body longer than the journal's cap, counts what the app reads past
    the prefix so the entry's ``body_size`` ends up complete.  Reads past the
    prefix go to the guarded input (:class:`mockbin.limits.BodyInput`), so a
    body that turns out incomplete or malformed later still fails for the app.
    """

    def __init__(self, prefix: bytes, rest: Any, counted: Optional[Entry], complete: bool) -> None:
        self._prefix = prefix
        self._rest = rest
        self._counted = counted
        self._complete = complete

    def readable(self) -> bool:
        return True

    def _more(self, data: bytes) -> bytes:
        if self._counted is not None and self._counted.body_size is not None:
            self._counted.body_size += len(data)
        return data

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0:
            data, self._prefix = self._prefix, b""
            return data if self._complete else data + self._more(self._rest.read())
        if self._prefix:
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return b"" if self._complete else self._more(self._rest.read(size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: Optional[int] = -1) -> bytes:
        cap = -1 if size is None or size < 0 else size
        limited = cap >= 0
        if not self._prefix:
            return b"" if self._complete else self._more(self._rest.readline(cap))
        end = self._prefix.find(b"\n") + 1 or len(self._prefix)
        if limited:
            end = min(end, cap)
        line, self._prefix = self._prefix[:end], self._prefix[end:]
        if line.endswith(b"\n") or self._prefix or self._complete or (limited and len(line) == cap):
            return line
        more = cap - len(line) if limited else -1
        return line + self._more(self._rest.readline(more))


def _capture_body(environ: Dict[str, Any], entry: Entry, cap: int) -> None:
    """Read up to *cap* body bytes into *entry*; hand the app a stream that replays them.

    Reading ahead (rather than recording what the app happens to read) means
    the journal shows the body the client sent even to routes that ignore it.
    Never more than ``cap + 1`` bytes are read ahead, and never past a
    declared ``Content-Length`` (the next request on the connection follows).
    A body that fails while the journal reads it (incomplete, malformed,
    too large) is recorded with its error and left failed for the app: the
    guarded input raises the same problem again on the app's first read.
    """
    body: Optional[BodyInput] = environ.get(BODY_KEY)
    if body is None:
        return  # no body: no Content-Length above zero, not chunked
    declared = body.declared
    if body.refused:  # over --max-body-size: answered 413 without waiting for a byte of it
        entry.body_size, entry.body_error = declared, "body-too-large"
        return
    want = cap + 1 if declared is None else min(cap + 1, declared)
    parts, got = [], 0
    try:
        while got < want:
            data = body.read(want - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
    except Problem as problem:
        read = b"".join(parts)
        entry.body, entry.body_size, entry.body_truncated = read[:cap], body.received, got > cap
        entry.body_error = problem.kind
        return
    read = b"".join(parts)
    complete = got < want or got == declared
    entry.body = read[:cap]
    entry.body_truncated = got > cap
    entry.body_size = declared if declared is not None else got
    counted = entry if declared is None and not complete else None
    environ["wsgi.input"] = _Replay(read, body, counted, complete)


def _note_failure(environ: Dict[str, Any], entry: Entry) -> None:
    """Mark *entry* when its body failed after the journal's read-ahead (the app found out)."""
    failure = body_failure(environ)
    if failure is not None and entry.body_error is None:
        entry.body_error = failure.kind
        body: Optional[BodyInput] = environ.get(BODY_KEY)
        if body is not None:
            entry.body_size = body.received


class JournalMiddleware:
    """WSGI middleware: record each request in *journal*, then call *app*."""

    def __init__(self, app: WSGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(ADMIN_PREFIX + "/"):
            return self.app(environ, start_response)
        entry = self.journal.record(environ)
        _capture_body(environ, entry, self.journal.body_size)
        self.journal.account(entry)

        def recording_start_response(
            status: str, headers: List[Tuple[str, str]], exc_info: Any = None
        ) -> Callable[..., Any]:
            entry.status = int(status[:3])
            _note_failure(environ, entry)
            write: Callable[..., Any] = start_response(status, headers, exc_info)
            return write

        # Filled in place when a fault rule fires: recorded before the fault breaks the connection.
        entry.fault = environ[FAULT] = {}
        try:
            return self.app(environ, recording_start_response)
        finally:
            _note_failure(environ, entry)


def install(app: Flask, settings: Settings) -> Optional[Journal]:
    """Register the journal's admin routes; with ``--journal``, the journal to record into."""
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)
    if not settings.journal:
        return None
    journal = Journal(settings.journal_size, settings.journal_body_size, settings.journal_max_bytes)
    app.extensions[EXTENSION] = journal
    return journal


def _journal() -> Journal:
    journal: Optional[Journal] = current_app.extensions.get(EXTENSION)
    if journal is None:
        raise Problem("journal-off", "Start mockbin with --journal (or MOCKBIN_JOURNAL=1) to record requests.")
    return journal


def _whole_number(name: str) -> Optional[int]:
    """A query parameter that must be a whole number, or None when absent; 400 otherwise."""
    text = request.args.get(name)
    if text is None:
        return None
    if not text.isdigit() or not text.isascii():
        raise Problem("bad-journal-query", f"{name}={text!r} is not a whole number (0 or more).", parameter=name)
    return int(text)


@blueprint.get("/requests")
def list_requests() -> Response:
    """The recorded requests, oldest first, one page at a time.

    ``?after=ID`` starts after that id, ``?before=ID`` stops before it,
    ``?limit=N`` keeps only the newest N of those.  While entries are left,
    ``Link: <...?after=LAST...>; rel="next"`` points at the next page (the
    window stays the one first asked for: new requests do not shift it).
    """
    after, before, limit = _whole_number("after"), _whole_number("before"), _whole_number("limit")
    page, rest = _journal().page(after or 0, before, limit)
    response = json_response([entry.to_json() for entry in page])
    if rest is not None and page:
        query = f"after={page[-1].id}" + (f"&before={rest}" if before is not None or limit is not None else "")
        response.headers["Link"] = f'<{request.script_root}{ADMIN_PREFIX}/requests?{query}>; rel="next"'
    return response


@blueprint.delete("/requests")
def clear_requests() -> Response:
    """Forget every recorded request."""
    _journal().clear()
    return Response(status=204)
