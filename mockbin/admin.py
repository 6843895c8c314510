"""mockbin's own API under ``/__mockbin/``: health, reset, and the hooks features plug into.

Every answer here is JSON; every error is an RFC 9457 problem document.
Features that keep state (the stateful store, the request journal) register
a reset hook with :func:`on_reset`, so ``POST /__mockbin/reset`` clears
them all in one call.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from flask import Blueprint, Flask, current_app

from . import __version__

ADMIN_PREFIX = "/__mockbin"
RESET_HOOKS = "mockbin.reset_hooks"

blueprint = Blueprint("admin", __name__)


def on_reset(app: Flask, hook: Callable[[], None]) -> None:
    """Have ``POST /__mockbin/reset`` call *hook*."""
    app.extensions.setdefault(RESET_HOOKS, []).append(hook)


@blueprint.get("/health")
def health() -> Dict[str, Any]:
    """mockbin's own liveness check, for container healthchecks and fixtures."""
    return {"status": "ok", "version": __version__}


@blueprint.post("/reset")
def reset() -> Dict[str, Any]:
    """Forget everything recorded or stored: store, journal, counters."""
    hooks: List[Callable[[], None]] = current_app.extensions.get(RESET_HOOKS, [])
    for hook in hooks:
        hook()
    return {"status": "reset"}


def register(app: Flask) -> None:
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)
