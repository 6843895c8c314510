"""The request journal: a bounded record of the requests mockbin received.

Tests ask "was this endpoint called, how often, with what body?".  The
journal answers from the server side, whatever client made the call:
:class:`JournalMiddleware` sits outside the fast lane, so every request is
recorded, except mockbin's own ``/__mockbin/`` API.  It keeps the newest
``--journal-size`` requests (oldest dropped first) and the first
``--journal-body-size`` bytes of each body.

Served at ``GET /__mockbin/requests`` (``DELETE`` clears it) and cleared by
``POST /__mockbin/reset``.  The journal lives in the memory of one process:
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

blueprint = Blueprint("journal", __name__)


class Entry:
    """One recorded request; mutable only while its request is being served."""

    __slots__ = (
        "id", "time", "method", "scheme", "host", "script_name", "path", "query", "headers",
        "remote_addr", "remote_port", "body", "body_size", "body_truncated", "body_error", "status",
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
    """A thread-safe ring of :class:`Entry`, newest last."""

    def __init__(self, size: int, body_size: int) -> None:
        self.body_size = body_size
        self._entries: Deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, environ: Dict[str, Any]) -> Entry:
        with self._lock:
            entry = Entry(next(self._ids), environ)
            self._entries.append(entry)
        return entry

    def entries(self) -> List[Entry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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

        def recording_start_response(
            status: str, headers: List[Tuple[str, str]], exc_info: Any = None
        ) -> Callable[..., Any]:
            entry.status = int(status[:3])
            _note_failure(environ, entry)
            write: Callable[..., Any] = start_response(status, headers, exc_info)
            return write

        try:
            return self.app(environ, recording_start_response)
        finally:
            _note_failure(environ, entry)


def install(app: Flask, settings: Settings) -> Optional[Journal]:
    """Register the journal's admin routes; with ``--journal``, the journal to record into."""
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)
    if not settings.journal:
        return None
    journal = Journal(settings.journal_size, settings.journal_body_size)
    app.extensions[EXTENSION] = journal
    return journal


def _journal() -> Journal:
    journal: Optional[Journal] = current_app.extensions.get(EXTENSION)
    if journal is None:
        raise Problem("journal-off", "Start mockbin with --journal (or MOCKBIN_JOURNAL=1) to record requests.")
    return journal


@blueprint.get("/requests")
def list_requests() -> Response:
    """The recorded requests, oldest first; ``?limit=N`` keeps the newest N."""
    entries = _journal().entries()
    limit = request.args.get("limit", "")
    if limit.isdigit():
        entries = entries[len(entries) - int(limit) :] if int(limit) else []
    return json_response([entry.to_json() for entry in entries])


@blueprint.delete("/requests")
def clear_requests() -> Response:
    """Forget every recorded request."""
    _journal().clear()
    return Response(status=204)
