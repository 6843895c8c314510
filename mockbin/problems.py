"""Every error mockbin itself answers: one exception, one table of kinds.

mockbin's own errors (bad parameters of the routes, limits, the stateful
mode, the admin API, the journal) are RFC 9457 ``application/problem+json``
documents.  Each kind has a stable ``type`` URN (``urn:mockbin:problem:<kind>``)
that clients switch on, one status and one title, all in :data:`KINDS`; the
``detail`` says how to fix this particular request.  Code raises
:class:`Problem`, a Werkzeug ``HTTPException``, so Flask, the fast lane and
plain WSGI code all answer it the same way.  docs/compatibility.md's table of
problem types is generated from :data:`KINDS` (``tests/test_docs.py`` checks).

httpbin's own routes keep httpbin's error shapes where httpbin has one (its
plain-text 400s, its 501 for chunked bodies); those are not problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .jsonify import dumps_bytes

URN = "urn:mockbin:problem:"
MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Kind:
    status: int
    title: str
    where: str  # for the documentation: who answers it


KINDS: Dict[str, Kind] = {
    # -- httpbin routes: where httpbin crashes, mockbin says what is wrong --
    "invalid-parameter": Kind(
        400,
        "Invalid parameter",
        "a parameter of the dynamic, caching and extra routes (`/delay`, `/bytes`, `/drip`, "
        "`/range`, `/etag`, `/sse`, `/jsonl`, `/unstable`, `/base64/decode`, `/websocket/echo`, "
        "`/fault/*`, ...)",
    ),
    "limit-exceeded": Kind(400, "Limit exceeded", "a request over `--max-duration` or `--max-generated-size`"),
    "invalid-status-code": Kind(400, "Invalid status code", "`/status/<codes>`"),
    "invalid-redirect": Kind(400, "Invalid redirect", "`/redirect-to`"),
    "redirect-not-allowed": Kind(
        403, "Redirect target not allowed", "`/redirect-to` with `--allowed-redirect-domains`"
    ),
    "invalid-header": Kind(400, "Header cannot be sent", "`/response-headers`"),
    "invalid-cookie": Kind(
        400, "Invalid cookie name", "`/cookies/set`, `/cookies/set/<name>/<value>`, `/cookies/delete`"
    ),
    # -- extras beyond httpbin (docs/compatibility.md, docs/faults.md) --
    "invalid-trailer": Kind(400, "Trailer cannot be sent", "`/trailers`: a forbidden or unsendable trailer field"),
    "websocket-handshake": Kind(
        400, "Not a WebSocket handshake", "`/websocket/echo` without `Upgrade: websocket` and its headers"
    ),
    "engine-cannot": Kind(
        501,
        "The server engine cannot do this",
        "`/fault/*`, fault rules, `/trailers`, `/websocket/echo` under an engine that gives no access to the "
        "client connection (granian, HTTP/2); a final 1xx answer under granian",
    ),
    # -- limits --
    "body-too-large": Kind(413, "Request body too large", "any request with a body over `--max-body-size`"),
    "incomplete-body": Kind(
        400,
        "Request body incomplete",
        "any request whose body ends before its `Content-Length` or whose chunked body is cut off "
        "(the connection then closes)",
    ),
    "malformed-body": Kind(
        400,
        "Malformed chunked request body",
        "any request whose chunked body is broken: chunk sizes, CRLFs, extensions, trailers "
        "(the connection then closes)",
    ),
    "json-too-large": Kind(
        413,
        "JSON body too large once parsed",
        "a JSON body that mockbin parses (echo `json`, stateful `POST` and `PATCH`, a patch result) "
        "over `--max-json-values`, or whose parsed form would pass `--max-json-expansion`",
    ),
    "json-too-deep": Kind(
        413,
        "JSON document nested too deeply",
        "stateful mode: a POSTed object, a PATCH document, its target or result past `--store-max-depth`",
    ),
    # -- admin API and journal --
    "stateful-off": Kind(404, "Stateful mode is off", "`/__mockbin/store` without `--stateful`"),
    "bad-store-document": Kind(400, "Invalid store document", "`PUT /__mockbin/store`"),
    "journal-off": Kind(404, "Request journal is off", "`/__mockbin/requests` without `--journal`"),
    "bad-journal-query": Kind(
        400, "Invalid journal query", "`GET /__mockbin/requests` with an `after`, `before` or `limit` that is not a whole number"
    ),
    "admin-cross-origin": Kind(
        403,
        "The admin API does not answer web pages",
        "`/__mockbin/*` with a foreign `Origin` or a `Sec-Fetch-Site` other than `none` (docs/security.md)",
    ),
    "admin-host": Kind(
        403,
        "Host not allowed for the admin API",
        "`/__mockbin/*` with a `Host` that is neither loopback nor in `--admin-hosts` (docs/security.md)",
    ),
    "admin-token": Kind(
        401,
        "Admin token required",
        "`/__mockbin/*` but `/__mockbin/health` with `--admin-token`, without the right `Authorization: Bearer`",
    ),
    "bad-fault-rule": Kind(400, "Invalid fault rule", "`POST /__mockbin/faults`"),
    "no-such-fault-rule": Kind(404, "No such fault rule", "`/__mockbin/faults/<id>`"),
    "fault-rules-one-worker": Kind(
        409, "Fault rules need a single worker", "`POST /__mockbin/faults` under `--workers` above 1"
    ),
    # -- stateful mode (docs/stateful.md) --
    "bad-path": Kind(400, "Invalid resource path", "stateful mode: a path with dot segments, `%2F`, `//`, controls"),
    "not-found": Kind(404, "Nothing stored here", "stateful mode: `GET`, `PATCH`, `DELETE` of nothing"),
    "method-not-allowed": Kind(405, "Method not allowed on a resource path", "stateful mode: `TRACE` and others"),
    "precondition-failed": Kind(412, "Precondition failed", "stateful mode: `If-Match`, `If-None-Match`, ..."),
    "precondition-required": Kind(428, "Precondition required", "stateful mode with `--require-if-match`"),
    "unsupported-patch-format": Kind(415, "Unsupported patch format", "stateful mode: `PATCH`"),
    "not-json": Kind(415, "The stored item is not JSON", "stateful mode: `PATCH`"),
    "malformed-patch": Kind(400, "Malformed patch document", "stateful mode: `PATCH`"),
    "patch-conflict": Kind(409, "The patch does not apply to the current item", "stateful mode: `PATCH`"),
    "patch-result-invalid": Kind(422, "The patch result is not a JSON document", "stateful mode: `PATCH`"),
    "patch-too-large": Kind(
        413, "Too many patch operations", "stateful mode: a JSON Patch past `--store-patch-max-operations`"
    ),
    "bad-pagination": Kind(400, "Invalid pagination parameters", "stateful mode: collection `GET`"),
    "content-range": Kind(400, "Partial PUT is not supported", "stateful mode: `PUT` with `Content-Range`"),
    "store-full": Kind(507, "The store is full", "stateful mode and `PUT /__mockbin/store`: past a store limit"),
    "store-unavailable": Kind(503, "The store is unavailable", "stateful mode: the backend cannot be reached"),
    "concurrent-modification": Kind(
        409, "Too many concurrent modifications", "stateful mode: an item that kept changing under a write"
    ),
    "idempotency-key-invalid": Kind(400, "Invalid Idempotency-Key", "stateful mode: `POST`"),
    "idempotency-key-required": Kind(
        400, "Idempotency-Key required", "stateful mode: `POST` with `--require-idempotency-key`"
    ),
    "idempotency-key-in-flight": Kind(
        409, "A request with this Idempotency-Key is still being processed", "stateful mode: `POST`"
    ),
    "idempotency-key-reused": Kind(
        422, "Idempotency-Key reused with a different request", "stateful mode: `POST`"
    ),
}


class Problem(HTTPException):
    """An error answered as an RFC 9457 problem document of a kind in :data:`KINDS`.

    *extra* members go into the document beside ``type``, ``title``,
    ``status`` and ``detail`` (``limit=...``, ``parameter=...``); *headers*
    are added to the response (``Allow``, ``ETag``, ``Accept-Patch``).
    """

    def __init__(
        self, kind: str, detail: str, headers: Optional[Mapping[str, str]] = None, **extra: Any
    ) -> None:
        spec = KINDS[kind]
        super().__init__(detail)
        self.code = spec.status
        self.kind = kind
        self.title = spec.title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def type(self) -> str:
        return URN + self.kind

    def document(self) -> Dict[str, Any]:
        return {"type": self.type, "title": self.title, "status": self.code, "detail": self.detail, **self.extra}

    def get_headers(self, environ: Any = None, scope: Any = None) -> List[Tuple[str, str]]:
        return [("Content-Type", MEDIA_TYPE), *self.headers.items()]

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return dumps_bytes(self.document()).decode("ascii")

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        response = Response(dumps_bytes(self.document()), status=self.code, content_type=MEDIA_TYPE)
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def table(kinds: Iterable[str] = KINDS) -> str:
    """The Markdown table of problem types that docs/compatibility.md shows."""
    rows = ["| `type` | status | title | where |", "| --- | --- | --- | --- |"]
    for kind in kinds:
        spec = KINDS[kind]
        rows.append(f"| `{URN}{kind}` | {spec.status} | {spec.title} | {spec.where} |")
    return "\n".join(rows) + "\n"
