"""Stateful-mode throughput: PUT, POST and GET ops/s per backend, at 1k and at 1M stored items.

For each backend two servers run side by side, one holding ``--small``
items and one ``--large`` items (seeded straight through the backend's own
``load()``, not over HTTP, so a million items take seconds).  Client
processes then hammer each server in turn, interleaved round by round, so
machine noise hits both sizes alike; the report gives ops/s and the ratio
large/small, which should stay within 25 % (0.75-1.33).

Servers: SQLite and Redis with 2 gunicorn workers; memory:// with one
(it cannot be shared by several processes), all with 4 threads.

    python benchmarks/bench_store.py                      # every backend, 1k vs 1M
    python benchmarks/bench_store.py --backends sqlite --large 100000 --seconds 1

Redis is the server at 127.0.0.1:6379 (``--redis``); its keys use a fresh
prefix and are removed afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Dict, Tuple

HOST = "127.0.0.1"
COLLECTION = "/bench/items"
OPS = ("GET", "PUT", "POST")


# -- the server side: seed through the backend, then serve -------------------------


def serve(store: str, items: int, port: int, workers: int) -> None:
    """Build the app, load *items* items into its store directly, serve it."""
    from mockbin import create_app
    from mockbin.serving.gunicorn import serve as run
    from mockbin.settings import Settings
    from mockbin.store import STORE_KEY
    from mockbin.store.base import Item

    settings = Settings(
        port=port,
        workers=workers,
        threads=4,
        log_level="warning",
        stateful=True,
        store=store,
        store_max_items=items + 1_000_000,
        store_max_bytes=4 * 1024**3,
    )
    app = create_app(settings)
    started = time.monotonic()
    now = time.time()
    seeded = [
        Item.make(
            f"{COLLECTION}/{n}", b'{"id": %d, "title": "item number %d"}' % (n, n), "application/json", now
        )
        for n in range(1, items + 1)
    ]
    app.extensions[STORE_KEY].load(seeded, {COLLECTION: items})
    del seeded
    print(f"seeded {items} items into {store} in {time.monotonic() - started:.1f}s", flush=True)
    run(settings, lambda _settings: app)


# -- the client side ---------------------------------------------------------------


def hammer(port: int, op: str, items: int, seconds: float, seed: int) -> Tuple[int, int]:
    """One client process: *op* requests on one keep-alive connection for *seconds*; (ok, errors)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    ok = errors = 0
    deadline = time.monotonic() + seconds
    json_type = {"Content-Type": "application/json"}
    while time.monotonic() < deadline:
        n = rng.randint(1, items)
        if op == "GET":
            conn.request("GET", f"{COLLECTION}/{n}")
        elif op == "PUT":
            conn.request(
                "PUT",
                f"{COLLECTION}/{n}",
                b'{"id": %d, "title": "replaced %d"}' % (n, rng.random() * 1e9),
                json_type,
            )
        else:
            conn.request("POST", COLLECTION, b'{"title": "posted"}', json_type)
        response = conn.getresponse()
        response.read()
        if response.status in (200, 201):
            ok += 1
        else:
            errors += 1
    conn.close()
    return ok, errors


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/__mockbin/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not become healthy")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def store_url(backend: str, directory: str, size: int, redis_url: str, prefix: str) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite://{directory}/bench-{size}.db"
    return f"{redis_url}?prefix={prefix}{size}:"


def run_backend(
    backend: str, sizes: Tuple[int, int], args: argparse.Namespace, pool: ProcessPoolExecutor
) -> Dict[Tuple[str, int], float]:
    """ops/s for each (op, size) on *backend*."""
    workers = 1 if backend == "memory" else 2
    prefix = f"mockbin-bench-{uuid.uuid4().hex[:8]}:"
    servers: Dict[int, Tuple[int, subprocess.Popen]] = {}
    with tempfile.TemporaryDirectory(prefix="mockbin-bench-") as directory, tempfile.TemporaryFile() as log:
        try:
            for size in sizes:
                port = free_port()
                url = store_url(backend, directory, size, args.redis, prefix)
                argv = [sys.executable, __file__, "serve", url, str(size), str(port), str(workers)]
                servers[size] = (port, subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True))
            try:
                for port, process in servers.values():
                    wait_healthy(port, process)
            except RuntimeError:
                log.seek(0)
                sys.stderr.write(log.read().decode("utf-8", "replace"))
                raise
            log.seek(0)
            for line in log.read().decode("utf-8", "replace").splitlines():
                if line.startswith("seeded "):
                    print(f"  {line}", file=sys.stderr)
            totals = {(op, size): [0, 0] for op in OPS for size in sizes}
            for op in OPS:
                for round_ in range(args.rounds):
                    for size in sizes if round_ % 2 == 0 else reversed(sizes):
                        port = servers[size][0]
                        jobs = [
                            pool.submit(
                                hammer, port, op, size, args.seconds / args.rounds, hash((op, round_, c))
                            )
                            for c in range(args.clients)
                        ]
                        for job in jobs:
                            ok, errors = job.result()
                            totals[(op, size)][0] += ok
                            totals[(op, size)][1] += errors
            for (op, size), (_, errors) in totals.items():
                if errors:
                    print(f"  {backend} {op} at {size}: {errors} errors", file=sys.stderr)
            return {key: ok / args.seconds for key, (ok, _) in totals.items()}
        finally:
            for _, process in servers.values():
                process.terminate()  # the arbiter stops its workers
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
                    process.wait()
            if backend == "redis":
                drop_prefix(args.redis, prefix)


def drop_prefix(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*", count=10000))
    for start in range(0, len(keys), 10000):
        client.unlink(*keys[start : start + 10000])
    client.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        store, items, port, workers = sys.argv[2:6]
        serve(store, int(items), int(port), int(workers))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backends", default="memory,sqlite,redis", help="comma-separated (default: all three)"
    )
    parser.add_argument("--small", type=int, default=1_000, help="items in the small store (default 1000)")
    parser.add_argument(
        "--large", type=int, default=1_000_000, help="items in the large store (default 1000000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="seconds of load per op and size (default 3)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds those seconds are split into"
    )
    parser.add_argument(
        "--clients", type=int, default=4, help="client processes, one keep-alive connection each"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the Redis server to use")
    args = parser.parse_args()

    sizes = (args.small, args.large)
    print(f"| backend | op | ops/s at {args.small:,} | ops/s at {args.large:,} | ratio |")
    print("|---|---|---:|---:|---:|")
    with ProcessPoolExecutor(args.clients, mp_context=get_context("spawn")) as pool:
        for backend in args.backends.split(","):
            results = run_backend(backend, sizes, args, pool)
            for op in OPS:
                small, large = results[(op, sizes[0])], results[(op, sizes[1])]
                ratio = large / small if small else float("nan")
                flag = "" if 0.75 <= ratio <= 1 / 0.75 else " (outside 25 %)"
                print(f"| {backend} | {op} | {small:,.0f} | {large:,.0f} | {ratio:.2f}{flag} |", flush=True)


if __name__ == "__main__":
    main()
