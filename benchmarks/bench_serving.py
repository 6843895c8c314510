"""Throughput of the servers: httpbin, mockbin under gunicorn (default) and under granian, and the floor.

Six servers run at once, each with the same number of workers:

* ``httpbin``          httpbin 0.10.4 under gunicorn's sync worker (as its docs run it)
* ``mockbin``          ``mockbin serve`` (gunicorn, mockbin's gevent worker: the default)
* ``mockbin-granian``  ``mockbin serve --server granian``
* ``bare-gunicorn``    a WSGI app returning a constant (bare_wsgi.py) under the default worker
* ``bare-granian``     the same app under granian (same blocking threads as mockbin's)

``wrk`` loads them in interleaved rounds (the order reverses every round, so
machine noise hits all alike), for ``GET /get`` and ``POST /post`` (a small
JSON body).  Printed: the median of each, the ratios the serving issue sets
goals for (granian engine >= 6x httpbin on GET and >= 4x on POST, within 2x
of its bare floor; default engine >= 1.8x httpbin), the CPU time each server
spends per request (steadier than the rate on a shared host) and each server's RSS.

    python benchmarks/bench_serving.py                          # 1 worker, 5 rounds x 5 s
    python benchmarks/bench_serving.py --workers 8 --connections 128 --wrk-threads 8
    python benchmarks/bench_serving.py --rounds 2 --duration 2  # a quick look
    python benchmarks/bench_serving.py --workers 8 --connections 128 --wrk-threads 8 \
        --server-cpus 0-7 --client-cpus 8-15                    # 8 cores each on a 16-core machine

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and ``pip install -e '.[test]'``
(the httpbin oracle and granian).  All servers log at warning level (no access lines).
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
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from support.servers import ServerProcess, free_port, gunicorn_control_socket_flags  # noqa: E402

POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"name": "mockbin", "items": [1, 2, 3], "nested": {"ok": true, "ratio": 0.5}}'
wrk.headers["Content-Type"] = "application/json"
"""
GET_SCRIPT = 'wrk.headers["User-Agent"] = "bench/1.0"\n'
GEVENT = "mockbin.serving.workers.GeventWorker"


def pinned(cpus: str | None) -> List[str]:
    """A ``taskset`` prefix that keeps a command on these CPUs (none if ``cpus`` is empty)."""
    return ["taskset", "-c", cpus] if cpus else []


def commands(workers: int, threads: int, port: Dict[str, int], cpus: str | None = None) -> Dict[str, List[str]]:
    python, quiet = [*pinned(cpus), sys.executable], ["--log-level", "warning"]
    gunicorn = [*python, "-m", "gunicorn", *gunicorn_control_socket_flags(), "--workers", str(workers), *quiet]
    serve = [*python, "-m", "mockbin", "serve", "--workers", str(workers), *quiet]
    granian = [
        *python, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
        "--blocking-threads", str(threads), "--log-level", "warning", "--no-ws",
    ]
    return {
        "httpbin": [*gunicorn, "--bind", f"127.0.0.1:{port['httpbin']}", "httpbin:app"],
        "mockbin": [*serve, "--port", str(port["mockbin"])],
        "mockbin-granian": [*serve, "--server", "granian", "--threads", str(threads), "--port", str(port["mockbin-granian"])],
        "bare-gunicorn": [*gunicorn, "-k", GEVENT, "--chdir", str(HERE), "--bind", f"127.0.0.1:{port['bare-gunicorn']}", "bare_wsgi:app"],
        "bare-granian": [*granian, "--working-dir", str(HERE), "--port", str(port["bare-granian"]), "bare_wsgi:app"],
    }


def run_wrk(url: str, script: str, duration: int, connections: int, threads: int, cpus: str | None = None) -> Tuple[float, int]:
    """Requests per second, and requests completed."""
    result = subprocess.run(
        [*pinned(cpus), "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", script, url],
        capture_output=True, text=True, check=True,
    )
    if "Non-2xx" in result.stdout:
        raise RuntimeError(f"errors under load on {url}:\n{result.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    count = re.search(r"(\d+) requests in", result.stdout)
    assert match and count, result.stdout
    return float(match.group(1)), int(count.group(1))


def group_pids(server: ServerProcess) -> List[int]:
    """The server's processes (its session: arbiter and workers)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(entry.name)) == server.process.pid:  # type: ignore[union-attr]
                pids.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return pids


def cpu_seconds(server: ServerProcess) -> float:
    """CPU time (user + system) the server's processes have used so far, all their threads."""
    ticks = 0
    for pid in group_pids(server):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(server: ServerProcess) -> float:
    total = 0
    for pid in group_pids(server):
        try:
            match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="granian's blocking threads (mockbin's --threads; its default is 1)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--only", help="comma-separated subset of the servers")
    parser.add_argument("--server-cpus", help="keep the servers on these CPUs (a taskset list such as 0-7)")
    parser.add_argument("--client-cpus", help="keep wrk on these CPUs (such as 8-15), away from the servers")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")

    ports = {name: free_port() for name in ("httpbin", "mockbin", "mockbin-granian", "bare-gunicorn", "bare-granian")}
    argvs = commands(args.workers, args.threads, ports, args.server_cpus)
    if args.only:
        argvs = {name: argv for name, argv in argvs.items() if name in args.only.split(",")}
    scripts = {}
    for name, text in (("GET /get", GET_SCRIPT), ("POST /post", POST_SCRIPT)):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(text)
        scripts[name] = script.name
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    servers = {name: ServerProcess(argv, ports[name], env=env).start() for name, argv in argvs.items()}
    results: Dict[str, Dict[str, List[float]]] = {test: {name: [] for name in servers} for test in scripts}
    # CPU time per request (all of a server's processes and threads): steadier than req/s on a
    # shared host, where other machines' load changes the rate from round to round.
    cpu: Dict[str, Dict[str, List[float]]] = {test: {name: [] for name in servers} for test in scripts}
    try:
        for test, script in scripts.items():
            path = "/get" if test.startswith("GET") else "/post"
            for server in servers.values():  # warm-up, not recorded
                run_wrk(server.url + path, script, 1, args.connections, args.wrk_threads, args.client_cpus)
            order = list(servers)
            for number in range(args.rounds):
                for name in order if number % 2 == 0 else order[::-1]:
                    before = cpu_seconds(servers[name])
                    rate, count = run_wrk(
                        servers[name].url + path, script, args.duration, args.connections, args.wrk_threads, args.client_cpus)
                    results[test][name].append(rate)
                    cpu[test][name].append((cpu_seconds(servers[name]) - before) / max(count, 1) * 1e6)
                print(f"{test} round {number + 1}: " + "  ".join(f"{n} {results[test][n][-1]:7.0f}" for n in order), flush=True)
        rss = {name: rss_mib(server) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop(signal.SIGTERM)
        for script in scripts.values():
            os.unlink(script)

    medians = {test: {name: statistics.median(rates) for name, rates in by.items()} for test, by in results.items()}
    print(f"\n{args.workers} worker(s), granian blocking threads {args.threads}, wrk -t{args.wrk_threads} "
          f"-c{args.connections}, {args.rounds} interleaved rounds of {args.duration} s; medians in req/s")
    for test, by in medians.items():
        print(f"{test}: " + ", ".join(f"{name} {rate:,.0f}" for name, rate in by.items()))
        base = by.get("httpbin")
        if base:
            for name in ("mockbin", "mockbin-granian"):
                if name in by:
                    print(f"  {name} / httpbin: {by[name] / base:.2f}x")
        if "mockbin-granian" in by and "bare-granian" in by:
            print(f"  bare-granian / mockbin-granian: {by['bare-granian'] / by['mockbin-granian']:.2f}x (goal: <= 2)")
        if "mockbin" in by and "bare-gunicorn" in by:
            print(f"  bare-gunicorn / mockbin: {by['bare-gunicorn'] / by['mockbin']:.2f}x")
    cpu_medians = {test: {name: statistics.median(values) for name, values in by.items()} for test, by in cpu.items()}
    print("CPU per request (us, median; the server's processes, all threads):")
    for test, by in cpu_medians.items():
        print(f"  {test}: " + ", ".join(f"{name} {value:.1f}" for name, value in by.items()))
        if "mockbin-granian" in by and "bare-granian" in by:
            print(f"    mockbin-granian / bare-granian: {by['mockbin-granian'] / by['bare-granian']:.2f}x")
    print("RSS after load (MiB): " + ", ".join(f"{name} {value:.0f}" for name, value in rss.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "rounds": results, "medians": medians, "cpu_us_per_request": cpu, "rss_mib": rss,
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2) + "\n")


if __name__ == "__main__":
    main()
