"""mockbin under every engine that serves it, for the routes that take the connection over.

Faults, trailers and the WebSocket echo write to the client socket
themselves, so each engine must hand it over and then let go of the
request: mockbin's gunicorn workers (``--worker-class gevent``, the
default, ``gthread`` and ``sync``) and the pytest plugin's in-process
server.  Each engine runs with the journal on, the
stateful mode under ``/store`` and a short ``--max-duration``.
"""

from __future__ import annotations

from typing import Dict, List, Protocol

from .servers import ServerProcess, free_port, mockbin_argv

ENGINES = ("gevent", "gthread", "sync", "livesrv")
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


def start(name: str) -> Engine:
    if name == "livesrv":
        return LiveEngine()
    if name not in ENGINES:
        raise ValueError(name)
    port = free_port()
    engine = GunicornEngine(name, mockbin_argv(port, "--worker-class", name), port, _env())
    engine.start()
    return engine
