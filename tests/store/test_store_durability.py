"""Durability: SIGKILL every mockbin process mid-load; every acknowledged write survives.

Client threads PUT and POST as fast as they can against two workers on one
SQLite file and note each write the server acknowledged (a 2xx they fully
read).  The whole process group (arbiter and workers) is killed with
SIGKILL while they are at it; a new server on the same file must return
every acknowledged write, byte for byte, with the same ETag.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time
from typing import Dict, List, Tuple

from support.servers import HOST, ServerProcess, free_port, mockbin_argv
from support.stateful import wait_healthy

WRITERS = 4
LOAD_SECONDS = 1.5


def writer(port: int, client: int, stop: threading.Event, acked: List[Tuple[str, bytes, str]]) -> None:
    """PUT a new item, then POST one, until the server dies; record what was acknowledged."""
    n = 0
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
            while not stop.is_set():
                n += 1
                body = f"client {client} write {n}".encode()
                conn.request("PUT", f"/durable/c{client}/{n}", body, {"Content-Type": "text/plain"})
                response = conn.getresponse()
                response.read()
                if response.status == 201:
                    acked.append((f"/durable/c{client}/{n}", body, response.getheader("ETag")))
                posted = f'{{"client": {client}, "n": {n}}}'.encode()
                conn.request("POST", "/durable/log", posted, {"Content-Type": "application/json"})
                response = conn.getresponse()
                stored = response.read()
                if response.status == 201:
                    acked.append((response.getheader("Location"), stored, response.getheader("ETag")))
        except (OSError, http.client.HTTPException):
            return  # the server is gone: stop counting


def test_acknowledged_writes_survive_sigkill(tmp_path):
    database = tmp_path / "durable.db"
    args = ("--stateful", "--store", f"sqlite://{database}", "--workers", "2")
    port = free_port()
    server = ServerProcess(mockbin_argv(port, *args), port).start()
    wait_healthy(port)
    acked: List[Tuple[str, bytes, str]] = []
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(port, c, stop, acked)) for c in range(WRITERS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(LOAD_SECONDS)
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL  # arbiter and workers, mid-load
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        server.stop()
    assert len(acked) > 500, f"only {len(acked)} writes: the load was too light to mean anything"

    port = free_port()
    with ServerProcess(mockbin_argv(port, *args), port):
        wait_healthy(port)
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        lost: Dict[str, str] = {}
        for path, body, etag in acked:
            conn.request("GET", path)
            response = conn.getresponse()
            stored = response.read()
            if response.status != 200 or stored != body or response.getheader("ETag") != etag:
                lost[path] = f"{response.status} {stored[:60]!r}"
        conn.close()
    assert lost == {}, f"{len(lost)} of {len(acked)} acknowledged writes lost"
