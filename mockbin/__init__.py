"""mockbin: an httpbin you run yourself, byte-compatible with httpbin 0.10.4."""

from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["__version__", "create_app", "app", "Mockbin", "use_class_based_httpbin", "use_class_based_httpbin_secure"]

_LAZY = {
    "Mockbin": "mockbin.testing.client",
    "use_class_based_httpbin": "mockbin.testing.httpbin_compat",
    "use_class_based_httpbin_secure": "mockbin.testing.httpbin_compat",
}


def create_app(settings: Any = None) -> Any:
    """Build the WSGI application (see :func:`mockbin.app.create_app`)."""
    from .app import create_app as factory

    return factory(settings)


def __getattr__(name: str) -> Any:
    # ``gunicorn mockbin:app`` needs a module-level app; build it from the
    # MOCKBIN_* environment on first use so that importing mockbin (the pytest
    # plugin does) stays cheap and side-effect free.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    if name in _LAZY:
        # pytest-httpbin's decorators, importable from mockbin so a migration is
        # one import line; loaded on demand because they import pytest.
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mockbin' has no attribute {name!r}")
