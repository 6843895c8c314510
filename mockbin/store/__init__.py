"""The stateful mode: resources.py (HTTP semantics) over one Store backend.

:func:`open_store` picks the backend from a URL; :func:`install` wires the
mode into an app when ``--stateful`` is on.  Nothing here is imported, and
no store is opened, when the mode is off.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Optional

from flask import Flask

from ..settings import Settings, SettingsError, describe
from .base import UNLIMITED, Limits, Store, StoreUnavailable
from ..settings.store_urls import StoreURLError, parse_url

STORE_KEY = "mockbin.store"
RESOURCES_KEY = "mockbin.resources"

__all__ = ["STORE_KEY", "Limits", "Store", "open_store", "install", "current_store"]


def open_store(url: str, limits: Limits = UNLIMITED) -> Store:
    """Open the store *url* names; :class:`SettingsError` (one line) when it cannot be used."""
    try:
        spec = parse_url(url)
    except StoreURLError as exc:
        raise SettingsError(f"invalid value for {describe('store')}: {exc}") from None
    if spec.kind == "memory":
        from .memory import MemoryStore

        return MemoryStore(limits)
    if spec.kind == "sqlite":
        from .sqlite import SQLiteStore

        try:
            return SQLiteStore(spec.path, limits, spec.options.get("synchronous", "normal"))
        except StoreUnavailable as exc:
            raise SettingsError(f"cannot open the store: {exc}") from None
    try:
        from .redis import RedisStore

        store = RedisStore(_without_query(spec.url), spec.options["prefix"], limits)
    except ImportError:
        raise SettingsError(
            f"{describe('store')} {spec.url} needs the redis package: pip install redis "
            "(or, in a mockbin checkout, pip install '.[redis]')"
        ) from None
    except StoreUnavailable as exc:
        raise SettingsError(f"cannot open the store: {exc}") from None
    return store


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def default_url(settings: Settings) -> str:
    """memory:// for one worker; with more, an SQLite file they all share.

    The file lives in a fresh temporary directory that the process which
    created it removes at exit (gunicorn's arbiter, where the app is built).
    """
    if settings.workers <= 1:
        return "memory://"
    directory = tempfile.mkdtemp(prefix="mockbin-store-")
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    return "sqlite://" + os.path.join(directory, "store.db")


def install(app: Flask, settings: Settings) -> Optional[Store]:
    """Turn the stateful mode on for *app* if the settings ask for it."""
    if not settings.stateful:
        return None
    url = settings.store or default_url(settings)
    if parse_url(url).kind == "memory" and settings.workers > 1:
        raise SettingsError(
            f"{describe('store')} memory:// keeps the data inside one process, but "
            f"{describe('workers')} is {settings.workers}; use sqlite:///path or redis://host:port/db, "
            "or leave --store empty for an embedded SQLite file"
        )
    store = open_store(url, Limits(settings.store_max_items, settings.store_max_bytes))
    from . import resources

    app.extensions[STORE_KEY] = store
    app.extensions[RESOURCES_KEY] = resources.register(app, store, settings)
    return store


def current_store(app: Flask) -> Optional[Store]:
    return app.extensions.get(STORE_KEY)
