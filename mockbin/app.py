"""The application factory: routes, CORS, body limit, prefix, journal and the fast lane.

Request flow, outermost first::

    mount (settings into the environ; prefix -> SCRIPT_NAME)
      -> AdminGuard (only /__mockbin/*: no web pages, loopback Host, token; no CORS headers)
      -> JournalMiddleware (only with --journal; records every request but /__mockbin/)
        -> FaultMiddleware (fault rules of /__mockbin/faults; inert while there is none)
          -> FastLane (hot echo routes, no Flask dispatch)
            -> Flask (every route, automatic HEAD/OPTIONS, 404/405, errors)

Without ``--journal`` and while no fault rule exists, the fast lane's own
requests go from the mount straight to the lane (``FastLane.ahead_of``):
the layers between would pass them through untouched.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Optional

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, NotFound

from . import admin, faults, journal, limits, routes, store
from .cors import add_cors_headers
from .fastlane import FastLane, WSGIApp, lane_table
from .jsonify import HttpbinJSONProvider
from .settings import ENVIRON_KEY, Settings


def mount(app: WSGIApp, settings: Settings) -> WSGIApp:
    """Put the settings in every environ, guard the request body and serve under ``--prefix``.

    The settings reach every handler this one way (``settings_of(environ)``),
    in the fast lane and under Flask alike.  The body guard (``limits.guard``)
    goes in before anything reads the body, the journal included, so no layer
    ever takes a truncated or malformed body for a whole one.  With a prefix,
    the prefix moves from ``PATH_INFO`` to ``SCRIPT_NAME`` (as a WSGI mount
    point), so URLs, redirects and links built by the app carry it; paths
    outside the prefix get the 404 page.
    """
    prefix = settings.prefix
    max_body_size = settings.max_body_size

    def mounted(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[ENVIRON_KEY] = settings
        limits.guard(environ, max_body_size)
        if prefix:
            path = environ.get("PATH_INFO", "")
            if path != prefix and not path.startswith(prefix + "/"):
                response = add_cors_headers(NotFound().get_response(environ), environ)
                return response(environ, start_response)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :]
        return app(environ, start_response)

    return mounted


def create_app(settings: Optional[Settings] = None) -> Flask:
    """Build a mockbin WSGI app; *settings* default to the ``MOCKBIN_*`` environment."""
    settings = settings if settings is not None else Settings.from_env()
    app = Flask("mockbin", static_folder=None)
    app.json = HttpbinJSONProvider(app)
    table = routes.register(app)
    admin.register(app)

    max_body_size = settings.max_body_size

    @app.before_request
    def limit_body() -> None:
        limits.enforce(request.environ, max_body_size)

    stateful = store.install(app, settings)  # its hook runs after the limit
    if stateful is not None:
        admin.on_reset(app, stateful.clear)

    @app.after_request
    def cors(response: Response) -> Response:
        add_cors_headers(response, request.environ)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # What Flask answers by default (the exception's own response), made
        # here so the exception does not stay in the frame that caught it:
        # there, with its traceback, it would form a cycle holding the
        # request and its body until the garbage collector runs.
        response: Response = error.get_response(request.environ)  # type: ignore[assignment]
        return response

    @app.teardown_request
    def break_cycles(exc: Optional[BaseException]) -> None:
        # A 404 from routing (every stateful resource path) keeps its
        # traceback, whose frames hold the request context, the request and
        # its body: a cycle only the garbage collector would break.  (Flask
        # itself drops environ["werkzeug.request"]; the fast lane never sets it.)
        request.routing_exception = None

    lane = FastLane(app.wsgi_app, lane_table(table), max_body_size)
    faulty = faults.install(app, settings, lane)
    admin.on_reset(app, faulty.book.clear)
    wsgi: WSGIApp = faulty
    recorder = journal.install(app, settings)
    if recorder is not None:
        admin.on_reset(app, recorder.clear)
        wsgi = journal.JournalMiddleware(wsgi, recorder)
    wsgi = admin.AdminGuard(wsgi, settings)
    if recorder is None:
        # Without a journal, the layers between the mount and the lane leave the lane's paths alone (none is
        # under /__mockbin/) until a fault rule exists: its requests skip them.
        wsgi = lane.ahead_of(wsgi, faulty.book)
    app.wsgi_app = mount(wsgi, settings)  # type: ignore[method-assign,assignment]
    return app
