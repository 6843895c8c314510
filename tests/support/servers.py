"""Live servers for tests: real processes on real loopback sockets."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Optional, Sequence

HOST = "127.0.0.1"


def free_port() -> int:
    """A port that is free now, in the 5-digit ephemeral range (same width for every server)."""
    while True:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port >= 10000:
            return port


def wait_for_port(port: int, process: Optional[subprocess.Popen] = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {HOST}:{port} within {timeout}s")


class ServerProcess:
    """A server subprocess; its output goes to a temp file shown when start-up fails."""

    def __init__(self, argv: Sequence[str], port: int, env: Optional[Dict[str, str]] = None) -> None:
        self.argv = list(argv)
        self.port = port
        self.env = dict(os.environ, **(env or {}))
        self.process: Optional[subprocess.Popen] = None
        self.log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 20.0) -> "ServerProcess":
        self.process = subprocess.Popen(
            self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(self.port, self.process, timeout)
        except RuntimeError as exc:
            output = self.output()
            self.stop()
            raise RuntimeError(f"{exc}: {' '.join(self.argv)}\n{output}") from None
        return self

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> Optional[int]:
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        code = self.process.returncode
        self.log.close()
        return code

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mockbin_argv(port: int, *extra: str) -> List[str]:
    return [sys.executable, "-m", "mockbin", "serve", "--port", str(port), "--log-level", "warning", *extra]


def gunicorn_control_socket_flags() -> List[str]:
    """gunicorn 24+ opens a control socket in $HOME unless told not to; older ones lack the flag."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


#: gunicorn flags that serve the oracle under mockbin's default worker class
#: (gevent, as httpbin's own container runs it), for the differential pairs.
DEFAULT_WORKER_FOR_ORACLE = ("--worker-class", "mockbin.serving.workers.GeventWorker")


def pair_worker_args() -> List[str]:
    """The gunicorn worker both sides of the over-sockets differential pairs run under.

    mockbin's default (gevent) unless ``MOCKBIN_TEST_WORKER_CLASS`` names another one
    (``sync``, ``gthread``): ``MOCKBIN_TEST_WORKER_CLASS=sync python -m pytest -k over_sockets``
    runs the whole differential suite with httpbin and mockbin under that worker.
    """
    kind = os.environ.get("MOCKBIN_TEST_WORKER_CLASS", "")
    if not kind:
        return []
    return ["--worker-class", kind, "--threads", "4" if kind == "gthread" else "1"]


def oracle_argv(port: int, *extra: str) -> List[str]:
    """httpbin 0.10.4 as its docs run it: gunicorn, default sync worker (*extra* may change it)."""
    return [
        sys.executable, "-m", "gunicorn", "httpbin:app", "-b", f"{HOST}:{port}",
        "--log-level", "warning", *gunicorn_control_socket_flags(), *extra,
    ]


@contextlib.contextmanager
def granian_oracle(pair_oracle: "ServerProcess") -> Iterator["ServerProcess"]:
    """The oracle that mockbin under granian is compared with.

    granian's heads read as gunicorn's default worker writes them: the live
    pair's oracle, unless ``MOCKBIN_TEST_WORKER_CLASS`` put the pair under
    another worker (sync closes every connection); then one of its own.
    """
    if not pair_worker_args():
        yield pair_oracle
        return
    port = free_port()
    with ServerProcess(oracle_argv(port, *DEFAULT_WORKER_FOR_ORACLE), port) as oracle:
        yield oracle


LOW_DURATION = "0.3"
LOW_SIZE = "1000"


def low_limit_argv(port: int) -> List[str]:
    """A mockbin with tiny limits, so tests reach their edges in a fraction of a second."""
    return mockbin_argv(
        port, "--workers", "1", "--worker-class", "sync",
        "--max-duration", LOW_DURATION, "--max-generated-size", LOW_SIZE,
    )
