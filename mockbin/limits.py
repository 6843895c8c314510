"""Request body limit: bounded memory whatever a client declares or streams.

A declared ``Content-Length`` above the limit is refused before a byte of the
body is read.  A chunked body (no declared length) is read through
:class:`LimitedInput`, which stops one byte past the limit and raises
:func:`body_too_large`, a 413 problem document.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Dict, Iterator, List, Optional

from werkzeug.exceptions import NotImplemented

from .problems import Problem
from .settings import describe


def body_too_large(limit: int) -> Problem:
    """The request body is larger than ``--max-body-size`` allows."""
    return Problem(
        "body-too-large",
        f"The request body exceeds the limit of {limit} bytes set by {describe('max_body_size')}.",
        limit=limit,
    )


class LimitedInput:
    """A ``wsgi.input`` that refuses to hand out more than *limit* bytes."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._seen = 0

    def _account(self, chunk: bytes) -> bytes:
        self._seen += len(chunk)
        if self._seen > self._limit:
            raise body_too_large(self._limit)
        return chunk

    def _cap(self, size: Optional[int]) -> int:
        # Never ask the stream for more than one byte past the limit.
        room = self._limit - self._seen + 1
        return room if size is None or size < 0 else min(size, room)

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0:
            parts: List[bytes] = []
            while True:
                chunk = self._account(self._stream.read(self._cap(64 * 1024)))
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        return self._account(self._stream.read(self._cap(size)))

    def readline(self, size: Optional[int] = -1) -> bytes:
        return self._account(self._stream.readline(self._cap(size)))

    def readlines(self, hint: Optional[int] = -1) -> List[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def chunked_unsupported(environ: Dict[str, Any]) -> NotImplemented:
    """httpbin's answer when the server cannot de-chunk a request body for the app."""
    software = environ.get("SERVER_SOFTWARE", "")
    return NotImplemented(f"Chunked requests are not supported for server {software}")


def enforce(environ: Dict[str, Any], limit: int) -> None:
    """Refuse an oversized declared body now; cap a streamed one as it is read.

    A chunked body is only readable when the server de-chunks it and marks
    the input as terminated (gunicorn and Werkzeug's server do); under a
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
    elif environ.get("wsgi.input_terminated"):
        environ["wsgi.input"] = LimitedInput(environ["wsgi.input"], limit)
    elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        raise chunked_unsupported(environ)
