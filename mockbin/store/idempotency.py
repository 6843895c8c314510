"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header).

A POST carrying a key claims it before its body is read.  A retry with the
same key then gets:

* while the first is still running -> 409;
* after it completed, with the same method, path, Content-Type and body
  (the fingerprint) -> the first response again, status, headers and body,
  marked ``Idempotent-Replayed: true``, and nothing new is created;
* with a different request -> 422.

Only successful responses are recorded (in the same atomic step as the new
item); a request that failed releases its claim, so fixing and retrying it
works.  A claim whose request died with its worker expires after
:data:`IN_FLIGHT_LEASE`.

Where records live: with the item the POST created.  The record (the first
response: status, headers, body) is stored beside the item, its bytes count
against ``--store-max-bytes`` like the item's own, a PUT or PATCH of the
item keeps it, and it goes when the item is deleted (or the store is reset
or seeded).  The key answers replays for ``--idempotency-key-ttl`` seconds;
after that, or once the item is gone, a request with the key is a new
request.  So an item deleted after a keyed POST frees everything the POST
stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from flask import Response
from werkzeug.datastructures import Headers

from ..problems import Problem

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
IN_FLIGHT_LEASE = 60.0  # seconds
MAX_KEY_LENGTH = 255
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BARE = re.compile(r"[\x21\x23-\x2b\x2d-\x7e]+")  # visible ASCII except '"' and ','


def read_key(headers: Headers) -> Optional[str]:
    """The client's key: an RFC 8941 sf-string (``"abc"``) or, leniently, a bare token."""
    value = headers.get(HEADER)
    if value is None:
        return None
    value = value.strip()
    quoted = _SF_STRING.fullmatch(value)
    key = re.sub(r"\\(.)", r"\1", quoted.group(1)) if quoted else value if _BARE.fullmatch(value) else None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Problem(
            "idempotency-key-invalid",
            f"{HEADER} must be a quoted string of 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
            'like Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324" (sent once)',
        )
    return key


def storage_key(key: str) -> str:
    """What the store files a key under: fixed length whatever the client sent."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def fingerprint(method: str, path: str, content_type: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (
        method.encode(),
        path.encode("utf-8", "surrogateescape"),
        content_type.encode("latin-1", "replace"),
    ):
        digest.update(part + b"\0")
    digest.update(body)
    return digest.hexdigest()


def new_marker() -> bytes:
    """An in-flight record, unique to this request (so only it can release it)."""
    return json.dumps({"state": "in-flight", "token": os.urandom(16).hex()}).encode()


@dataclass(frozen=True)
class Record:
    state: str
    fingerprint: str = ""
    status: int = 0
    headers: Tuple[Tuple[str, str], ...] = ()
    body: bytes = b""

    def encode(self) -> bytes:
        """A one-line JSON head, a newline, then the body as is (no base64: the bytes count)."""
        head = json.dumps(
            {
                "state": self.state,
                "fingerprint": self.fingerprint,
                "status": self.status,
                "headers": [list(pair) for pair in self.headers],
            }
        ).encode()
        return head + b"\n" + self.body

    @classmethod
    def decode(cls, data: bytes) -> "Record":
        head, newline, body = data.partition(b"\n")
        doc = json.loads(head)
        if doc.get("state") != "done":
            return cls("in-flight")
        if not newline:  # an earlier format: the body in base64 inside the JSON
            body = base64.b64decode(doc["body"])
        headers = tuple((name, value) for name, value in doc["headers"])
        return cls("done", doc["fingerprint"], doc["status"], headers, body)

    def replay(self) -> Response:
        response = build_response(self.status, self.headers, self.body)
        response.headers[REPLAYED] = "true"
        return response


def build_response(status: int, headers: Sequence[Tuple[str, str]], body: bytes) -> Response:
    """A response with exactly *headers* (no default Content-Type for an empty body)."""
    response = Response(body, status=status)
    del response.headers["Content-Type"]
    for name, value in headers:
        response.headers[name] = value
    return response


def done(fp: str, status: int, headers: List[Tuple[str, str]], body: bytes) -> bytes:
    return Record("done", fp, status, tuple(headers), body).encode()


def check(existing: bytes, fp: str) -> Response:
    """The answer to a retry whose key is already known."""
    record = Record.decode(existing)
    if record.state != "done":
        raise Problem(
            "idempotency-key-in-flight",
            f"a request with this {HEADER} is still being processed; retry after it has completed",
        )
    if record.fingerprint != fp:
        raise Problem(
            "idempotency-key-reused",
            f"this {HEADER} was used for a different request (method, path, Content-Type or body differ); "
            "use a new key for a new request",
        )
    return record.replay()
