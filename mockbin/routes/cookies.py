"""Cookies: /cookies lists them; /cookies/set, /cookies/set/<name>/<value> and /cookies/delete
change them and redirect back to /cookies.

``Set-Cookie`` is spelled by Werkzeug, as for httpbin: values that need it
are quoted with backslash-octal escapes, ``Secure`` is added when the
request came over https, every cookie has ``Path=/``.  (The control
characters 0x1A-0x1F, which Werkzeug forgets to escape and so make httpbin
answer 500, are escaped the same way: see :func:`mockbin.wire.set_cookie`.)

go-httpbin reads ``attr[Name]=value`` parameters of ``/cookies/set`` and
``/cookies/delete`` as attributes of every cookie the request sets
(``attr[SameSite]=Lax``, ``attr[Path]=/app``).  To httpbin they are cookies
named ``attr[SameSite]``, and httpbin's answer must not change, so mockbin
reads them as attributes only with ``--cookie-attributes`` on.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

from flask import Response, redirect, url_for
from werkzeug.http import parse_date
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from ..problems import Problem
from ..settings import settings_of
from .query import invalid
from .wire import set_cookie as add_cookie, value_problem

_ATTRIBUTE = re.compile(r"attr\[([^\]]*)\]\Z")
#: go-httpbin's attribute names (case does not matter) -> Werkzeug's ``dump_cookie`` argument.
ATTRIBUTES = {
    "path": "path",
    "domain": "domain",
    "expires": "expires",
    "max-age": "max_age",
    "maxage": "max_age",
    "secure": "secure",
    "httponly": "httponly",
    "samesite": "samesite",
    "partitioned": "partitioned",
}
_FLAGS = ("secure", "httponly", "partitioned")
_TRUE = ("true", "1", "yes", "on", "")
_FALSE = ("false", "0", "no", "off")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}

# Analytics cookies of the hosted httpbin.org, hidden unless the query has show_env.
TRACKING_COOKIES = (
    "_gauges_unique",
    "_gauges_unique_year",
    "_gauges_unique_month",
    "_gauges_unique_day",
    "_gauges_unique_hour",
    "__utmz",
    "__utma",
    "__utmb",
)


def list_cookies(request: Request) -> Dict[str, Any]:
    """The request's cookies (first value of each name; tracking cookies hidden unless ?show_env)."""
    cookies = dict(request.cookies.items())
    if "show_env" not in request.args:
        for name in TRACKING_COOKIES:
            cookies.pop(name, None)
    return {"cookies": cookies}


def set_cookie(request: Request, name: str, value: str) -> BaseResponse:
    """Set one cookie, then redirect to /cookies."""
    return _back_to_cookies(request, {name: value}.items(), delete=False, attributes={})


def set_cookies(request: Request) -> BaseResponse:
    """Set a cookie per query parameter (first value of each), then redirect to /cookies."""
    cookies, attributes = _cookies_and_attributes(request)
    return _back_to_cookies(request, cookies, delete=False, attributes=attributes)


def delete_cookies(request: Request) -> BaseResponse:
    """Expire the cookies named in the query string, then redirect to /cookies."""
    cookies, attributes = _cookies_and_attributes(request)
    return _back_to_cookies(request, cookies, delete=True, attributes=attributes)


def _cookies_and_attributes(request: Request) -> Tuple[List[Tuple[str, str]], Dict[str, Any]]:
    """The query's cookies; and, with ``--cookie-attributes``, its ``attr[Name]`` parameters as attributes."""
    pairs = list(request.args.items())
    if not settings_of(request.environ).cookie_attributes:
        return pairs, {}
    cookies, attributes = [], {}
    for key, value in pairs:
        match = _ATTRIBUTE.match(key)
        if match is None:
            cookies.append((key, value))
            continue
        argument = ATTRIBUTES.get(match.group(1).lower())
        if argument is None:
            raise invalid(key, value, f"a cookie attribute ({', '.join(sorted(set(ATTRIBUTES) - {'maxage'}))})")
        attributes[argument] = _attribute(key, argument, value)
    return cookies, attributes


def _attribute(key: str, argument: str, value: str) -> Any:
    """One attribute's value, as ``dump_cookie`` takes it; a 400 problem when it makes no sense."""
    lowered = value.strip().lower()
    if argument in _FLAGS:
        if lowered not in _TRUE + _FALSE:
            raise invalid(key, value, "true or false")
        return lowered in _TRUE
    if argument == "samesite":
        if lowered not in _SAMESITE:
            raise invalid(key, value, "Strict, Lax or None")
        return _SAMESITE[lowered]
    if argument == "max_age":
        try:
            return int(value)
        except ValueError:
            raise invalid(key, value, "a whole number of seconds") from None
    if argument == "expires":
        when = parse_date(value)
        if when is None:
            raise invalid(key, value, "an HTTP date such as Wed, 21 Oct 2026 07:28:00 GMT")
        return when
    if value_problem(value) is not None or ";" in value:
        raise invalid(key, value, "text that can be sent in a cookie attribute (no ';' or control characters)")
    return value or None


def _back_to_cookies(request: Request, cookies: Iterable[Any], delete: bool, attributes: Dict[str, Any]) -> BaseResponse:
    cookies = list(cookies)
    for name, _ in cookies:
        refused = _name_problem(name)
        if refused is not None:
            raise Problem("invalid-cookie", refused)
    response = redirect(url_for("cookies.list_cookies"))
    https = request.environ.get("wsgi.url_scheme") == "https"
    for name, value in cookies:
        if delete:
            # httpbin's delete_cookie(name); the attributes say which cookie (path, domain) to expire.
            kept = {key: setting for key, setting in attributes.items() if key not in ("max_age", "expires")}
            response.delete_cookie(name, **kept)
        else:
            options = dict(attributes)
            add_cookie(response, name, value, secure=options.pop("secure", https), **options)
    return response


def _name_problem(name: str) -> Optional[str]:
    """Why *name* cannot head a Set-Cookie header (values are always escaped; names are not).

    Werkzeug sends a name as its UTF-8 bytes, so only control characters
    can make the header unsendable; httpbin answers those with a 500.
    """
    reason = value_problem(name.encode("utf-8", "surrogateescape").decode("latin-1"))
    return None if reason is None else f"The cookie name {name!r} cannot be sent: {reason}."
