"""Documentation: the landing page and the OpenAPI description, both generated from the route table."""

from __future__ import annotations

from flask import Response, current_app
from werkzeug.wrappers import Request

from ..catalog import landing, openapi
from ..jsonify import json_response


def index(request: Request) -> Response:
    """This page: every route with its summary and a link to try it."""
    html = landing.page(current_app, request.script_root)
    return Response(html, content_type="text/html; charset=utf-8")


def openapi_json(request: Request) -> Response:
    """The OpenAPI 3.1 description of every route."""
    return json_response(openapi.document(current_app, request.script_root or None))
