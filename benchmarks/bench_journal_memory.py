"""Memory of the request journal under large requests, and the size of one journal listing.

Starts ``mockbin serve --journal`` (one sync worker) on a free port, sends
``--requests`` GETs that each carry ``--headers`` header fields of ``--field``
bytes (the defaults, 95 x 8000 bytes = 742 KiB, sit just under gunicorn's own
limits of 100 fields of 8190 bytes), then reads the journal back the way a
client does: ``GET /__mockbin/requests``, following ``Link: rel="next"``
pages when the server sends them.  Prints the worker's RSS before and after,
the number of entries kept, and the largest single response.

    python benchmarks/bench_journal_memory.py
    python benchmarks/bench_journal_memory.py --requests 300 -- --journal-max-bytes 16MiB

Arguments after ``--`` go to ``mockbin serve``.  Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

HOST = "127.0.0.1"
NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (``VmRSS``) or at its peak so far (``VmHWM``), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def worker_pid(arbiter: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{arbiter}/task/{arbiter}/children") as children:
                pids = children.read().split()
        except FileNotFoundError:
            pids = []
        if pids:
            return int(pids[0])
        time.sleep(0.05)
    raise RuntimeError("gunicorn started no worker")


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {HOST}:{port}")


def call(port: int, method: str, path: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def read_journal(port: int) -> Tuple[int, int, int]:
    """Entries read, pages fetched, and the largest response body in bytes."""
    path: Optional[str] = "/__mockbin/requests"
    entries = pages = largest = 0
    while path:
        status, headers, body = call(port, "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:200]!r}")
        pages += 1
        largest = max(largest, len(body))
        entries += len(json.loads(body))
        match = NEXT.search(headers.get("link", ""))
        path = match.group(1) if match else None
    return entries, pages, largest


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--headers", type=int, default=95, help="header fields per request")
    parser.add_argument("--field", type=int, default=8000, help="bytes per header value")
    parser.add_argument("serve_args", nargs="*", help="extra `mockbin serve` arguments (after --)")
    args = parser.parse_args(argv)

    port = free_port()
    command = [sys.executable, "-m", "mockbin", "serve", "--port", str(port), "--journal",
               "--journal-size", str(max(args.requests, 1)), "--workers", "1", "--worker-class", "sync",
               "--log-level", "warning", "--no-access-log", *args.serve_args]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port)
        worker = worker_pid(server.pid)
        call(port, "GET", "/get")
        call(port, "DELETE", "/__mockbin/requests")
        before = rss_mib(worker)
        value = "v" * args.field
        headers = {f"X-Filler-{i:03d}": value for i in range(args.headers)}
        started = time.monotonic()
        for _ in range(args.requests):
            status, _, _ = call(port, "GET", "/get", headers)
            if status != 200:
                raise RuntimeError(f"GET /get answered {status}")
        sent = time.monotonic() - started
        after = rss_mib(worker)
        entries, pages, largest = read_journal(port)
        read = rss_mib(worker)
        peak = rss_mib(worker, "VmHWM")
        per_request = args.headers * args.field / 1024
        print(f"mockbin serve {' '.join(args.serve_args) or '(defaults)'}")
        print(f"sent {args.requests} requests with {per_request:,.0f} KiB of headers each in {sent:.1f} s")
        print(f"worker RSS: {before:,.0f} MiB before, {after:,.0f} MiB after, {read:,.0f} MiB after reading the journal, peak {peak:,.0f} MiB")
        print(f"journal: {entries} entries in {pages} page(s); largest response {largest / 1e6:,.1f} MB")
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)


if __name__ == "__main__":
    main()
