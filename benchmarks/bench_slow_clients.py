"""Slow clients against one server: does a normal ``GET /get`` still answer at once?

The serving issue's scenario, by default: 1,000 connections trickle their
request head at one byte a second, 200 trickle a request body the same way,
and 500 clients keep a ``/delay/5`` in flight each (a new one as soon as the
last is answered).  Meanwhile a probe sends ``GET /get`` on a fresh
connection every 50 ms and records how long each answer takes.  A trickling
connection that the server cuts off comes back at once, as an attacker would.

    python benchmarks/bench_slow_clients.py                       # mockbin serve, defaults, 30 s
    python benchmarks/bench_slow_clients.py --server-args='--worker-class gthread'   # before
    python benchmarks/bench_slow_clients.py --server-args='--server granian'
    python benchmarks/bench_slow_clients.py --heads 100 --bodies 20 --delays 50 --duration 15
    python benchmarks/bench_slow_clients.py --url http://127.0.0.1:8080   # a server you started

The slow clients run in a separate process (asyncio), so their own work does
not slow the probe down.  Reported: probe latency (median, p99, max; a probe
that got no answer within ``--probe-timeout`` counts as a failure and as that
timeout), the server's resident memory (the arbiter and its workers
together) before and at its peak, and what happened to the slow clients.
The goal of the serving issue: p99 under 250 ms with default settings, and
memory that stays bounded.  The soft limit on open files is raised to the
hard limit first (both processes need one descriptor per connection).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

HOST = "127.0.0.1"


# -- the slow clients (a process of their own) ---------------------------------


async def _open(port: int) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, port)


async def trickle(port: int, head: bytes, seconds: float, stats: Dict[str, int], key: str, deadline: float) -> None:
    """Send *head* then endless filler one byte per *seconds*; reconnect when cut off."""
    await asyncio.sleep(random.random() * 2.0)  # spread the connects over two seconds
    while time.monotonic() < deadline:
        try:
            reader, writer = await _open(port)
        except OSError:
            stats["connect_errors"] += 1
            await asyncio.sleep(0.5)
            continue
        stats[key + "_connections"] += 1
        data = head
        try:
            while time.monotonic() < deadline:
                writer.write(data[:1])
                await writer.drain()
                data = data[1:] or b"a"
                try:
                    got = await asyncio.wait_for(reader.read(65536), timeout=seconds)
                except asyncio.TimeoutError:
                    continue
                # The server answered (an error) or closed: this one is over.
                stats[key + ("_answered" if got else "_cut")] += 1
                break
        except (ConnectionError, OSError):
            stats[key + "_cut"] += 1
        finally:
            writer.close()


async def delayer(port: int, delay: float, stats: Dict[str, int], deadline: float) -> None:
    """Keep one ``/delay/N`` in flight until *deadline*."""
    await asyncio.sleep(random.random() * 2.0)
    request = f"GET /delay/{delay:g} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            reader, writer = await _open(port)
            writer.write(request)
            await writer.drain()
            answer = await reader.read()
            writer.close()
            stats["delays_answered" if answer.startswith(b"HTTP/1.1 200") else "delays_failed"] += 1
        except (ConnectionError, OSError):
            stats["delays_failed"] += 1
            await asyncio.sleep(0.5)


async def attack(port: int, heads: int, bodies: int, delays: int, delay: float, seconds: float) -> Dict[str, int]:
    stats: Dict[str, int] = {
        key: 0
        for key in (
            "heads_connections", "heads_cut", "heads_answered",
            "bodies_connections", "bodies_cut", "bodies_answered",
            "delays_answered", "delays_failed", "connect_errors",
        )
    }
    deadline = time.monotonic() + seconds
    head = f"GET /get HTTP/1.1\r\nHost: {HOST}:{port}\r\nX-Slow: ".encode()
    body_head = f"POST /post HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Length: 1000000\r\n\r\n".encode()
    tasks = [trickle(port, head, 1.0, stats, "heads", deadline) for _ in range(heads)]
    # The body's head goes at once; only the body trickles.
    tasks += [trickle_body(port, body_head, stats, deadline) for _ in range(bodies)]
    tasks += [delayer(port, delay, stats, deadline) for _ in range(delays)]
    running = [asyncio.ensure_future(task) for task in tasks]
    # Whatever still waits on the server at the end (an outage) is abandoned.
    _, pending = await asyncio.wait(running, timeout=seconds + 2)
    for task in pending:
        task.cancel()
    stats["abandoned"] = len(pending)
    return stats


async def trickle_body(port: int, head: bytes, stats: Dict[str, int], deadline: float) -> None:
    await asyncio.sleep(random.random() * 2.0)
    while time.monotonic() < deadline:
        try:
            reader, writer = await _open(port)
            writer.write(head)
            await writer.drain()
        except OSError:
            stats["connect_errors"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["bodies_connections"] += 1
        try:
            while time.monotonic() < deadline:
                writer.write(b"a")
                await writer.drain()
                try:
                    got = await asyncio.wait_for(reader.read(65536), timeout=1.0)
                except asyncio.TimeoutError:
                    continue
                stats["bodies_answered" if got else "bodies_cut"] += 1
                break
        except (ConnectionError, OSError):
            stats["bodies_cut"] += 1
        finally:
            writer.close()


def attacker_main(port: int, heads: int, bodies: int, delays: int, delay: float, seconds: float, out: "multiprocessing.Queue") -> None:
    out.put(asyncio.run(attack(port, heads, bodies, delays, delay, seconds)))


# -- the probe and the memory sampler (this process) ----------------------------


def probe_once(port: int, timeout: float) -> Optional[float]:
    """Seconds for one ``GET /get`` on a new connection; None if it failed or timed out."""
    started = time.perf_counter()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(f"GET /get HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    return time.perf_counter() - started if data.startswith(b"HTTP/1.1 200") else None


def tree_rss(pid: int) -> int:
    """Resident bytes of *pid* and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(child) for child in children.read().split()]
        except OSError:
            continue
    return total


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def raise_open_files() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_server(extra: List[str]) -> Tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    argv = [sys.executable, "-m", "mockbin", "serve", "--port", str(port), "--log-level", "warning", *extra]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}: {' '.join(argv)}")
        if probe_once(port, 1.0) is not None:
            return process, port
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heads", type=int, default=1000, help="connections trickling a request head")
    parser.add_argument("--bodies", type=int, default=200, help="connections trickling a request body")
    parser.add_argument("--delays", type=int, default=500, help="concurrent /delay requests")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds each /delay asks for")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of attack")
    parser.add_argument("--probe-interval", type=float, default=0.05)
    parser.add_argument("--probe-timeout", type=float, default=10.0)
    parser.add_argument("--url", help="an already running server (then --server-args is ignored)")
    parser.add_argument("--server-args", default="", help="extra `mockbin serve` arguments, one string")
    args = parser.parse_args()

    limit = raise_open_files()
    needed = 2 * (args.heads + args.bodies + args.delays) + 100
    if limit < needed:
        raise SystemExit(f"open-file limit {limit} is below the {needed} this run needs (ulimit -n)")

    process: Optional[subprocess.Popen] = None
    if args.url:
        port = urlsplit(args.url).port or 80
    else:
        process, port = start_server(shlex.split(args.server_args))
    try:
        server_pid = process.pid if process else None
        rss_before = tree_rss(server_pid) if server_pid else 0
        baseline = [probe_once(port, args.probe_timeout) for _ in range(20)]

        queue: "multiprocessing.Queue" = multiprocessing.Queue()
        attacker = multiprocessing.Process(
            target=attacker_main,
            args=(port, args.heads, args.bodies, args.delays, args.delay, args.duration, queue),
        )
        attacker.start()
        time.sleep(3.0)  # the slow clients connect over the first two seconds
        latencies: List[Optional[float]] = []
        rss_peak = rss_before
        stop = time.monotonic() + args.duration - 3.5
        while time.monotonic() < stop:
            latencies.append(probe_once(port, args.probe_timeout))
            if server_pid:
                rss_peak = max(rss_peak, tree_rss(server_pid))
            time.sleep(args.probe_interval)
        stats = queue.get(timeout=args.duration + 60)
        attacker.join()
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    answered = [value for value in latencies if value is not None]
    failed = len(latencies) - len(answered)
    counted = answered + [args.probe_timeout] * failed
    base = [value for value in baseline if value is not None]
    print(f"server: {args.url or 'mockbin serve ' + args.server_args}")
    print(f"slow clients: {args.heads} heads, {args.bodies} bodies, {args.delays} x /delay/{args.delay:g}, {args.duration:g} s")
    if base:
        print(f"GET /get before:  median {statistics.median(base) * 1000:.1f} ms")
    if counted:
        print(
            f"GET /get during:  {len(latencies)} probes, {failed} failed; median {statistics.median(counted) * 1000:.1f} ms, "
            f"p99 {percentile(counted, 0.99) * 1000:.1f} ms, max {max(counted) * 1000:.1f} ms"
        )
    if process is not None:
        print(f"server RSS: {rss_before / 2**20:.0f} MiB before, {rss_peak / 2**20:.0f} MiB at the peak")
    print("slow clients: " + ", ".join(f"{key} {value}" for key, value in stats.items()))


if __name__ == "__main__":
    main()
