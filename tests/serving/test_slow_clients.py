"""Slow clients never take the default server down (a liveness check, not a benchmark).

A CI sidecar serves many test processes at once; before the gevent worker,
16 clients trickling their requests (or 16 ``/delay`` calls) were an outage
for everyone else.  Here 100 connections trickle a request head, 20 trickle
a body and 50 wait on ``/delay/3``, all at once, and an ordinary ``GET /get``
must still be answered within a few seconds.  benchmarks/bench_slow_clients.py
measures the same at full scale, with latencies.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Iterator, List

import pytest

from support.servers import HOST, ServerProcess, free_port, mockbin_argv

HEADS, BODIES, DELAYS = 100, 20, 50


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    with ServerProcess(mockbin_argv(port), port, env=env) as live:  # the defaults: what users run
        yield live


def get(port: int, timeout: float) -> bytes:
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(b"GET /get HTTP/1.1\r\nHost: mockbin\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


def test_get_is_answered_while_slow_clients_hold_connections(server: ServerProcess) -> None:
    opened: List[socket.socket] = []
    stop = threading.Event()

    def trickle(head: bytes) -> None:
        sock = socket.create_connection((HOST, server.port), timeout=10)
        opened.append(sock)
        try:
            sock.sendall(head)
            while not stop.wait(0.5):
                sock.sendall(b"a")
        except OSError:
            pass  # cut off by the server: that is allowed

    def delay() -> None:
        sock = socket.create_connection((HOST, server.port), timeout=10)
        opened.append(sock)
        try:
            sock.sendall(b"GET /delay/3 HTTP/1.1\r\nHost: mockbin\r\nConnection: close\r\n\r\n")
            sock.recv(65536)
        except OSError:
            pass

    threads = [threading.Thread(target=trickle, args=(b"GET /get HTTP/1.1\r\nHost: mockbin\r\nX-Slow: ",)) for _ in range(HEADS)]
    threads += [
        threading.Thread(target=trickle, args=(b"POST /post HTTP/1.1\r\nHost: mockbin\r\nContent-Length: 100000\r\n\r\n",))
        for _ in range(BODIES)
    ]
    threads += [threading.Thread(target=delay) for _ in range(DELAYS)]
    try:
        for thread in threads:
            thread.daemon = True
            thread.start()
        time.sleep(1.0)  # every slow client is connected and holding its connection
        started = time.monotonic()
        answer = get(server.port, timeout=10)
        took = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]
        assert took < 5, f"GET /get took {took:.1f} s behind {HEADS + BODIES + DELAYS} slow clients"
    finally:
        stop.set()
        for sock in opened:
            sock.close()
