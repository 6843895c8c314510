"""What a request looks like when httpbin echoes it back.

Each function computes one field of the echo object (``args``, ``data``,
``files``, ``form``, ``headers``, ``json``, ``method``, ``origin``, ``url``)
from a Werkzeug request, with httpbin 0.10.4's exact rules; :func:`echo`
assembles the fields an endpoint asks for.  The parsing itself is
Werkzeug's (the same library httpbin runs on), so query strings, forms,
multipart bodies and URLs decode the same way byte for byte.
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple, Union

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from .jsonify import loads_or_none
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


def text_or_data_url(raw: bytes, media_type: str = "application/octet-stream") -> str:
    """UTF-8 text as is; any other bytes as a base64 ``data:`` URL."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "data:" + media_type + ";base64," + base64.b64encode(raw).decode("ascii")


FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


def is_form(request: Request) -> bool:
    """Whether Werkzeug parses this body as a form (the media type, parameters ignored)."""
    content_type: str = request.environ.get("CONTENT_TYPE") or ""
    return content_type.split(";", 1)[0].strip().lower() in FORM_TYPES


def body(request: Request) -> bytes:
    """The raw body; empty when it was a form, which parsing consumed first."""
    return request.get_data(parse_form_data=is_form(request))


def args(request: Request) -> Dict[str, Scalar]:
    return flatten(request.args) if request.environ.get("QUERY_STRING") else {}


def form(request: Request) -> Dict[str, Scalar]:
    return flatten(request.form) if is_form(request) else {}


def data(request: Request) -> str:
    return text_or_data_url(body(request))


def json(request: Request) -> Any:
    return loads_or_none(body(request))


def files(request: Request) -> Dict[str, str]:
    """The first file of each multipart field, as text or a ``data:`` URL of its part type."""
    echoed: Dict[str, str] = {}
    if not is_form(request):
        return echoed
    for name, storage in request.files.items():  # items() yields the first file per name
        echoed[name] = text_or_data_url(
            storage.read(), storage.content_type or "application/octet-stream"
        )
    return echoed


_NAMES: Dict[str, str] = {}


def _header_name(cgi_key: str) -> str:
    """``HTTP_X_REAL_IP`` -> ``X-Real-Ip``, memoised for the few names clients send."""
    name = _NAMES.get(cgi_key)
    if name is None:
        name = (cgi_key[5:] if cgi_key.startswith("HTTP_") else cgi_key).replace("_", "-").title()
        if len(_NAMES) < 4096:
            _NAMES[cgi_key] = name
    return name


def header_fields(environ: Dict[str, Any]) -> Iterator[Tuple[str, str]]:
    """The request's header fields as ``(Title-Cased-Name, value)``, in arrival order.

    WSGI keeps no original spelling: names come back from their CGI form
    (``HTTP_X_REAL_IP``) through ``str.title()``, so ``X-Real-Ip``, as in
    httpbin; ``Content-Type`` and ``Content-Length`` only when non-empty.
    Repeated fields arrive already joined with commas by the server.
    """
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key != "HTTP_CONTENT_TYPE" and key != "HTTP_CONTENT_LENGTH":
                yield _header_name(key), value
        elif (key == "CONTENT_TYPE" or key == "CONTENT_LENGTH") and value:
            yield _header_name(key), value


def headers(request: Request) -> Dict[str, str]:
    """Request headers under title-cased names, proxy headers hidden unless ``?show_env``."""
    shown = dict(header_fields(request.environ))
    if not request.environ.get("QUERY_STRING") or "show_env" not in request.args:
        for name in [name for name in shown if name.lower() in ENV_HEADERS]:
            del shown[name]
    excluded = excluded_headers(request.environ)
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
    forwarded = request.environ.get("HTTP_X_FORWARDED_FOR")
    return forwarded if forwarded is not None else request.remote_addr


# Characters that Werkzeug's URL reconstruction passes through untouched; a
# request made only of these (the common case) skips the IRI round trip.
_PLAIN_HOST = re.compile(r"[a-z0-9.-]+(?::[0-9]+)?")
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,:;=@-]*)*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._~!$&'()*+,/:;=?@-]*")
_DEFAULT_PORT_SUFFIX = {"http": ":80", "https": ":443"}


def current_url(request: Request) -> str:
    """``request.url``, computed directly when every part is plain ASCII."""
    environ = request.environ
    host: Optional[str] = environ.get("HTTP_HOST")
    path: str = environ.get("PATH_INFO", "")
    query: str = environ.get("QUERY_STRING", "")
    scheme: str = environ.get("wsgi.url_scheme", "http")
    if (
        host is not None
        and not environ.get("SCRIPT_NAME")
        and _PLAIN_HOST.fullmatch(host)
        and "xn--" not in host
        and path.startswith("/")
        and not path.startswith("//")
        and _PLAIN_PATH.fullmatch(path)
        and _PLAIN_QUERY.fullmatch(query)
    ):
        suffix = _DEFAULT_PORT_SUFFIX.get(scheme)
        if suffix and host.endswith(suffix):
            host = host[: -len(suffix)]
        return scheme + "://" + host + path + ("?" + query if query else "")
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
    return request.method


FIELDS = {
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


def echo(request: Request, keys: Iterable[str]) -> Dict[str, Any]:
    """The echo object with just *keys*, computed in httpbin's order of side effects."""
    return {key: FIELDS[key](request) for key in keys}
