"""The application factory: routes, CORS, body limit, prefix and the fast lane.

Request flow, outermost first::

    mount (prefix -> SCRIPT_NAME, per-app environ keys)
      -> JournalMiddleware (only with --journal; records every request but /__mockbin/)
      -> FastLane (hot echo routes, no Flask dispatch)
        -> Flask (every route, automatic HEAD/OPTIONS, 404/405, errors)
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from flask import Flask, Response, request
from werkzeug.exceptions import NotFound

from . import admin, journal, limits, routes, store
from .echo import EXCLUDED_HEADERS_KEY, exclusion_pattern
from .fastlane import FastLane, WSGIApp, lane_table
from .http import HttpbinJSONProvider, add_cors_headers
from .settings import Settings


def mount(app: WSGIApp, settings: Settings) -> WSGIApp:
    """Put per-app values in the environ and serve under ``--prefix``.

    With a prefix, the prefix moves from ``PATH_INFO`` to ``SCRIPT_NAME``
    (as a WSGI mount point), so URLs, redirects and links built by the app
    carry it; paths outside the prefix get the 404 page.
    """
    prefix = settings.prefix
    excluded = exclusion_pattern(settings.exclude_headers)

    def mounted(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if excluded is not None:
            environ[EXCLUDED_HEADERS_KEY] = excluded
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
    app.extensions["mockbin"] = settings
    routes.register(app)
    admin.register(app)

    max_body_size = settings.max_body_size

    @app.before_request
    def limit_body() -> None:
        limits.enforce(request.environ, max_body_size)

    store.install(app, settings)  # the stateful mode, when on; its hook runs after the limit

    @app.after_request
    def cors(response: Response) -> Response:
        return add_cors_headers(response, request.environ)

    lane = FastLane(app.wsgi_app, lane_table(routes.route_table()), max_body_size)
    app.wsgi_app = mount(journal.install(app, lane, settings), settings)  # type: ignore[method-assign]
    return app
