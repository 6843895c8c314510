"""The stateful mode's HTTP semantics: PUT stores, POST appends, GET/PATCH/DELETE.

A *resource path* is any path that no httpbin route claims (or, with
``--store-prefix``, any such path under the prefix).  Flask routes first; a
request it could not route at all (404, not 405) and whose path is a
resource path is answered here.  So ``PUT /get`` keeps httpbin's 405 and
``/put`` keeps echoing, while ``PUT /articles/1`` stores.

Every rule below is RFC 9110 (PUT, POST, DELETE, conditional requests),
RFC 5789 + 7396 + 6902 (PATCH), RFC 7240 (Prefer), RFC 8288 (Link),
RFC 9457 (errors) or the Idempotency-Key draft; docs/stateful.md lists them
with their status codes.  Writes are compare-and-set on the item's ETag
(:meth:`Store.swap`), retried when another request won the race, so the
preconditions are always evaluated against the state that gets replaced.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, List, Optional, Tuple

from flask import Flask, Request, Response, request
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date
from werkzeug.routing import Map

from ..settings import Settings, settings_of
from . import idempotency, patching
from .base import (
    DEFAULT_CONTENT_TYPE,
    Budget,
    Item,
    Receipt,
    Store,
    StoreError,
    StoreFull,
    child_of,
    dumps,
    etag_of,
    object_members,
)
from ..limits import json_depth, json_values
from ..problems import Problem
from ..routes.safety import safe_reflection
from .conditions import FAILED, Current, evaluate, is_conditional, precondition_failed, preference, quote_etag
from .idempotency import build_response
from .pages import Page, parse_page, quote_path
from .paths import Paths

ALLOW = "GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS"
EXPOSE = (
    "ETag, Last-Modified, Location, Content-Location, Link, X-Total-Count, "
    "Preference-Applied, Accept-Patch, Idempotent-Replayed"
)
JSON = "application/json"
RESOURCE_KEY = "mockbin.resource"  # environ: this request is answered by the stateful mode
MAX_ATTEMPTS = 50  # compare-and-set rounds before answering 409
Parts = Tuple[int, List[Tuple[str, str]], bytes]  # status, headers, body


def register(app: Flask, store: Store, settings: Settings) -> "Resources":
    """Answer requests to resource paths (run after the body limit hook)."""
    resources = Resources(store, settings.store_prefix, app.url_map)
    app.before_request(resources.before_request)
    app.after_request(resources.after_request)
    return resources


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or media.endswith("+json")


def budget_of(settings: Settings) -> Budget:
    """How much JSON the stateful mode parses (``--max-json-values``, ``--max-json-expansion``, ``--store-max-depth``)."""
    return Budget(settings.max_json_values, settings.store_max_depth, settings.max_json_expansion)


_OBJECT_START = re.compile(rb"[ \t\n\r]*\{")


def _with_id(settings: Settings, body: bytes, content_type: str, number: str) -> bytes:
    """The stored body: a JSON object gets its id, in place; anything else stays verbatim.

    The bytes the client sent are kept: the member ``"<field>": <id>, `` is
    written right after the opening brace, or, when the object already has
    the field (at its top level), the value of each such member is replaced
    by the id.  Nothing else is re-serialised, so the stored size is what
    was sent plus the member.  A JSON object past the store's JSON budget
    is refused (413); a body that is not a JSON object is stored as sent.
    """
    if not settings.store_inject_id or not is_json_type(content_type) or not _OBJECT_START.match(body):
        return body
    budget_of(settings).check(body, "The JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    members = object_members(text)
    if members is None:
        return body
    field = settings.store_id_field
    spans = [(start, end) for name, start, end in members if name == field]
    if not spans:
        brace = _OBJECT_START.match(body).end()  # type: ignore[union-attr]
        member = json.dumps(field, ensure_ascii=False) + ": " + number + (", " if members else "")
        return body[:brace] + member.encode("utf-8") + body[brace:]
    edited, offset = body, 0
    ascii_text = text.isascii()
    for start, end in spans:
        begin = start if ascii_text else len(text[:start].encode("utf-8"))
        stop = end if ascii_text else len(text[:end].encode("utf-8"))
        edited = edited[: begin + offset] + number.encode() + edited[stop + offset :]
        offset += len(number) - (stop - begin)
    return edited


class Resources:
    def __init__(self, store: Store, prefix: str, url_map: Map) -> None:
        self.store = store
        self.paths = Paths(url_map, prefix)
        self.methods = {
            "GET": self.get,
            "HEAD": self.get,
            "PUT": self.put,
            "POST": self.post,
            "PATCH": self.patch,
            "DELETE": self.delete,
            "OPTIONS": self.options,
        }

    # -- routing ---------------------------------------------------------------

    def before_request(self) -> Optional[Response]:
        """Flask hook: answer here if Flask found no route and the path is a resource path."""
        if not isinstance(request.routing_exception, NotFound):
            return None
        request.environ[RESOURCE_KEY] = True  # even a malformed path's 400 exposes the headers
        path = self.paths.resource_path(request.environ)
        if path is None:
            del request.environ[RESOURCE_KEY]
            return None
        return self.dispatch(request._get_current_object(), path)  # type: ignore[attr-defined]

    @staticmethod
    def after_request(response: Response) -> Response:
        """Flask hook: let browsers read the validators and links of every resource answer."""
        if request.environ.get(RESOURCE_KEY):
            response.headers["Access-Control-Expose-Headers"] = EXPOSE
        return response

    def dispatch(self, req: Request, path: str) -> Response:
        handler = self.methods.get(req.method)
        if handler is None:
            raise Problem(
                "method-not-allowed",
                f"{req.method} is not supported on resource paths",
                {"Allow": ALLOW},
            )
        try:  # stored HTML and SVG are inert text under --safe-responses (docs/security.md)
            return safe_reflection(handler(req, path), req.environ, only_active=True)
        except StoreError as exc:
            raise exc.problem() from None

    # -- GET / HEAD --------------------------------------------------------------

    def get(self, req: Request, path: str) -> Response:
        """An item's stored representation, or a collection's members (paginated)."""
        item = self.store.get(path)
        if item is not None:
            outcome = self._preconditions(req, path, item, safe=True)
            headers = self._validators(item)
            if outcome is not None:
                return build_response(outcome, headers, b"")
            return build_response(200, [("Content-Type", item.content_type)] + headers, item.body)
        return self._collection(req, path)

    def _collection(self, req: Request, path: str) -> Response:
        page = parse_page(req.args, settings_of(req.environ).store_max_page)
        total, members = self.store.members(path, page.offset, page.limit)
        if total == 0 and self.store.last_id(path) is None:
            raise Problem("not-found", f"nothing is stored at {path}: no item, no collection members")
        body = b"[" + b", ".join(self._member(req, item) for item in members) + b"]"
        etag = etag_of(body, JSON)
        outcome = evaluate(req.headers, Current(True, etag), safe=True)
        if outcome == FAILED:
            raise precondition_failed(f"the preconditions do not hold for the collection {path}", etag)
        headers = [
            ("ETag", quote_etag(etag)),
            ("Cache-Control", "no-cache"),
            ("X-Total-Count", str(total)),
            ("Link", self._links(req, path, page, total)),
        ]
        if outcome is not None:
            return build_response(outcome, headers, b"")
        return build_response(200, [("Content-Type", JSON)] + headers, body)

    def _member(self, req: Request, item: Item) -> bytes:
        """A JSON member as stored; anything else (or JSON past the budget) as a small link object."""
        ok, _ = item.json(budget_of(settings_of(req.environ)))
        if ok:
            return item.body.strip()
        href = quote_path(req.script_root + item.path)
        return dumps({"href": href, "content_type": item.content_type, "size": item.size})

    def _links(self, req: Request, path: str, page: Page, total: int) -> str:
        return page.links(quote_path(req.script_root + path), total)

    # -- PUT ---------------------------------------------------------------------------

    def put(self, req: Request, path: str) -> Response:
        """Create (201) or replace (200/204) the item at *path* with the body, verbatim."""
        if "Content-Range" in req.headers:
            raise Problem(
                "content-range",
                "PUT with Content-Range (a partial update) is not supported; "
                "send the whole representation or use PATCH",
            )
        content_type = req.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE

        def decide(current: Optional[Item]) -> Optional[Item]:
            self._preconditions(req, path, current, safe=False)
            self._require_if_match(req, path, current)
            return Item.make(path, req.get_data(), content_type)  # read once preconditions hold

        current, new = self._compare_and_set(path, decide)
        assert new is not None
        return self._written(req, new, created=current is None)

    # -- POST ------------------------------------------------------------------------

    def post(self, req: Request, path: str) -> Response:
        """Append the body to the collection *path* under the next id: 201 + Location."""
        self._collection_preconditions(req, path)  # before the body is read
        key = idempotency.read_key(req.headers)
        if key is None:
            if settings_of(req.environ).require_idempotency_key:
                raise Problem(
                    "idempotency-key-required",
                    f"this server requires an {idempotency.HEADER} header on POST "
                    "(--require-idempotency-key)",
                )
            return self._append(req, path, req.get_data(), None)
        stored_key = idempotency.storage_key(key)
        marker = idempotency.new_marker()
        existing = self.store.claim(stored_key, marker, idempotency.IN_FLIGHT_LEASE)
        recorded = False
        try:
            body = req.get_data()
            content_type = req.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE
            fingerprint = idempotency.fingerprint(req.method, path, content_type, body)
            if existing is not None:
                return idempotency.check(existing, fingerprint)
            response = self._append(req, path, body, (stored_key, fingerprint))
            recorded = True
            return response
        finally:
            if existing is None and not recorded:
                self.store.release(stored_key, marker)

    def _append(self, req: Request, path: str, body: bytes, key: Optional[Tuple[str, str]]) -> Response:
        settings = settings_of(req.environ)
        content_type = req.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE
        minimal = preference(req.headers) == "minimal"

        def build(number: str) -> Item:
            stored = _with_id(settings, body, content_type, number)
            return Item.make(child_of(path, number), stored, content_type)

        def parts(item: Item) -> Parts:
            return self._parts(req, item, 201, minimal, location=True)

        receipt = None
        if key is not None:
            stored_key, fingerprint = key
            receipt = Receipt(
                stored_key, settings.idempotency_key_ttl, lambda item: idempotency.done(fingerprint, *parts(item))
            )
        item = self.store.append(path, build, receipt)
        return build_response(*parts(item))

    def _collection_preconditions(self, req: Request, path: str) -> None:
        """POST preconditions: against an item stored at the collection's own path, else existence."""
        if not is_conditional(req.headers):
            return
        item = self.store.get(path)
        exists = (
            item is not None or self.store.last_id(path) is not None or self.store.members(path, 0, 0)[0] > 0
        )
        state = Current(exists, item.etag if item else None, item.modified if item else None)
        if evaluate(req.headers, state, safe=False) is not None:
            raise precondition_failed(f"the preconditions do not hold for the collection {path}", state.etag)

    # -- PATCH -------------------------------------------------------------------------

    def patch(self, req: Request, path: str) -> Response:
        """Apply a merge patch or a JSON Patch to a JSON item, atomically.

        The body is read and parsed only once the item is known to exist, to
        be JSON and to meet the preconditions: a PATCH to nothing is a 404
        whatever it carries.
        """
        kind = patching.patch_kind(req.headers.get("Content-Type"))
        settings = settings_of(req.environ)
        budget = budget_of(settings)
        parsed: List[Any] = []

        def document() -> Any:
            if not parsed:
                parsed.append(
                    patching.read_document(kind, req.get_data(), budget, settings.store_patch_max_operations)
                )
            return parsed[0]

        def decide(current: Optional[Item]) -> Optional[Item]:
            current = self._existing(path, current)
            if not is_json_type(current.content_type):
                raise self._not_json(path, current)
            self._preconditions(req, path, current, safe=False)
            self._require_if_match(req, path, current)
            patch = document()
            budget.check(current.body, f"The item stored at {path}")
            ok, target = current.json()
            if not ok:
                raise self._not_json(path, current)
            size = (json_values(current.body), json_depth(current.body))
            try:
                body = dumps(patching.apply(kind, target, patch, budget, size))
            except ValueError as exc:  # nested too deeply to write: past the budget
                raise Problem("patch-result-invalid", f"the patch result cannot be stored: {exc}") from None
            if len(body) > self.store.limits.max_bytes:
                raise StoreFull("store_max_bytes", self.store.limits.max_bytes).problem()
            return Item.make(path, body, current.content_type)

        _, new = self._compare_and_set(path, decide)
        assert new is not None
        return self._written(req, new, created=False)

    @staticmethod
    def _not_json(path: str, current: Item) -> Problem:
        return Problem(
            "not-json",
            f"{path} holds {current.content_type}, not a JSON document; "
            "PATCH applies to JSON items only (PUT replaces any item)",
            {"Accept-Patch": patching.ACCEPT_PATCH},
        )

    # -- DELETE ------------------------------------------------------------------------

    def delete(self, req: Request, path: str) -> Response:
        """Remove the item: 204 (200 with the removed representation on request)."""

        def decide(current: Optional[Item]) -> Optional[Item]:
            current = self._existing(path, current)
            self._preconditions(req, path, current, safe=False)
            self._require_if_match(req, path, current)
            return None

        current, _ = self._compare_and_set(path, decide)
        assert current is not None
        if preference(req.headers) == "representation":
            status, headers, body = self._parts(req, current, 200, False, location=False)
            return build_response(status, headers + [("Preference-Applied", "return=representation")], body)
        return build_response(204, [], b"")

    # -- OPTIONS -----------------------------------------------------------------------

    def options(self, req: Request, path: str) -> Response:
        """What every resource path allows (CORS headers are added for every response)."""
        return build_response(
            200, [("Allow", ALLOW), ("Accept-Patch", patching.ACCEPT_PATCH), ("Content-Length", "0")], b""
        )

    # -- shared steps ----------------------------------------------------------------

    def _compare_and_set(
        self, path: str, decide: Callable[[Optional[Item]], Optional[Item]]
    ) -> Tuple[Optional[Item], Optional[Item]]:
        """Read, decide, write if unchanged; again if another request won the race."""
        for _ in range(MAX_ATTEMPTS):
            current = self.store.get(path)
            new = decide(current)
            if self.store.swap(path, current.etag if current else None, new):
                return current, new
        raise Problem("concurrent-modification", f"{path} kept changing under this request; retry it")

    def _existing(self, path: str, current: Optional[Item]) -> Item:
        if current is None:
            raise Problem("not-found", f"no item is stored at {path}")
        return current

    def _preconditions(self, req: Request, path: str, current: Optional[Item], safe: bool) -> Optional[int]:
        state = Current(
            current is not None, current.etag if current else None, current.modified if current else None
        )
        outcome = evaluate(req.headers, state, safe)
        if outcome == FAILED:
            what = (
                f"the current ETag of {path} is {quote_etag(current.etag)}"
                if current
                else f"nothing is stored at {path}"
            )
            raise precondition_failed(
                f"the preconditions do not hold: {what}", current.etag if current else None
            )
        return outcome

    def _require_if_match(self, req: Request, path: str, current: Optional[Item]) -> None:
        if settings_of(req.environ).require_if_match and current is not None and "If-Match" not in req.headers:
            raise Problem(
                "precondition-required",
                f"{path} exists and this server requires conditional writes (--require-if-match): "
                "GET it, then resend this request with If-Match set to its ETag",
            )

    def _validators(self, item: Item) -> List[Tuple[str, str]]:
        return [
            ("ETag", quote_etag(item.etag)),
            ("Last-Modified", http_date(item.modified)),
            ("Cache-Control", "no-cache"),
        ]

    def _parts(self, req: Request, item: Item, status: int, minimal: bool, location: bool) -> Parts:
        """Status, headers and body of a response that describes *item*."""
        where = quote_path(req.script_root + item.path)
        headers = []
        if location:
            headers.append(("Location", where))
        headers += [("Content-Location", where)] + self._validators(item)
        if minimal:
            return status, headers + [("Preference-Applied", "return=minimal")], b""
        return status, [("Content-Type", item.content_type)] + headers, item.body

    def _written(self, req: Request, item: Item, created: bool) -> Response:
        """After PUT or PATCH: 201 or 200 with the representation; with return=minimal, 201 or 204."""
        minimal = preference(req.headers) == "minimal"
        status = 201 if created else (204 if minimal else 200)
        return build_response(*self._parts(req, item, status, minimal, location=False))
