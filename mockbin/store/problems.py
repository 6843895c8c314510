"""The stateful mode's errors: RFC 9457 problem documents with stable ``type`` URNs.

Each kind of problem has one URN and one title (what a client can switch on),
and a ``detail`` that says how to fix this particular request.  Handlers
raise :class:`Problem`; the dispatcher turns it into the response.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from flask import Response

from ..http import problem
from ..settings import describe

URN = "urn:mockbin:problem:"

TITLES: Dict[str, str] = {
    "bad-path": "Invalid resource path",
    "not-found": "Nothing stored here",
    "method-not-allowed": "Method not allowed on a resource path",
    "precondition-failed": "Precondition failed",
    "precondition-required": "Precondition required",
    "unsupported-patch-format": "Unsupported patch format",
    "not-json": "The stored item is not JSON",
    "malformed-patch": "Malformed patch document",
    "patch-conflict": "The patch does not apply to the current item",
    "patch-result-invalid": "The patch result is not a JSON document",
    "bad-pagination": "Invalid pagination parameters",
    "content-range": "Partial PUT is not supported",
    "store-full": "The store is full",
    "store-unavailable": "The store is unavailable",
    "concurrent-modification": "Too many concurrent modifications",
    "idempotency-key-invalid": "Invalid Idempotency-Key",
    "idempotency-key-required": "Idempotency-Key required",
    "idempotency-key-in-flight": "A request with this Idempotency-Key is still being processed",
    "idempotency-key-reused": "Idempotency-Key reused with a different request",
}


class Problem(Exception):
    """An error answer: status, a kind from :data:`TITLES`, a detail and extra headers."""

    def __init__(
        self, status: int, kind: str, detail: str, headers: Optional[Dict[str, str]] = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> Response:
        response = problem(self.status, TITLES[self.kind], self.detail, URN + self.kind, **self.extra)
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def store_full(limit_name: str, limit: int) -> Problem:
    return Problem(
        507,
        "store-full",
        f"This write would take the store past {describe(limit_name)} = {limit}; "
        "nothing was changed. Delete items, reset the store, or raise the limit.",
        limit=limit,
    )


def precondition_failed(detail: str, etag: Optional[str]) -> Problem:
    headers = {"ETag": quote_etag(etag)} if etag else None
    return Problem(412, "precondition-failed", detail, headers)


def quote_etag(etag: str) -> str:
    return f'"{etag}"'
