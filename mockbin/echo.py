"""What a request looks like when httpbin echoes it back.

Each function computes one field of the echo object (``args``, ``data``,
``files``, ``form``, ``headers``, ``json``, ``method``, ``origin``, ``url``)
from a Werkzeug request, with httpbin 0.10.4's exact rules; :func:`echo`
assembles the fields an endpoint asks for.  The parsing itself is
Werkzeug's (the same library httpbin runs on), so query strings, forms,
multipart bodies and URLs decode the same way byte for byte.

Memory: a body (or uploaded file) of :data:`LARGE` bytes or more is echoed
through a :class:`LargeText`, whose JSON string is escaped piece by piece
while it is sent, so an echo costs about the body once, not four or five
times over; such a body's parsed JSON is written the same way
(``jsonify.EncodedLater``), and a JSON body that would hold more than
``--max-json-values`` values is refused (413) before it is parsed.
"""

from __future__ import annotations

import base64
import codecs
import functools
import re
from json.encoder import encode_basestring_ascii as _escape  # C accelerated
from typing import Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from .jsonify import Deferred, DeferredDict, EncodedLater, loads_or_none
from .limits import JSON_PROBE, JSON_SETTLED_SIZE, check_json, probably_json
from .settings import settings_of

Scalar = Union[str, List[str]]

# Request headers httpbin hides from echoes unless the query has a show_env key:
# they are added by hosting proxies, not sent by the client under test.
ENV_HEADERS: FrozenSet[str] = frozenset(
    name.lower()
    for name in (
        "X-Varnish",
        "X-Request-Start",
        "X-Heroku-Queue-Depth",
        "X-Real-Ip",
        "X-Forwarded-Proto",
        "X-Forwarded-Protocol",
        "X-Forwarded-Ssl",
        "X-Heroku-Queue-Wait-Time",
        "X-Forwarded-For",
        "X-Heroku-Dynos-In-Use",
        "X-Forwarded-Port",
        "X-Request-Id",
        "Via",
        "Total-Route-Time",
        "Connect-Time",
    )
)

# The key sets of httpbin's echo endpoints.
GET_KEYS = ("args", "headers", "origin", "url")
BODY_KEYS = ("args", "data", "files", "form", "headers", "json", "origin", "url")
ANYTHING_KEYS = BODY_KEYS + ("method",)


def flatten(multi: "MultiDict[str, str]") -> Dict[str, Scalar]:
    """A key seen once maps to its value, a repeated key to the list of its values."""
    flat: Dict[str, Scalar] = {}
    for key, values in multi.lists():
        flat[key] = values[0] if len(values) == 1 else values
    return flat


def text_or_data_url(raw: bytes, media_type: str = "application/octet-stream") -> Union[str, "LargeText"]:
    """UTF-8 text as is; any other bytes as a base64 ``data:`` URL (a :class:`LargeText` when large)."""
    if len(raw) >= LARGE:
        return LargeText(raw, media_type)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "data:" + media_type + ";base64," + base64.b64encode(raw).decode("ascii")


#: Bodies from this size on are echoed by a :class:`LargeText`.
LARGE = 64 * 1024
_STEP = 3 * 256 * 1024  # bytes per piece: whole base64 quanta, about 1 MiB of text escaped


class LargeText(Deferred):
    """:func:`text_or_data_url` of a large body as a JSON string, made piece by piece when sent.

    The same rule and the same bytes as the in-memory path: UTF-8 text is
    escaped as the standard library escapes it (``ensure_ascii``), anything
    else becomes a base64 ``data:`` URL.  One pass over the body settles
    which and measures the result (the ``Content-Length``); the pieces are
    made again as they are written, so neither the decoded text nor the
    escaped answer is ever held whole.
    """

    def __init__(self, raw: bytes, media_type: str) -> None:
        self.raw = raw
        self.prefix = _escape("data:" + media_type + ";base64,")[:-1].encode("ascii")
        try:
            self.text = True
            self.length = 2 + sum(len(piece) for piece in self._escaped())
        except UnicodeDecodeError:
            self.text = False
            self.length = len(self.prefix) + 4 * ((len(raw) + 2) // 3) + 1

    def _escaped(self) -> Iterator[bytes]:
        """The escaped text, without quotes, in pieces; UnicodeDecodeError if *raw* is not UTF-8."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        view = memoryview(self.raw)
        size = len(view)
        for start in range(0, size, _STEP):
            chunk = decoder.decode(view[start : start + _STEP], start + _STEP >= size)
            yield _escape(chunk)[1:-1].encode("ascii")

    def pieces(self) -> Iterator[bytes]:
        if self.text:
            yield b'"'
            yield from self._escaped()
            yield b'"'
            return
        yield self.prefix
        view = memoryview(self.raw)
        for start in range(0, len(view), _STEP):
            yield base64.b64encode(view[start : start + _STEP])
        yield b'"'


FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


_FORM_BY_TYPE: Dict[str, bool] = {}


def is_form(request: Request) -> bool:
    """Whether Werkzeug parses this body as a form (the media type, parameters ignored)."""
    content_type: str = request.environ.get("CONTENT_TYPE") or ""
    form = _FORM_BY_TYPE.get(content_type)
    if form is None:
        form = content_type.split(";", 1)[0].strip().lower() in FORM_TYPES
        if len(_FORM_BY_TYPE) < 1024:  # clients send few distinct types
            _FORM_BY_TYPE[content_type] = form
    return form


def body(request: Request) -> bytes:
    """The raw body; empty when it was a form, which parsing consumed first."""
    if is_form(request):
        return request.get_data(parse_form_data=True)
    return _raw_body(request)


def _raw_body(request: Request) -> bytes:
    """:func:`body` of a request whose body is no form."""
    cached: Optional[bytes] = getattr(request, "_cached_data", None)
    if cached is not None:
        return cached
    environ = request.environ
    if (
        "wsgi.input_terminated" in environ
        and getattr(type(request), "max_content_length", True) is None
        and "stream" not in request.__dict__
    ):
        # What get_data() reads here (a terminated input, no length cap: the
        # body guard is the cap), without the stream wrappers it would set up.
        data: bytes = environ["wsgi.input"].read()
        request._cached_data = data
        return data
    return request.get_data()


def args(request: Request) -> Dict[str, Scalar]:
    return flatten(request.args) if request.environ.get("QUERY_STRING") else {}


def form(request: Request) -> Dict[str, Scalar]:
    return flatten(request.form) if is_form(request) else {}


def data(request: Request) -> Union[str, LargeText]:
    return text_or_data_url(body(request))


def json(request: Request) -> Any:
    """The body parsed as JSON (None when it is not), within ``--max-json-values`` and ``--max-json-expansion``."""
    return parsed_json(body(request), request.environ)


def parsed_json(raw: bytes, environ: Dict[str, Any]) -> Any:
    """:func:`json` of the body *raw*."""
    if not _MAY_BE_JSON.match(raw) or (len(raw) > JSON_PROBE and not probably_json(raw)):
        return None  # what json.loads would conclude, without decoding a large body first
    settings = settings_of(environ)
    if len(raw) > settings.max_json_values or len(raw) > JSON_SETTLED_SIZE:  # else within budget whatever it holds
        check_json(raw, settings.max_json_values, settings.max_json_expansion)
    value = loads_or_none(raw)
    if len(raw) >= LARGE and isinstance(value, (dict, list)):
        return EncodedLater(value)  # written while sent: the answer is never held whole
    return value


# What json.loads (as httpbin calls it) can accept as the first non-blank character.
_MAY_BE_JSON = re.compile(rb'[ \t\n\r]*[-\[{"0-9tfnNI]')


def files(request: Request) -> Dict[str, Union[str, LargeText]]:
    """The first file of each multipart field, as text or a ``data:`` URL of its part type."""
    echoed: Dict[str, Union[str, LargeText]] = {}
    if not is_form(request):
        return echoed
    for name, storage in request.files.items():  # items() yields the first file per name
        echoed[name] = text_or_data_url(
            storage.read(), storage.content_type or "application/octet-stream"
        )
    return echoed


#: CGI key -> (title-cased name, whether httpbin hides it unless ``?show_env``, whether only a non-empty value
#: counts), or ``()`` for a key that is no header field; memoised for the few keys clients and servers send.
_KEYS: Dict[str, Tuple[Any, ...]] = {}


def _key_info(cgi_key: str) -> Tuple[Any, ...]:
    """``HTTP_X_REAL_IP`` -> ``("X-Real-Ip", True, False)``; ``wsgi.input`` -> ``()``.

    A header field is an ``HTTP_*`` key, except ``HTTP_CONTENT_TYPE`` and
    ``HTTP_CONTENT_LENGTH`` (a server's copies), or ``CONTENT_TYPE`` and
    ``CONTENT_LENGTH`` when not empty.  WSGI keeps no original spelling:
    names come back through ``str.title()`` (``X-Real-Ip``), as in httpbin.
    """
    info = _KEYS.get(cgi_key)
    if info is None:
        info = ()  # no header field
        if cgi_key.startswith("HTTP_"):
            if cgi_key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                info = _named(cgi_key[5:], False)
        elif cgi_key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            info = _named(cgi_key, True)
        if len(_KEYS) < 4096 and len(cgi_key) <= 64:  # clients send few names, most short
            _KEYS[cgi_key] = info
    return info


def _named(bare_key: str, needs_value: bool) -> Tuple[str, bool, bool]:
    name = bare_key.replace("_", "-").title()
    return name, name.lower() in ENV_HEADERS, needs_value


#: The environ's keys, in order -> ``(key, name, hidden, needs_value)`` of its header fields (see
#: :func:`_key_info`): clients send the same few header sets over and over.
_FIELD_KEYS: Dict[Tuple[str, ...], List[Tuple[str, str, bool, bool]]] = {}


def _field_keys(environ: Dict[str, Any]) -> List[Tuple[str, str, bool, bool]]:
    keys = tuple(environ)
    found = _FIELD_KEYS.get(keys)
    if found is None:
        found = []
        for key in keys:
            info = _key_info(key)
            if info:
                found.append((key, *info))
        if len(_FIELD_KEYS) < 1024 and len(keys) <= 64 and sum(map(len, keys)) <= 2048:  # a few KiB each at most
            _FIELD_KEYS[keys] = found
    return found


def header_fields(environ: Dict[str, Any]) -> Iterator[Tuple[str, str]]:
    """The request's header fields as ``(Title-Cased-Name, value)``, in arrival order (see :func:`_key_info`).

    Repeated fields arrive already joined with commas by the server.
    """
    for key, name, _, needs_value in _field_keys(environ):
        value = environ[key]
        if value or not needs_value:
            yield name, value


def headers(request: Request) -> Dict[str, str]:
    """Request headers under title-cased names, in arrival order, proxy headers hidden unless ``?show_env``.

    :func:`header_fields`, in one pass.
    """
    environ = request.environ
    show_env = bool(environ.get("QUERY_STRING")) and "show_env" in request.args
    shown: Dict[str, str] = {}
    for key, name, hidden, needs_value in _field_keys(environ):
        value = environ[key]
        if (value or not needs_value) and (show_env or not hidden):
            shown[name] = value
    excluded = excluded_headers(environ)
    if excluded is not None:
        for name in [name for name in shown if excluded.fullmatch(name)]:
            del shown[name]
    return shown


def excluded_headers(environ: Dict[str, Any]) -> Optional["re.Pattern[str]"]:
    """The ``--exclude-headers`` pattern of the app serving this request, or None."""
    names = settings_of(environ).exclude_headers
    return exclusion_pattern(names) if names else None


def exclusion_pattern(patterns: Iterable[str]) -> Optional["re.Pattern[str]"]:
    """One case-insensitive regex for ``--exclude-headers`` names (``*`` is a wildcard)."""
    return _exclusion_pattern(tuple(patterns))


@functools.lru_cache(maxsize=16)
def _exclusion_pattern(patterns: Tuple[str, ...]) -> Optional["re.Pattern[str]"]:
    alternatives = [".*".join(re.escape(part) for part in p.split("*")) for p in patterns]
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def origin(request: Request) -> Optional[str]:
    """X-Forwarded-For verbatim when present (even empty), else the peer address."""
    environ = request.environ
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    return forwarded if forwarded is not None else environ.get("REMOTE_ADDR")  # request.remote_addr


# Characters that Werkzeug's URL reconstruction passes through untouched; a
# request made only of these (the common case) skips the IRI round trip.
_PLAIN_HOST = re.compile(r"[a-z0-9.-]+(?::[0-9]+)?")
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,:;=@-]*)*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._~!$&'()*+,/:;=?@-]*")
_DEFAULT_PORT_SUFFIX = {"http": ":80", "https": ":443"}


#: (scheme, Host, path) -> the URL without its query, or "" when a part is not plain.
_URLS: Dict[Tuple[str, str, str], str] = {}


def _plain_url(scheme: str, host: str, path: str) -> str:
    url = _URLS.get((scheme, host, path))
    if url is None:
        url = ""
        if (
            _PLAIN_HOST.fullmatch(host)
            and "xn--" not in host
            and path[:1] == "/"
            and path[1:2] != "/"
            and _PLAIN_PATH.fullmatch(path)
        ):
            suffix = _DEFAULT_PORT_SUFFIX.get(scheme)
            url = scheme + "://" + (host[: -len(suffix)] if suffix and host.endswith(suffix) else host) + path
        if len(_URLS) < 4096 and len(host) + len(path) <= 256:  # clients ask for few URLs, most short: 1 MiB at most
            _URLS[(scheme, host, path)] = url
    return url


def current_url(request: Request) -> str:
    """``request.url``, computed directly when every part is plain ASCII."""
    environ = request.environ
    host: Optional[str] = environ.get("HTTP_HOST")
    if host is not None and not environ.get("SCRIPT_NAME"):
        url = _plain_url(environ.get("wsgi.url_scheme", "http"), host, environ.get("PATH_INFO", ""))
        query: str = environ.get("QUERY_STRING", "")
        if url and not query:
            return url
        if url and _PLAIN_QUERY.fullmatch(query):
            return url + "?" + query
    full: str = request.url
    return full


def url(request: Request) -> str:
    """The request URL, its scheme replaced by what a proxy says it was."""
    full = current_url(request)
    environ = request.environ
    scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("HTTP_X_FORWARDED_PROTOCOL")
    if not scheme and environ.get("HTTP_X_FORWARDED_SSL") == "on":
        scheme = "https"
    if scheme:
        full = scheme + full[full.index(":") :]
    return full


def method(request: Request) -> str:
    # request.method, read from the environ: the fast lane's request builds nothing it is not asked for.
    name: str = request.environ.get("REQUEST_METHOD", "GET")
    return name.upper()


FIELDS: Dict[str, Callable[[Request], Any]] = {
    "args": args,
    "data": data,
    "files": files,
    "form": form,
    "headers": headers,
    "json": json,
    "method": method,
    "origin": origin,
    "url": url,
}


#: Fields computed from the body.
_BODY_FIELDS = frozenset(("data", "files", "form", "json"))
_RAW_FIELDS = frozenset(("data", "files", "form"))


class _Plan(NamedTuple):
    """How :func:`echo` computes a key set."""

    fields: List[Tuple[str, Callable[[Request], Any]]]  # every key and the function computing it, in order
    from_body: FrozenSet[str]  # the keys computed from the body
    others: List[Tuple[str, Callable[[Request], Any]]]  # the rest, in order
    whole: bool  # data, files and form among them: a usual body's fields can be set at once


#: keys -> their plan: the few key sets the routes ask for.
_PLANS: Dict[Tuple[str, ...], _Plan] = {}


def _plan(keys: Tuple[str, ...]) -> _Plan:
    fields = [(key, FIELDS[key]) for key in keys]
    from_body = _BODY_FIELDS.intersection(keys)
    others = [(key, compute) for key, compute in fields if key not in from_body]
    return _Plan(fields, from_body, others, from_body >= _RAW_FIELDS)


def echo(request: Request, keys: Tuple[str, ...]) -> Dict[str, Any]:
    """The echo object with just *keys*, computed in httpbin's order of side effects.

    With a large body or file among them, a :class:`DeferredDict` (see :class:`LargeText`).
    The answers are written with sorted keys: the object's own order is free.
    """
    plan = _PLANS.get(keys)
    if plan is None:
        plan = _PLANS[keys] = _plan(keys)
    if not plan.from_body:
        return {key: compute(request) for key, compute in plan.fields}  # no body among them: nothing is deferred
    if plan.whole and not is_form(request):
        raw = _raw_body(request)
        if len(raw) < LARGE:
            # The usual body: no form, echoed in memory. Its fields straight from the one read, the
            # same values their functions give; the others have no side effects to order.
            fields = {key: compute(request) for key, compute in plan.others}
            fields["data"] = text_or_data_url(raw)
            fields["files"] = {}
            fields["form"] = {}
            if "json" in plan.from_body:
                fields["json"] = parsed_json(raw, request.environ)
            return fields
    fields = {key: compute(request) for key, compute in plan.fields}
    deferred = [value for value in (fields.get("data"), fields.get("json")) if isinstance(value, Deferred)]
    files = fields.get("files")
    if files:
        deferred += [value for value in files.values() if isinstance(value, Deferred)]
    return DeferredDict(fields, deferred) if deferred else fields
