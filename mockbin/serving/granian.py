"""mockbin under granian (``--server granian``): a Rust HTTP server with a WSGI interface.

granian parses HTTP in Rust and calls the WSGI app on a pool of blocking
threads, which makes it several times faster than gunicorn; it also speaks
HTTP/2 (``--http2``: ALPN over TLS, prior knowledge on cleartext).  It is
the optional extra ``fast`` (``pip install '.[fast]'`` in the mockbin clone).

Every setting means what it means under gunicorn:

=====================  ======================================================
``--workers``          granian worker processes
``--threads``          blocking threads per worker (those that run the app)
``--worker-connections``  granian's backpressure: requests one worker takes at once
``--graceful-timeout`` seconds a worker gets to finish after SIGTERM
``--log-level``        granian's log level; its messages go to stderr
``--access-log``,      written by mockbin itself (:class:`logs.AccessLog`),
``--log-format``       the same lines as under gunicorn, on stdout
``--tls-*``            granian's TLS (minimum TLS 1.2, as under gunicorn)
=====================  ======================================================

What granian cannot do is refused here at start: ``--timeout`` (granian has
no watchdog that restarts a stuck worker), ``--worker-class``.  The WSGI
environ granian builds differs from gunicorn's in a few ways; the app's
mount evens them out (:mod:`mockbin.serving.compat`).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Callable, Dict, Iterator, MutableMapping, Optional

from ..admin import exposure_warning
from ..settings import Settings, describe, fields
from .sockets import ServeError, bind_socket, raise_open_files
from .tls import prepare as prepare_tls

MISSING = "--server granian needs granian, the extra fast: pip install '.[fast]' in the mockbin clone"

#: Process environment variables granian would copy into every request's
#: environ (it starts each environ from ``os.environ``): a ``HTTP_PROXY``
#: variable would look like a ``Proxy`` request header.  Removed from the
#: worker's environment before granian copies it.
_CGI_NAMES = frozenset(
    {
        "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE", "PATH_INFO",
        "PATH_TRANSLATED", "QUERY_STRING", "RAW_URI", "REMOTE_ADDR", "REMOTE_HOST",
        "REMOTE_PORT", "REMOTE_USER", "REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME",
        "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    }
)

#: The app built in the main process (a check before any worker starts);
#: forked workers find it here and serve it as gunicorn's preload does.
_PRELOADED: Dict[str, Any] = {}


def _default(name: str) -> Any:
    return next(f.default for f in fields() if f.name == name)


def refuse_unsupported(settings: Settings) -> None:
    """Raise :class:`ServeError` for a setting granian cannot honour."""
    if settings.timeout != _default("timeout"):
        raise ServeError(
            f"{describe('timeout')} restarts a stuck gunicorn worker; granian has no such "
            "watchdog: drop it, or serve with --server gunicorn"
        )


def _scrub_process_environment() -> None:
    for name in list(os.environ):
        if name.startswith("HTTP_") or name in _CGI_NAMES or name.startswith("wsgi."):
            del os.environ[name]


class _EmptyOnFirstCopy(MutableMapping[str, str]):
    """``os.environ`` while granian takes its copy: the copy comes out empty, then the real one is back.

    granian starts every request's environ from a copy of the process
    environment taken right after the app is loaded (gunicorn puts none of
    it there).  Dozens of variables cost every request a few microseconds:
    granian merges them into each environ and the echo walks past them.
    The first copy (``dict()``, ``keys()``, iteration or ``copy()``) gets
    nothing and puts the real ``os.environ`` back; everything else reads
    and writes the real one.  The process environment itself is untouched.
    """

    def __init__(self, real: "os._Environ[str]") -> None:
        self.real = real

    def _copied(self) -> Dict[str, str]:
        current: object = os.environ
        if current is self:
            os.environ = self.real
        return {}

    def keys(self) -> Any:
        return self._copied().keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._copied())

    def copy(self) -> Dict[str, str]:
        return self._copied()

    def __len__(self) -> int:
        return len(self.real)

    def __getitem__(self, key: str) -> str:
        return self.real[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.real[key] = value

    def __delitem__(self, key: str) -> None:
        del self.real[key]


def load_app(settings: Settings) -> Callable[..., Any]:
    """The WSGI callable a granian worker serves (runs in the worker, before granian builds its environ)."""
    _scrub_process_environment()
    app = _PRELOADED.get("app")
    if app is None:  # a spawned (not forked) worker: build it here
        app = build(settings)
    if not isinstance(os.environ, _EmptyOnFirstCopy):
        os.environ = _EmptyOnFirstCopy(os.environ)  # type: ignore[assignment]  # granian copies it next
    return app


def build(settings: Settings, app_factory: Optional[Callable[[Settings], Any]] = None) -> Callable[..., Any]:
    """mockbin's WSGI app as granian serves it: environ evened out, access lines written."""
    from .compat import GunicornLike
    from .logs import AccessLog

    if app_factory is None:
        from ..app import create_app

        app_factory = create_app
    app = app_factory(settings)
    # A Flask app's __call__ only calls its wsgi_app: one call less per request.
    wsgi: Callable[..., Any] = GunicornLike(getattr(app, "wsgi_app", app), settings)
    if settings.access_log and settings.log_level in ("debug", "info"):
        wsgi = AccessLog(wsgi, settings.log_format)
    return wsgi


class QuietAdvice(logging.Filter):
    """Drop granian's advice about thread counts: ``--threads`` is the user's, documented choice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def log_config(settings: Settings) -> Dict[str, Any]:
    """granian's own messages on stderr, stamped as gunicorn stamps its error log."""
    return {
        "filters": {"quiet": {"()": QuietAdvice}},
        "formatters": {
            "generic": {
                "()": "logging.Formatter",
                "fmt": "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
                "datefmt": "%Y-%m-%d %H:%M:%S %z",
            },
            "access": {"()": "logging.Formatter", "fmt": "%(message)s"},
        },
        "handlers": {
            "console": {
                "formatter": "generic",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["quiet"],
            },
            "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        },
    }


def serve(settings: Settings, app_factory: Optional[Callable[[Settings], Any]] = None) -> None:
    """Serve mockbin under granian with *settings* until SIGTERM or SIGINT."""
    try:
        from granian.constants import HTTPModes, Interfaces, SSLProtocols
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server import Server
    except ImportError:
        raise ServeError(MISSING) from None
    refuse_unsupported(settings)
    tls = prepare_tls(settings)
    # granian binds in each worker; binding here first gives the same one-line
    # error for a busy port as under gunicorn, and turns port 0 into a real one.
    # Bound, not listening: a client that connects before granian listens is refused and
    # retries, rather than being accepted here and reset when the probe closes.
    probe = bind_socket(settings.host, settings.port, listen=False)
    port = probe.getsockname()[1]
    if tls is not None:
        tls.announce(settings, probe)
    probe.close()
    raise_open_files(settings.worker_connections * 2 + 256)

    _PRELOADED["app"] = build(settings, app_factory)  # errors surface before any worker starts
    warning = exposure_warning(settings)
    if warning is not None:
        logging.getLogger("mockbin").warning(warning)
    server = Server(
        "mockbin",
        address=settings.host,
        port=port,
        interface=Interfaces.WSGI,
        workers=settings.workers,
        blocking_threads=settings.threads,
        backpressure=settings.worker_connections,
        backlog=2048,
        http=HTTPModes.auto if settings.http2 else HTTPModes.http1,
        http1_settings=HTTP1Settings(keep_alive=True),
        websockets=False,
        log_level=LogLevels(settings.log_level),
        log_dictconfig=log_config(settings),
        log_access=False,  # mockbin writes the access lines (the same under both servers)
        ssl_cert=_path(tls.cert) if tls else None,
        ssl_key=_path(tls.key) if tls else None,
        ssl_protocol_min=SSLProtocols.tls12,
        workers_kill_timeout=settings.graceful_timeout or None,
        respawn_failed_workers=True,
        process_name=None,
    )
    server.serve(target_loader=functools.partial(load_app, settings), wrap_loader=False)


def _path(name: str) -> Any:
    from pathlib import Path

    return Path(name)
