"""Cookies: /cookies lists them; /cookies/set, /cookies/set/<name>/<value> and /cookies/delete
change them and redirect back to /cookies.

``Set-Cookie`` is spelled by Werkzeug, as for httpbin: values that need it
are quoted with backslash-octal escapes, ``Secure`` is added when the
request came over https, every cookie has ``Path=/``.  (The control
characters 0x1A-0x1F, which Werkzeug forgets to escape and so make httpbin
answer 500, are escaped the same way: see :func:`mockbin.wire.set_cookie`.)
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from flask import Response, redirect, url_for
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from ..problems import Problem
from .wire import set_cookie as add_cookie, value_problem

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
    return _back_to_cookies(request, {name: value}.items(), delete=False)


def set_cookies(request: Request) -> BaseResponse:
    """Set a cookie per query parameter (first value of each), then redirect to /cookies."""
    return _back_to_cookies(request, request.args.items(), delete=False)


def delete_cookies(request: Request) -> BaseResponse:
    """Expire the cookies named in the query string, then redirect to /cookies."""
    return _back_to_cookies(request, request.args.items(), delete=True)


def _back_to_cookies(request: Request, cookies: Iterable[Any], delete: bool) -> BaseResponse:
    cookies = list(cookies)
    for name, _ in cookies:
        refused = _name_problem(name)
        if refused is not None:
            raise Problem("invalid-cookie", refused)
    response = redirect(url_for("cookies.list_cookies"))
    secure = request.environ.get("wsgi.url_scheme") == "https"
    for name, value in cookies:
        if delete:
            response.delete_cookie(name)
        else:
            add_cookie(response, name, value, secure=secure)
    return response


def _name_problem(name: str) -> Optional[str]:
    """Why *name* cannot head a Set-Cookie header (values are always escaped; names are not).

    Werkzeug sends a name as its UTF-8 bytes, so only control characters
    can make the header unsendable; httpbin answers those with a 500.
    """
    reason = value_problem(name.encode("utf-8", "surrogateescape").decode("latin-1"))
    return None if reason is None else f"The cookie name {name!r} cannot be sent: {reason}."
