"""Throughput of POST /post (small JSON body): mockbin vs httpbin 0.10.4, same gunicorn setup.

Both servers run at once under gunicorn with the same worker class and
count; ``wrk`` loads them in interleaved rounds (A B, B A, A B, ...) so that
machine noise hits both alike.  Prints each round, both medians, the ratio
of medians and each server's worker RSS after the load.

    python benchmarks/bench_echo.py                 # 1 sync worker, 7 rounds of 5 s
    python benchmarks/bench_echo.py --threads 8     # gthread workers (keep-alive)
    python benchmarks/bench_echo.py --workers 2 --rounds 9 --duration 10

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and the test extra
(``pip install -e '.[test]'``, which brings the httpbin oracle).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.servers import ServerProcess, free_port, gunicorn_control_socket_flags  # noqa: E402

BODY = '{"name": "mockbin", "items": [1, 2, 3], "nested": {"ok": true, "ratio": 0.5}}'
WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{BODY}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "bench/1.0"
"""


def server_commands(workers: int, threads: int) -> Dict[str, List[str]]:
    common = ["--workers", str(workers), "--threads", str(threads), "--log-level", "warning"]
    # gunicorn picks gthread itself when threads > 1; mockbin serve names its worker.
    worker = ["--worker-class", "sync" if threads == 1 else "gthread"]
    return {
        "httpbin": [sys.executable, "-m", "gunicorn", "httpbin:app", *gunicorn_control_socket_flags(), *common],
        "mockbin": [sys.executable, "-m", "mockbin", "serve", *common, *worker],
    }


def start(name: str, argv: List[str]) -> ServerProcess:
    port = free_port()
    if name == "httpbin":
        argv = [*argv, "--bind", f"127.0.0.1:{port}"]
    else:
        argv = [*argv, "--port", str(port)]
    return ServerProcess(argv, port).start()


def run_wrk(url: str, script: str, duration: int, connections: int) -> float:
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", script, url],
        capture_output=True, text=True, check=True,
    )
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout and "timeout" in result.stdout:
        raise RuntimeError(f"errors under load:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))


def worker_rss_kib(server: ServerProcess) -> int:
    """Total RSS of the server's process group (arbiter + workers)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            pgid = os.getpgid(int(status.parent.name))
        except (OSError, ProcessLookupError):
            continue
        if pgid == server.process.pid:
            match = re.search(r"VmRSS:\s+(\d+) kB", text)
            total += int(match.group(1)) if match else 0
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="1 = sync worker, >1 = gthread")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    servers = {name: start(name, argv) for name, argv in server_commands(args.workers, args.threads).items()}
    results: Dict[str, List[float]] = {name: [] for name in servers}
    try:
        for name, server in servers.items():  # warm-up, not recorded
            run_wrk(server.url + "/post", script.name, 1, args.connections)
        order = list(servers)
        for round_number in range(args.rounds):
            for name in order if round_number % 2 == 0 else order[::-1]:
                rate = run_wrk(servers[name].url + "/post", script.name, args.duration, args.connections)
                results[name].append(rate)
            print(f"round {round_number + 1}: " + "  ".join(f"{n} {results[n][-1]:8.0f} req/s" for n in order))
        rss = {name: worker_rss_kib(server) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop(signal.SIGTERM)
        os.unlink(script.name)

    medians = {name: statistics.median(rates) for name, rates in results.items()}
    ratio = medians["mockbin"] / medians["httpbin"]
    worker = "sync" if args.threads == 1 else f"gthread x{args.threads}"
    print(f"\nPOST /post, gunicorn {args.workers} worker(s), {worker}, wrk -c{args.connections}, "
          f"{args.rounds} interleaved rounds of {args.duration}s")
    for name in servers:
        print(f"  {name:8s} median {medians[name]:8.0f} req/s   RSS after load {rss[name] / 1024:6.1f} MiB")
    print(f"  ratio mockbin/httpbin: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "rounds": results, "medians": medians, "ratio": ratio, "rss_kib": rss,
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2) + "\n")


if __name__ == "__main__":
    main()
