"""Redirects: /redirect/<n>, /relative-redirect/<n>, /absolute-redirect/<n> and /redirect-to.

The chains end at ``/get`` after exactly *n* hops.  Every URL is built with
``url_for``, so it carries the ``--prefix`` mount point and, when absolute,
the scheme and ``Host`` of the request, as httpbin's do.

``/redirect-to`` sends the client wherever its ``url`` query parameter
says, like httpbin, unless ``--allowed-redirect-domains`` restricts the
hosts (see :mod:`mockbin.redirect_policy`).  Input that httpbin turns into a
500 or an unusable ``Location`` gets a 400 naming the problem.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Union

from flask import Response, redirect, url_for
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from . import redirect_policy
from ..echo import GET_KEYS, echo
from ..problems import Problem
from ..settings import describe, settings_of
from .wire import value_problem


Answer = Union[BaseResponse, Dict[str, Any]]


def _chain_end(request: Request) -> Dict[str, Any]:
    """What ``/get`` answers: the destination of a chain with no hops left."""
    return echo(request, GET_KEYS)


def redirect_n(request: Request, n: int) -> Answer:
    """Redirect n times (relative URLs; absolute with ?absolute=true), then /get."""
    if n == 0:
        return _chain_end(request)
    absolute = request.args.get("absolute", "false").lower() == "true"
    if n == 1:
        return redirect(url_for("methods.get", _external=absolute))
    if absolute:
        return redirect(url_for("redirects.absolute_redirect", n=n - 1, _external=True))
    return redirect(url_for("redirects.relative_redirect", n=n - 1))


def relative_redirect(request: Request, n: int) -> Answer:
    """Redirect n times with relative Location headers and an empty body, then /get."""
    if n == 0:
        return _chain_end(request)
    response = Response(b"", status=302)
    if n == 1:
        response.headers["Location"] = url_for("methods.get")
    else:
        response.headers["Location"] = url_for("redirects.relative_redirect", n=n - 1)
    return response


def absolute_redirect(request: Request, n: int) -> Answer:
    """Redirect n times with absolute URLs, then /get."""
    if n == 0:
        return _chain_end(request)
    if n == 1:
        return redirect(url_for("methods.get", _external=True))
    return redirect(url_for("redirects.absolute_redirect", n=n - 1, _external=True))


def query_value(request: Request, name: str) -> Optional[str]:
    """The first query value whose key equals *name* ignoring case (httpbin's lookup)."""
    for key, value in request.args.items(multi=True):
        if key.lower() == name:
            return value
    return None


def redirect_to(request: Request) -> Response:
    """Redirect to the url query parameter, with status_code (3xx) if given, for any method."""
    status = _redirect_status(query_value(request, "status_code"))
    url = _usable_target(query_value(request, "url"))
    allowed = settings_of(request.environ).allowed_redirect_domains
    refusal = redirect_policy.refusal(url, allowed)
    if refusal is not None:
        raise _forbidden(refusal, allowed)
    response = Response(b"", status=status)
    response.headers["Location"] = url  # Werkzeug sends it IRI->URI encoded, as for httpbin
    return response


def _redirect_status(text: Optional[str]) -> int:
    """302, or the status_code parameter when it is a 3xx; 400 when it is not a number."""
    if text is None:
        return 302
    try:
        code = int(text)
    except ValueError:
        raise _bad(f"status_code={text!r} is not a number; use a 3xx code such as 301 or 307.") from None
    return code if 300 <= code < 400 else 302


def _usable_target(url: Optional[str]) -> str:
    """The url parameter; a 400 when it is missing or cannot become a ``Location`` header."""
    if url is None:
        raise _bad("The url query parameter is required, e.g. /redirect-to?url=/get.")
    if "\r" in url or "\n" in url:
        raise _bad("The url contains a line break (CR or LF), which a Location header cannot carry.")
    try:
        encoded = iri_to_uri(url)
    except (ValueError, UnicodeError) as exc:
        raise _bad(f"The url {url!r} is not a valid URL: {exc}.") from None
    problem_text = value_problem(encoded)
    if problem_text is not None:
        raise _bad(f"The url cannot be sent as a Location header: {problem_text}.")
    return url


def _bad(detail: str) -> Problem:
    return Problem("invalid-redirect", detail)


def _forbidden(refused: str, allowed: Tuple[str, ...]) -> Problem:
    detail = (
        f"This server does not redirect to {refused}. Allowed hosts: {', '.join(allowed)}; "
        f"relative URLs are always allowed. Set by {describe('allowed_redirect_domains')}."
    )
    return Problem("redirect-not-allowed", detail, allowed_hosts=list(allowed))
