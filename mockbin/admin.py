"""mockbin's own API under ``/__mockbin/``: health, reset, the store, and the hooks features plug into.

Every answer here is JSON; every error is an RFC 9457 problem document.
Features that keep state (the stateful store, the request journal) register
a reset hook with :func:`on_reset`, so ``POST /__mockbin/reset`` clears
them all in one call.  ``/__mockbin/store`` exports, seeds and clears the
stateful mode's store (format: mockbin/store/documents.py).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Tuple

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from .version import __version__
from .problems import Problem
from .settings import ADMIN_PREFIX
from .store import RESOURCES_KEY, STORE_KEY
from .store.base import StoreError

RESET_HOOKS = "mockbin.reset_hooks"

blueprint = Blueprint("admin", __name__)


def on_reset(app: Flask, hook: Callable[[], None]) -> None:
    """Have ``POST /__mockbin/reset`` call *hook*."""
    app.extensions.setdefault(RESET_HOOKS, []).append(hook)


@blueprint.get("/health")
def health() -> Dict[str, Any]:
    """mockbin's own liveness check, for container healthchecks and fixtures."""
    answer = {"status": "ok", "version": __version__}
    store = current_app.extensions.get(STORE_KEY)
    if store is not None:
        answer["store"] = store.kind
    return answer


@blueprint.post("/reset")
def reset() -> Dict[str, Any]:
    """Forget everything recorded or stored: store, journal, counters."""
    hooks: List[Callable[[], None]] = current_app.extensions.get(RESET_HOOKS, [])
    for hook in hooks:
        hook()
    return {"status": "reset"}


def _store() -> Tuple[Any, Any]:
    """The store and its path rules, or a 404 problem when the stateful mode is off."""
    store = current_app.extensions.get(STORE_KEY)
    if store is None:
        raise Problem(
            "stateful-off", "there is no store: start mockbin with --stateful (MOCKBIN_STATEFUL=1)"
        )
    return store, current_app.extensions[RESOURCES_KEY]


@blueprint.errorhandler(StoreError)
def _store_error(exc: StoreError) -> BaseResponse:
    return exc.problem().get_response()


@blueprint.get("/store")
def export_store() -> Response:
    """Everything stored, as one JSON document (items by path, collection counters).

    Items are listed in creation order (not sorted like httpbin's JSON), so
    seeding the document back recreates collections in the same order.
    """
    from .store.documents import export

    store, _ = _store()
    body = json.dumps(export(*store.dump()), indent=2) + "\n"
    return Response(body.encode("ascii"), content_type="application/json")


@blueprint.put("/store")
def seed_store() -> Response:
    """Replace the whole store with the document in the body (the format GET returns)."""
    from .store.documents import parse

    store, resources = _store()
    try:
        document = json.loads(request.get_data())
        items, counters = parse(document, resources.paths.seed_problem)
    except (ValueError, RecursionError) as exc:
        raise Problem("bad-store-document", str(exc)) from None
    store.load(items, counters)
    return Response(status=204)


@blueprint.delete("/store")
def clear_store() -> Response:
    """Forget every stored item, counter and idempotency record."""
    store, _ = _store()
    store.clear()
    return Response(status=204)


def register(app: Flask) -> None:
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)
