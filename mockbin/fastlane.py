"""The fast lane: the hottest echo routes answered without Flask's dispatch.

Flask's request context, routing, hooks and ``Response`` object cost about
three times what building an echo does.  For exact static paths of routes
marked ``fast=True`` in the route table, and only for the methods those
routes serve, this WSGI front door calls the very same handler and writes
the JSON answer straight to ``start_response``: same status line, same
headers in the same order, same bytes (the differential tests run every
request shape through both paths).  Everything else -- OPTIONS, 404, 405,
redirects, errors other than HTTP ones -- goes to Flask untouched.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Iterable, Tuple

from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Request, Response

from . import limits
from .cors import ALLOW_CREDENTIALS, add_cors_headers
from .jsonify import JSON, DeferredDict, echo_bytes, encode_pieces
from .routes import Route

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Handler = Callable[[Request], Any]

log = logging.getLogger("mockbin")
_JSON_TYPE = ("Content-Type", JSON)

#: Environ key under which the lane leaves the header list it passes to ``start_response`` when every
#: header in it is plain: no hop-by-hop name, an ASCII value with no blank at either end.  A server
#: adapter that rewrites heads (``serving.compat.GunicornLike``) passes that very list on as it is.
#: (A layer that changes a response's headers passes a new list.)
PLAIN_HEADERS = "mockbin.plain_headers"


#: What werkzeug's ``Request.__init__`` sets from the environ (see :class:`LeanRequest`).
_FROM_ENVIRON = frozenset(("method", "scheme", "server", "root_path", "path", "query_string", "headers", "remote_addr"))


class LeanRequest(Request):
    """A Werkzeug request that reads its environ only when asked.

    Werkzeug's constructor decodes the path, the root path, the server
    address and the query string and wraps the headers, for every request:
    a tenth of an echo's cost, for attributes the echo of a plain request
    never reads (it reads the environ).  Here the first read of any of them
    runs that very constructor; everything else is Werkzeug's own.
    """

    #: Werkzeug's cache of the body (set by get_data), read with getattr(): found here, not in __getattr__.
    _cached_data = None  # type: ignore[assignment]

    def __init__(self, environ: Dict[str, Any]) -> None:  # noqa: super().__init__ runs on first use
        self.environ = environ
        self.shallow = False

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set yet: the constructor's, before it ran.
        if name in _FROM_ENVIRON:
            Request.__init__(self, self.environ, populate_request=False)
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def lane_table(routes: Iterable[Route]) -> Dict[Tuple[str, str], Handler]:
    """``(path, method) -> handler`` for the fast routes; GET routes also answer HEAD."""
    table: Dict[Tuple[str, str], Handler] = {}
    for route in routes:
        if not route.fast or "<" in route.rule:
            continue
        for method in route.methods:
            if method == "OPTIONS":
                continue  # a preflight's headers are Flask's to write (the lane writes those of other requests)
            table[(route.rule, method)] = route.view
            if method == "GET":
                table[(route.rule, "HEAD")] = route.view
    return table


class FastLane:
    """WSGI middleware: answers ``table`` entries directly, hands the rest to *app*."""

    def __init__(self, app: WSGIApp, table: Dict[Tuple[str, str], Handler], max_body_size: int) -> None:
        self.app = app
        self.table = table
        self.max_body_size = max_body_size

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = self.table.get((environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")))
        if handler is None:
            return self.app(environ, start_response)
        return self.answer(handler, environ, start_response)

    def ahead_of(self, chain: WSGIApp, busy: object) -> WSGIApp:
        """*chain* (the layers around this lane), with the lane's own requests taken first while *busy* is false.

        For layers that do nothing to the lane's requests while *busy* (their
        work, such as the fault rules) is empty: an answer from here is the
        one the lane would give through them, without their calls.
        """
        table, answer = self.table, self.answer

        def front(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            handler = table.get((environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")))
            if handler is None or busy:
                return chain(environ, start_response)
            return answer(handler, environ, start_response)

        return front

    def answer(self, handler: Handler, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The lane's answer to a request for one of its routes, by *handler*."""
        request = LeanRequest(environ)  # not in the environ: no environ <-> request cycle
        try:
            limits.enforce(environ, self.max_body_size)
            value = handler(request)
            if isinstance(value, Response):  # a handler's non-JSON form (/ip?format=text)
                return add_cors_headers(value, environ)(environ, start_response)
            if type(value) is DeferredDict:  # a large body, echoed while it is sent
                length, pieces = encode_pieces(value)
            else:
                body = echo_bytes(value)
                length, pieces = len(body), [body]
        except HTTPException as exc:
            return add_cors_headers(exc.get_response(environ), environ)(environ, start_response)
        except Exception:
            log.exception("Exception on %s [%s]", environ.get("PATH_INFO"), environ.get("REQUEST_METHOD"))
            response = InternalServerError().get_response(environ)
            return add_cors_headers(response, environ)(environ, start_response)
        finally:
            if "files" in request.__dict__:
                request.close()  # uploaded files Werkzeug spooled to temporary files
        # cors_headers() of a request that is no preflight (the table has no OPTIONS), inline.
        headers = [
            _JSON_TYPE, ("Content-Length", str(length)),
            ("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN", "*")), ALLOW_CREDENTIALS,
        ]
        if "HTTP_ORIGIN" not in environ:
            environ[PLAIN_HEADERS] = headers  # the CORS value is "*": all four plain
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else pieces
