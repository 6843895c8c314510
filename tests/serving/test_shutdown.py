"""Graceful shutdown, as ``docker stop`` does it: SIGTERM to the main process only.

Users rely on three things: a request already being served when the signal
arrives still gets its full answer; new connections are refused at once
(so clients and load balancers fail over instead of hanging); and the
process exits 0 — within the grace period even when a request outlasts it,
so Docker never needs SIGKILL.  Every gunicorn worker class is covered:
gevent (the default), gthread and sync.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from typing import Iterator, List

import pytest

from mockbin.serving.healthcheck import HEALTH_PATH, Unhealthy, check
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

WORKERS = ["gevent", "gthread", "sync"]
# Several workers: the idle ones find the listener shut down before their
# SIGTERM arrives, and must stop as cleanly as the busy one.
SEVERAL = [
    *[pytest.param(kind, "1", id=kind) for kind in WORKERS],
    *[pytest.param(kind, "3", id=f"{kind}-3-workers") for kind in WORKERS],
]


def start(worker_class: str, *extra: str) -> ServerProcess:
    """A mockbin that answers HTTP, so gunicorn's signal handlers are in place.

    The port listens before gunicorn starts (mockbin binds it first), and a
    signal that arrives before gunicorn's handlers does not test gunicorn.
    """
    port = free_port()
    server = ServerProcess(mockbin_argv(port, "--worker-class", worker_class, *extra), port).start()
    deadline = time.monotonic() + 20
    while True:
        try:
            check(f"{server.url}{HEALTH_PATH}", timeout=2)
            return server
        except Unhealthy:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.05)


def terminate(server: ServerProcess) -> float:
    """SIGTERM to the arbiter alone (not its process group), as Docker sends it to PID 1."""
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGTERM)
    return time.monotonic()


def refused_within(port: int, seconds: float) -> bool:
    """Whether connecting to *port* is refused (not merely left waiting) within *seconds*."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def exit_status(server: ServerProcess, timeout: float) -> int:
    assert server.process is not None
    try:
        return server.process.wait(timeout)
    finally:
        server.stop()  # closes the log; kills only if still running


@pytest.fixture
def trickle() -> Iterator[List[socket.socket]]:
    opened: List[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def open_upload(port: int, opened: List[socket.socket]) -> socket.socket:
    """A chunked POST /post whose body is still being sent: a request in flight."""
    sock = socket.create_connection((HOST, port), timeout=10)
    opened.append(sock)
    sock.sendall(
        b"POST /post HTTP/1.1\r\nHost: mockbin\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nfirst\r\n"
    )
    time.sleep(0.3)  # let a worker pick it up
    return sock


@pytest.mark.parametrize("worker_class, workers", SEVERAL)
def test_in_flight_upload_completes_new_connections_refused_exit_0(
    worker_class: str, workers: str, trickle: List[socket.socket]
) -> None:
    server = start(worker_class, "--workers", workers, "--graceful-timeout", "20")
    sock = open_upload(server.port, trickle)
    signalled = terminate(server)

    assert refused_within(server.port, 5.0), "the port still accepted connections after SIGTERM"
    assert server.process is not None and server.process.poll() is None, "exited with a request in flight"
    for word in (b"-second", b"-third"):
        time.sleep(0.2)
        sock.sendall(b"%x\r\n%s\r\n" % (len(word), word))
    sock.sendall(b"0\r\n\r\n")
    answer = read_all(sock)
    sock.close()

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    assert json.loads(body)["data"] == "first-second-third"
    assert server.process.wait(10) == 0
    log = server.output()
    assert "Traceback" not in log and "exited with code" not in log, log
    assert exit_status(server, 1) == 0
    # It exits once the request is done, not at the end of the 20 s grace period.
    assert time.monotonic() - signalled < 10


@pytest.mark.parametrize("worker_class", WORKERS)
def test_in_flight_delay_completes_new_connections_refused_exit_0(
    worker_class: str, trickle: List[socket.socket]
) -> None:
    server = start(worker_class, "--graceful-timeout", "20")
    sock = socket.create_connection((HOST, server.port), timeout=10)
    trickle.append(sock)
    sock.sendall(b"GET /delay/2 HTTP/1.1\r\nHost: mockbin\r\nConnection: close\r\n\r\n")
    time.sleep(0.3)
    terminate(server)

    assert refused_within(server.port, 1.0), "the port still accepted connections after SIGTERM"
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]
    assert exit_status(server, 10) == 0


@pytest.mark.parametrize("worker_class", WORKERS)
def test_request_outlasting_the_grace_period_is_cut_and_exit_is_still_0(
    worker_class: str, trickle: List[socket.socket]
) -> None:
    server = start(worker_class, "--graceful-timeout", "1")
    sock = open_upload(server.port, trickle)
    signalled = terminate(server)

    assert exit_status(server, 10) == 0
    # One second of grace, plus gunicorn's own bookkeeping (about one poll interval).
    assert time.monotonic() - signalled < 6
    assert read_all(sock) == b""  # the unfinished upload got no answer


def ctrl_c(server: ServerProcess) -> None:
    """What a terminal's Ctrl-C does: SIGINT to the whole foreground process group."""
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGINT)


@pytest.mark.parametrize("worker_class", WORKERS)
def test_ctrl_c_drains_like_sigterm(worker_class: str, trickle: List[socket.socket]) -> None:
    """A first Ctrl-C finishes the request in flight, refuses new connections and exits 0."""
    server = start(worker_class, "--graceful-timeout", "20")
    sock = socket.create_connection((HOST, server.port), timeout=10)
    trickle.append(sock)
    sock.sendall(b"GET /delay/2 HTTP/1.1\r\nHost: mockbin\r\nConnection: close\r\n\r\n")
    time.sleep(0.3)
    ctrl_c(server)

    assert refused_within(server.port, 1.0), "the port still accepted connections after Ctrl-C"
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]
    assert server.process is not None and server.process.wait(10) == 0
    assert "Traceback" not in server.output(), server.output()
    server.stop()


@pytest.mark.parametrize("worker_class", WORKERS)
def test_second_ctrl_c_stops_at_once(worker_class: str, trickle: List[socket.socket]) -> None:
    server = start(worker_class, "--graceful-timeout", "30")
    sock = socket.create_connection((HOST, server.port), timeout=15)
    trickle.append(sock)
    sock.sendall(b"GET /delay/8 HTTP/1.1\r\nHost: mockbin\r\nConnection: close\r\n\r\n")
    time.sleep(0.3)
    ctrl_c(server)
    time.sleep(0.5)
    assert server.process is not None and server.process.poll() is None, "the first Ctrl-C did not drain"
    signalled = time.monotonic()
    ctrl_c(server)
    try:
        server.process.wait(5)
    except subprocess.TimeoutExpired:
        pytest.fail("a second Ctrl-C did not stop mockbin within 5 s")
    finally:
        server.stop()
    assert time.monotonic() - signalled < 5
    assert not read_all(sock).startswith(b"HTTP/1.1 200 "), "the /delay/8 in flight was not cut"
