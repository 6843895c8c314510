"""mockbin under gunicorn (the default server), started from Python (no shell-out).

:func:`serve` binds the listening socket itself before handing it to
gunicorn: a busy port or a bad address then fails at once with one clear
line (gunicorn alone would retry for five seconds and exit 1), and port 0
works (the kernel picks a free port, which gunicorn logs).
"""

from __future__ import annotations

import socket
from typing import Any, Callable, Dict, Optional

from gunicorn.app.base import BaseApplication

from ..admin import exposure_warning
from ..settings import Settings
from .sockets import ServeError, bind_socket, raise_open_files
from .tls import TLSFiles, prepare as prepare_tls
from .workers import WORKER_CLASSES, Arbiter

__all__ = ["ServeError", "bind_socket", "gunicorn_options", "serve"]


def gunicorn_options(
    settings: Settings, sock: socket.socket, tls: Optional[TLSFiles] = None
) -> Dict[str, Any]:
    """The gunicorn configuration that *settings* stand for."""
    return {
        "bind": [f"fd://{sock.fileno()}"],
        "workers": settings.workers,
        # gunicorn counts threads for gthread only (it would turn a sync
        # worker with threads into gthread): sync and gevent get 1.
        "threads": settings.threads if settings.worker_class == "gthread" else 1,
        "worker_connections": settings.worker_connections,
        # gunicorn's workers, except that SIGTERM makes the port refuse new
        # connections at once (see workers.py); gevent is mockbin's own.
        "worker_class": WORKER_CLASSES[settings.worker_class],
        "certfile": tls.cert if tls else None,
        "keyfile": tls.key if tls else None,
        "timeout": settings.timeout,
        "graceful_timeout": settings.graceful_timeout,
        "loglevel": settings.log_level,
        # Access lines (stdout) are info-level events: --log-level warning hides them too.
        "accesslog": "-" if settings.access_log and settings.log_level in ("debug", "info") else None,
        "errorlog": "-",  # stderr
        "logger_class": "mockbin.serving.logs.JsonLogger" if settings.log_format == "json" else None,
        # Build the app once in the arbiter: configuration errors surface
        # before any worker forks, and workers start faster.
        "preload_app": True,
        "proc_name": "mockbin",
        # gunicorn 24+ opens a control socket in $HOME by default; several
        # mockbin servers on one machine must not fight over it.
        "control_socket_disable": True,
    }


class GunicornRunner(BaseApplication):
    """gunicorn's arbiter serving one already-built WSGI app."""

    def __init__(self, load_app: Callable[[], Any], options: Dict[str, Any]) -> None:
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            # Settings an older gunicorn does not know are skipped, not fatal.
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load_app()

    def run(self) -> None:
        try:
            Arbiter(self).run()
        except RuntimeError as exc:
            raise ServeError(str(exc)) from None


def serve(settings: Settings, app_factory: Optional[Callable[[Settings], Any]] = None) -> None:
    """Serve mockbin with *settings* until gunicorn is told to stop."""
    if app_factory is None:
        from ..app import create_app

        app_factory = create_app
    factory = app_factory

    tls = prepare_tls(settings)
    sock = bind_socket(settings.host, settings.port)
    if tls is not None:
        tls.announce(settings, sock)
    raise_open_files(settings.worker_connections + 256)
    options = gunicorn_options(settings, sock, tls)
    warning = exposure_warning(settings)
    if warning is not None:  # one line in gunicorn's error log, once the server is up
        options["when_ready"] = lambda server: server.log.warning(warning)
    # gunicorn takes the descriptor over (it keeps a copy and closes this
    # one): closing it again here, in the arbiter or a forked worker, fails.
    sock.detach()
    GunicornRunner(lambda: factory(settings), options).run()
