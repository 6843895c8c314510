"""A handle on one running mockbin: URLs, reset, the request journal, the store, fault rules.

What the ``mockbin`` fixture returns, but usable without pytest: point
:class:`Mockbin` at any mockbin (in-process, or a docker-compose sidecar) and
it talks to it only through HTTP and the ``/__mockbin/`` admin API, so a test
reads the same way whichever server answers.  It sends the admin token
(``token=``, else ``MOCKBIN_ADMIN_TOKEN``) on every admin call, and reads the
journal page by page (``Link: rel="next"``), so every request shows.
"""

from __future__ import annotations

import base64
import difflib
import http.client
import json as jsonlib
import os
import re
import ssl
from typing import Any, Dict, Iterator, List, Mapping, Optional, Pattern, Sequence, Tuple, Union
from urllib.parse import urlencode, urljoin, urlsplit

from werkzeug.datastructures import Headers, MultiDict

ADMIN = "/__mockbin"
#: Where the handle finds the admin token when none is given (the server reads the same variable).
TOKEN_ENV = "MOCKBIN_ADMIN_TOKEN"
_NEXT_PAGE = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)
_MISSING: Any = object()
#: Requests shown under a failed assertion.
CLOSEST = 5


class AdminError(RuntimeError):
    """The admin API answered something other than success; the message says what."""


class RecordedRequest:
    """One request from the journal, as the server received it."""

    def __init__(self, entry: Mapping[str, Any]) -> None:
        self.entry = dict(entry)
        self.id: int = entry["id"]
        self.method: str = entry["method"]
        self.url: str = entry["url"]
        self.path: str = entry["path"]
        self.query: str = entry["query"]
        self.args: "MultiDict[str, str]" = MultiDict([(k, v) for k, vs in entry["args"].items() for v in vs])
        self.headers = Headers([tuple(pair) for pair in entry["headers"]])
        self.status: Optional[int] = entry.get("status")
        #: The fault rule that fired for this request (``{"rule": id, "fault": kind, "when": ...}``), or None.
        self.fault: Optional[Dict[str, Any]] = entry.get("fault")
        self.remote_port: Optional[int] = entry.get("remote_port")
        self.body_truncated: bool = entry.get("body_truncated", False)
        self.body_size: Optional[int] = entry.get("body_size")
        # A problem kind ("incomplete-body", "malformed-body", ...) when the body never arrived whole.
        self.body_error: Optional[str] = entry.get("body_error")
        if "body_base64" in entry:
            self.body: bytes = base64.b64decode(entry["body_base64"])
        else:
            self.body = entry.get("body", "").encode("utf-8")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON (a truncated or broken body is an error, not a guess)."""
        if self.body_error:
            raise ValueError(f"request #{self.id}'s body never arrived whole ({self.body_error})")
        if self.body_truncated:
            raise ValueError(
                f"request #{self.id}'s body was truncated by the journal at {len(self.body)} bytes "
                f"(raise --journal-body-size / MOCKBIN_JOURNAL_BODY_SIZE)"
            )
        return jsonlib.loads(self.body)

    def __repr__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"<RecordedRequest #{self.id} {self.method} {self.path}{query} -> {self.status}>"


class Criteria:
    """What :meth:`Mockbin.assert_requested` looks for; each part is optional."""

    def __init__(
        self,
        method: Optional[str] = None,
        path: Union[str, Pattern[str], None] = None,
        json: Any = _MISSING,
        headers: Optional[Mapping[str, str]] = None,
        args: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
        body: Union[bytes, str, None] = None,
    ) -> None:
        self.method = method.upper() if method else None
        self.path = path
        self.json = json
        self.headers = dict(headers or {})
        self.args = dict(args or {})
        self.body = body.encode("utf-8") if isinstance(body, str) else body

    def describe(self) -> str:
        parts = [self.method or "any method", _pattern_text(self.path) if self.path is not None else "any path"]
        if self.json is not _MISSING:
            parts.append(f"json={self.json!r}")
        if self.headers:
            parts.append(f"headers={self.headers!r}")
        if self.args:
            parts.append(f"args={self.args!r}")
        if self.body is not None:
            parts.append(f"body={self.body!r}")
        return " ".join(parts)

    def differences(self, req: RecordedRequest) -> List[str]:
        """Why *req* does not match, one short phrase per differing part (empty: it matches)."""
        diffs = []
        if self.method and req.method != self.method:
            diffs.append(f"method is {req.method}")
        if self.path is not None and not _path_matches(self.path, req.path):
            diffs.append(f"path is {req.path}")
        if self.json is not _MISSING:
            try:
                actual = req.json()
            except ValueError:
                diffs.append(f"body is not JSON: {_clip(req.text)!r}" if req.body else "no body")
            else:
                if actual != self.json:
                    diffs.append(f"json is {actual!r}")
        for name, value in self.headers.items():
            if req.headers.get(name) != value:
                diffs.append(f"header {name} is {req.headers.get(name)!r}")
        for name, wanted in self.args.items():
            want = [wanted] if isinstance(wanted, str) else list(wanted)
            if req.args.getlist(name) != want:
                diffs.append(f"arg {name} is {req.args.getlist(name)!r}")
        if self.body is not None and req.body != self.body:
            diffs.append(f"body is {_clip(req.text)!r}")
        return diffs

    def closeness(self, req: RecordedRequest) -> Tuple[int, float, int]:
        """Sort key: fewer differences first, then the most similar path, then the newest."""
        similarity = 1.0
        if isinstance(self.path, str):
            similarity = difflib.SequenceMatcher(None, self.path, req.path).ratio()
        return (len(self.differences(req)), -similarity, -req.id)


def _path_matches(path: Union[str, Pattern[str]], actual: str) -> bool:
    if isinstance(path, str):
        return actual == path
    return path.fullmatch(actual) is not None


def _pattern_text(path: Union[str, Pattern[str], None]) -> str:
    return path if isinstance(path, str) else f"re({path.pattern!r})"  # type: ignore[union-attr]


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


class Store:
    """The stateful store of one mockbin, dict-like: ``store["/store/a"] = {"x": 1}``.

    Talks to ``/__mockbin/store``: ``GET`` exports ``{"items": {path: item},
    "counters": {...}}``, ``PUT`` seeds, ``DELETE`` clears.  JSON bodies are
    given and returned as Python values; anything else as bytes.
    """

    def __init__(self, handle: "Mockbin") -> None:
        self._handle = handle

    def dump(self) -> Dict[str, Any]:
        """The whole store document, as the admin API exports it."""
        document: Dict[str, Any] = self._handle._admin_json("GET", "/store")
        return document

    def load(self, document: Mapping[str, Any]) -> None:
        """Replace the whole store with *document* (the shape :meth:`dump` returns)."""
        self._handle._admin("DELETE", "/store", expect=(204,))
        self._handle._admin("PUT", "/store", body=document, expect=(204,))

    def clear(self) -> None:
        self._handle._admin("DELETE", "/store", expect=(204,))

    def seed(self, items: Mapping[str, Any], content_type: Optional[str] = None) -> None:
        """Store every ``path: value`` of *items* (existing paths are overwritten)."""
        document = self.dump()
        for path, value in items.items():
            document.setdefault("items", {})[path] = encode_item(value, content_type)
        self.load(document)

    def put(self, path: str, value: Any, content_type: Optional[str] = None) -> None:
        self.seed({path: value}, content_type)

    def get(self, path: str, default: Any = None) -> Any:
        item = self.dump().get("items", {}).get(path)
        return default if item is None else decode_item(item)

    def item(self, path: str) -> Optional[Dict[str, Any]]:
        """The raw item (``content_type`` and ``body`` or ``body_base64``), or None."""
        item: Optional[Dict[str, Any]] = self.dump().get("items", {}).get(path)
        return item

    def __getitem__(self, path: str) -> Any:
        item = self.dump().get("items", {}).get(path)
        if item is None:
            raise KeyError(path)
        return decode_item(item)

    def __setitem__(self, path: str, value: Any) -> None:
        self.put(path, value)

    def __delitem__(self, path: str) -> None:
        document = self.dump()
        if path not in document.get("items", {}):
            raise KeyError(path)
        del document["items"][path]
        self.load(document)

    def __contains__(self, path: object) -> bool:
        return path in self.dump().get("items", {})

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.dump().get("items", {})))

    def __len__(self) -> int:
        return len(self.dump().get("items", {}))

    def keys(self) -> List[str]:
        return list(self)


class FaultRule:
    """A fault rule on the server (``/__mockbin/faults/<id>``), as :meth:`Mockbin.fault` added it.

    ``rule.fired`` and ``rule.matched`` read the counters fresh from the
    server; ``rule.delete()`` removes the rule.
    """

    def __init__(self, handle: "Mockbin", document: Mapping[str, Any]) -> None:
        self._handle = handle
        self.document = dict(document)
        self.id: int = document["id"]

    def refresh(self) -> Dict[str, Any]:
        """The rule as the server shows it now (counters included)."""
        self.document = self._handle._admin_json("GET", f"/faults/{self.id}")
        return self.document

    @property
    def fired(self) -> int:
        """How many requests the rule acted on so far."""
        return int(self.refresh()["fired"])

    @property
    def matched(self) -> int:
        """How many requests met its method and path (fired or not, by probability)."""
        return int(self.refresh()["matched"])

    def delete(self) -> None:
        self._handle._admin("DELETE", f"/faults/{self.id}", expect=(204,))

    def __repr__(self) -> str:
        doc = self.document
        return f"<FaultRule #{self.id} {doc.get('method')} {doc.get('path')} {doc.get('fault')!r} {doc.get('when')}>"


def encode_item(value: Any, content_type: Optional[str] = None) -> Dict[str, Any]:
    """A store item for *value*: JSON values as ``body``, bytes and text as ``body_base64``."""
    if isinstance(value, (bytes, bytearray)):
        return {"content_type": content_type or "application/octet-stream",
                "body_base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, str) and content_type and "json" not in content_type:
        return {"content_type": content_type, "body_base64": base64.b64encode(value.encode()).decode("ascii")}
    return {"content_type": content_type or "application/json", "body": value}


def decode_item(item: Mapping[str, Any]) -> Any:
    if "body_base64" in item:
        return base64.b64decode(item["body_base64"])
    return item.get("body")


class Mockbin:
    """A running mockbin at *url*: build URLs, reset it, read and assert on its journal.

    ``str(h)`` and ``h.url`` are the base URL (no trailing slash);
    ``h + "/get"``, ``h("get", "x")``, ``h.url_for("/get", a=1)`` and
    ``h.join("get")`` build request URLs.
    """

    def __init__(
        self,
        url: str,
        ssl_context: Optional[ssl.SSLContext] = None,
        timeout: float = 10.0,
        token: Optional[str] = None,
    ) -> None:
        self.url = url.rstrip("/")
        # None: the environment's token; "": none at all.
        self._token = os.environ.get(TOKEN_ENV, "") if token is None else token
        parts = urlsplit(self.url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self._base_path = parts.path
        self._ssl_context = ssl_context
        self._timeout = timeout
        self.store = Store(self)
        #: Whether this handle added fault rules (the pytest plugin removes them after the test).
        self.added_faults = False

    # -- URLs ---------------------------------------------------------------

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<Mockbin {self.url}>"

    def __add__(self, other: str) -> str:
        return self.url + other

    def __call__(self, *parts: Any) -> str:
        """``h("status", 418)`` -> ``<url>/status/418`` (requests' test-suite style)."""
        return self.url + "/" + "/".join(str(part) for part in parts).lstrip("/")

    def url_for(self, path: str, **params: Any) -> str:
        """The URL of *path* under this server, with *params* as the query string."""
        url = self.url + "/" + path.lstrip("/")
        return f"{url}?{urlencode(params, doseq=True)}" if params else url

    def join(self, path: str, allow_fragments: bool = True) -> str:
        return urljoin(self.url + "/", path, allow_fragments=allow_fragments)

    # -- admin API ----------------------------------------------------------

    def _admin(self, method: str, path: str, body: Any = None, expect: Sequence[int] = (200,)) -> bytes:
        return self._call(method, self._base_path + ADMIN + path, body, expect)[0]

    def _call(
        self, method: str, target: str, body: Any = None, expect: Sequence[int] = (200,)
    ) -> Tuple[bytes, "http.client.HTTPMessage"]:
        """One admin request to *target* (a path with query); the body and headers of a success."""
        data = None if body is None else jsonlib.dumps(body).encode("utf-8")
        if self.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self._timeout, context=self._ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self._timeout)
        shown = target[len(self._base_path):] if target.startswith(self._base_path) else target
        try:
            headers = {"Content-Type": "application/json"} if data is not None else {}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            conn.request(method, target, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except OSError as exc:
            raise AdminError(f"mockbin at {self.url} did not answer {method} {shown}: {exc}") from None
        finally:
            conn.close()
        if response.status not in expect:
            detail = payload.decode("utf-8", "replace")
            try:
                detail = jsonlib.loads(payload).get("detail", detail)
            except (ValueError, AttributeError):
                pass
            if response.status == 401 and not self._token:
                detail += f" (give the handle token=..., or set {TOKEN_ENV})"
            raise AdminError(f"{method} {shown} on {self.url} answered {response.status}: {detail}")
        return payload, response.headers

    def _admin_json(self, method: str, path: str, body: Any = None, expect: Sequence[int] = (200,)) -> Any:
        return jsonlib.loads(self._admin(method, path, body, expect))

    def health(self) -> Dict[str, Any]:
        answer: Dict[str, Any] = self._admin_json("GET", "/health")
        return answer

    def reset(self) -> None:
        """Forget every recorded request and stored resource."""
        self._admin("POST", "/reset")

    # -- fault rules (docs/faults.md) ----------------------------------------

    def fault(
        self,
        fault: Union[str, Mapping[str, Any]],
        path: str = "*",
        method: Optional[str] = None,
        *,
        when: str = "before",
        times: Optional[int] = None,
        probability: Optional[float] = None,
        seed: Optional[int] = None,
    ) -> FaultRule:
        """Add a fault rule: requests to *path* (a glob) with *method* meet *fault*.

        *fault* is a kind (``"connection-reset"``, ``"empty-response"``,
        ``"malformed-chunk"``, ``"random-data-then-close"``,
        ``"truncated-body"``, ``"hang"``), ``{"delay": {"fixed": 0.5}}``
        (or ``uniform``/``lognormal``), or ``{"response": {"status": 503}}``.
        ``when="after"`` lets the handler run first (its writes are kept).
        The pytest fixtures remove the rules after the test.
        """
        document: Dict[str, Any] = {"path": path, "fault": fault, "when": when}
        if method is not None:
            document["method"] = method
        if times is not None:
            document["times"] = times
        if probability is not None:
            document["probability"] = probability
        if seed is not None:
            document["seed"] = seed
        rule = FaultRule(self, self._admin_json("POST", "/faults", document, expect=(201,)))
        self.added_faults = True
        return rule

    @property
    def faults(self) -> List[FaultRule]:
        """The server's fault rules in the order they are tried (a fresh read)."""
        return [FaultRule(self, rule) for rule in self._admin_json("GET", "/faults")]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._admin("DELETE", "/faults", expect=(204,))
        self.added_faults = False

    # -- journal ------------------------------------------------------------

    @property
    def requests(self) -> List[RecordedRequest]:
        """Every recorded request, oldest first (a fresh read each time, all pages)."""
        entries: List[Any] = []
        target: Optional[str] = self._base_path + ADMIN + "/requests"
        while target is not None:
            payload, headers = self._call("GET", target)
            entries.extend(jsonlib.loads(payload))
            target = _next_page(headers.get("Link", ""))
        return [RecordedRequest(entry) for entry in entries]

    @property
    def last_request(self) -> Optional[RecordedRequest]:
        entries = self._admin_json("GET", "/requests?limit=1")
        return RecordedRequest(entries[0]) if entries else None

    def clear_requests(self) -> None:
        self._admin("DELETE", "/requests", expect=(204,))

    def matching(self, method: Optional[str] = None, path: Union[str, Pattern[str], None] = None, **criteria: Any) -> List[RecordedRequest]:
        """The recorded requests that match (same criteria as :meth:`assert_requested`)."""
        wanted = Criteria(method, path, **criteria)
        return [req for req in self.requests if not wanted.differences(req)]

    def assert_requested(
        self,
        method: Optional[str] = None,
        path: Union[str, Pattern[str], None] = None,
        count: Optional[int] = None,
        **criteria: Any,
    ) -> List[RecordedRequest]:
        """Fail unless matching requests were received: *count* exactly, or at least one.

        Criteria: *method*, *path* (a string or a compiled regex, matched in
        full), ``json=`` (the parsed body equals), ``headers=`` (these headers
        have these values), ``args=`` (query args), ``body=`` (exact bytes).
        The failure message lists the closest requests received and how each differs.
        """
        __tracebackhide__ = True
        wanted = Criteria(method, path, **criteria)
        received = self.requests
        found = [req for req in received if not wanted.differences(req)]
        if (count is None and found) or (count is not None and len(found) == count):
            return found
        expected = "at least one request" if count is None else f"{count} request{'s' * (count != 1)}"
        message = f"expected {expected} matching {wanted.describe()}, received {len(found)}"
        raise AssertionError(message + "\n" + _report(wanted, received, found))

    def assert_not_requested(
        self, method: Optional[str] = None, path: Union[str, Pattern[str], None] = None, **criteria: Any
    ) -> None:
        """Fail if any received request matches (criteria as :meth:`assert_requested`)."""
        __tracebackhide__ = True
        wanted = Criteria(method, path, **criteria)
        received = self.requests
        found = [req for req in received if not wanted.differences(req)]
        if found:
            message = f"expected no request matching {wanted.describe()}, received {len(found)}"
            raise AssertionError(message + "\n" + _report(wanted, received, found))


def _next_page(link: str) -> Optional[str]:
    """The target of a ``Link: <...>; rel="next"`` header (path and query), or None."""
    match = _NEXT_PAGE.search(link)
    if match is None:
        return None
    parts = urlsplit(match.group(1))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def describe_request(req: RecordedRequest) -> str:
    query = f"?{req.query}" if req.query else ""
    body = f" body={_clip(req.text)!r}" if req.body else ""
    return f"#{req.id} {req.method} {req.path}{query} -> {req.status}{body}"


def _report(wanted: Criteria, received: List[RecordedRequest], found: List[RecordedRequest]) -> str:
    """The requests a reader needs to see to understand a failed assertion."""
    if not received:
        return "no request was received at all"
    if found:
        lines = [f"  {describe_request(req)}" for req in found[:CLOSEST]]
        more = len(found) - CLOSEST
        return "matching requests:\n" + "\n".join(lines) + (f"\n  ... and {more} more" if more > 0 else "")
    closest = sorted(received, key=wanted.closeness)[:CLOSEST]
    lines = []
    for req in closest:
        lines.append(f"  {describe_request(req)}\n      differs: {'; '.join(wanted.differences(req))}")
    return f"{len(received)} request{'s' * (len(received) != 1)} received; the closest:\n" + "\n".join(lines)


__all__ = ["AdminError", "Criteria", "FaultRule", "Mockbin", "RecordedRequest", "Store"]
