"""The application factory: routes, CORS, body limit, the fast lane."""

from __future__ import annotations

from typing import Optional

from flask import Flask, Response, request

from . import limits, routes
from .fastlane import FastLane, lane_table
from .http import HttpbinJSONProvider, add_cors_headers
from .settings import Settings


def create_app(settings: Optional[Settings] = None) -> Flask:
    """Build a mockbin WSGI app; *settings* default to the ``MOCKBIN_*`` environment."""
    settings = settings if settings is not None else Settings.from_env()
    app = Flask("mockbin", static_folder=None)
    app.json = HttpbinJSONProvider(app)
    app.extensions["mockbin"] = settings
    routes.register(app)

    max_body_size = settings.max_body_size

    @app.before_request
    def limit_body() -> None:
        limits.enforce(request.environ, max_body_size)

    @app.after_request
    def cors(response: Response) -> Response:
        return add_cors_headers(response, request.environ)

    app.wsgi_app = FastLane(  # type: ignore[method-assign]
        app.wsgi_app, lane_table(routes.route_table()), max_body_size
    )
    return app
