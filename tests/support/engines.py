"""mockbin under every engine that serves it, for the routes that take the connection over.

Faults, trailers and the WebSocket echo write to the client socket
themselves, so each engine must hand it over and then let go of the
request: gunicorn's gthread worker (``mockbin serve``'s default with
threads), its sync worker (``--threads 1``), its gevent worker, and the
pytest plugin's in-process server.  Each engine runs with the journal on, the
stateful mode under ``/store`` and a short ``--max-duration``.
"""

from __future__ import annotations

import sys
from typing import Dict, List, Protocol

from .servers import HOST, ServerProcess, free_port, gunicorn_control_socket_flags, mockbin_argv

ENGINES = ("gthread", "sync", "gevent", "livesrv")
MAX_DURATION = 3.0
SETTINGS: Dict[str, str] = {
    "journal": "1",
    "stateful": "1",
    "store_prefix": "/store",
    "max_duration": str(MAX_DURATION),
}


class Engine(Protocol):
    name: str
    port: int

    @property
    def url(self) -> str: ...

    def output(self) -> str: ...

    def stop(self) -> object: ...


def _env() -> Dict[str, str]:
    return {"MOCKBIN_" + name.upper(): value for name, value in SETTINGS.items()}


class GunicornEngine(ServerProcess):
    def __init__(self, name: str, argv: List[str], port: int, env: Dict[str, str]) -> None:
        super().__init__(argv, port, env)
        self.name = name


class LiveEngine:
    """The pytest plugin's server (mockbin.testing.livesrv) in this process."""

    name = "livesrv"

    def __init__(self) -> None:
        from mockbin import create_app
        from mockbin.settings import Settings

        from mockbin.testing.livesrv import LiveServer

        self.server = LiveServer(create_app(Settings.from_sources(dict(SETTINGS), {}))).start()
        self.port = self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def output(self) -> str:
        return ""

    def stop(self) -> None:
        self.server.stop()


def require_gevent_worker() -> None:
    """Skip (saying why) when gunicorn's gevent worker cannot load here."""
    import pytest

    try:
        import gunicorn.workers.ggevent  # noqa: F401  (checks the gevent version itself)
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"gunicorn's gevent worker cannot load: {exc} (pip install 'gevent>=24.10.1')")


def start(name: str) -> Engine:
    if name == "livesrv":
        return LiveEngine()
    port = free_port()
    if name == "gthread":
        engine = GunicornEngine(name, mockbin_argv(port), port, _env())
    elif name == "sync":
        engine = GunicornEngine(name, mockbin_argv(port, "--threads", "1"), port, _env())
    elif name == "gevent":
        require_gevent_worker()
        argv = [
            sys.executable, "-m", "gunicorn", "mockbin.app:create_app()", "-k", "gevent", "-w", "1",
            "-b", f"{HOST}:{port}", "--log-level", "warning", *gunicorn_control_socket_flags(),
        ]
        engine = GunicornEngine(name, argv, port, _env())
    else:
        raise ValueError(name)
    engine.start()
    return engine
