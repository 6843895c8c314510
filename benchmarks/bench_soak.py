"""Soak: mixed load against ``mockbin serve`` for a minute, worker RSS sampled every second.

Not a test: a report.  Several client threads loop over a mix of requests --
small and large echoes (fast lane and Flask), stateful writes (PUT, POST with
and without Idempotency-Key, then DELETE), merge patches and JSON Patches,
patch bombs and hostile requests from the corpus (tests/support/hostile.py:
broken chunked bodies, bodies cut short, bad Transfer-Encoding) -- while a
sampler reads the RSS of the gunicorn worker(s) each second.  Prints the
series, the statuses seen, and the drift: the RSS at the end and at its
highest, against the RSS once the warm-up (the first ``--warmup`` seconds)
is over, and the median of the two halves of the rest.  Memory that returns
after each request shows as a flat series (samples taken mid-request vary
with what is in flight: several large echoes at once weigh tens of MiB).

    python benchmarks/bench_soak.py                     # 60 s, mockbin serve defaults + --stateful
    python benchmarks/bench_soak.py --duration 20 --clients 2
    python benchmarks/bench_soak.py --worker-class sync # another gunicorn worker
    python benchmarks/bench_soak.py --src /tmp/mockbin-base --legacy-args   # another checkout
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Counter, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import requests  # noqa: E402

from support.hostile import SEEDS, cases, send_case  # noqa: E402
from support.servers import HOST, ServerProcess, free_port, mockbin_argv  # noqa: E402

MIB = 1024 * 1024
SMALL = json.dumps({"name": "soak", "items": [1, 2, 3], "nested": {"ok": True}}).encode()
TEXT = (b"lorem ipsum dolor sit amet " * (2 * MIB // 27))[: 2 * MIB]
BINARY = random.Random(3).randbytes(MIB)
LARGE_JSON = json.dumps([{"id": n, "tags": ["a", "b"], "score": n / 7} for n in range(20_000)]).encode()
HOSTILE = [case for case in cases() if not case.id.startswith("chunked-size-line")]


def worker_rss_kib(arbiter: int) -> int:
    """VmRSS of the arbiter's children (the gunicorn workers), summed."""
    try:
        children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    except OSError:
        return 0
    total = 0
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class Client:
    """One client thread's requests; statuses go into a shared counter."""

    def __init__(self, url: str, port: int, statuses: Counter[str], lock: threading.Lock, seed: int) -> None:
        self.url = url
        self.port = port
        self.statuses = statuses
        self.lock = lock
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.name = f"c{seed}"
        self.n = 0

    def count(self, what: str, status: object) -> None:
        with self.lock:
            self.statuses[f"{what} {status}"] += 1

    def call(self, what: str, method: str, path: str, **kwargs: object) -> requests.Response:
        answer = self.session.request(method, self.url + path, timeout=60, **kwargs)  # type: ignore[arg-type]
        self.count(what, answer.status_code)
        return answer

    # -- the mix ----------------------------------------------------------------------

    def echo_small(self) -> None:
        self.call("echo-small", "POST", "/post", data=SMALL, headers={"Content-Type": "application/json"})

    def echo_large(self) -> None:
        kind = self.random.choice([("/post", TEXT, "text/plain"), ("/anything/x", BINARY, "application/octet-stream"),
                                   ("/post", LARGE_JSON, "application/json")])
        self.call("echo-large", "POST", kind[0], data=kind[1], headers={"Content-Type": kind[2]})

    def stateful(self) -> None:
        self.n += 1
        item = f"/soak/{self.name}/items/{self.n % 50}"
        self.call("put", "PUT", item, json={"n": self.n, "text": "x" * self.random.randint(10, 5000)})
        self.call("merge-patch", "PATCH", item, data=b'{"patched": true}', headers={"Content-Type": "application/merge-patch+json"})
        self.call("json-patch", "PATCH", item, json=[{"op": "add", "path": "/tags", "value": ["a"]}, {"op": "copy", "from": "/tags", "path": "/copy"}],
                  headers={"Content-Type": "application/json-patch+json"})
        headers = {"Idempotency-Key": f'"{self.name}-{self.n}"'} if self.n % 2 else {}
        created = self.call("post", "POST", f"/soak/{self.name}/posts", data=b"p" * self.random.randint(100, 200_000), headers=headers)
        if created.status_code == 201:
            self.call("delete", "DELETE", created.headers["Location"])

    def bombs(self) -> None:
        item = f"/soak/{self.name}/bomb"
        self.call("put", "PUT", item, data=b'["0123456789abcdef"]', headers={"Content-Type": "application/json"})
        chain = [{"op": "copy", "from": "", "path": "/-"}] * 30
        self.call("copy-chain", "PATCH", item, json=chain, headers={"Content-Type": "application/json-patch+json"})
        self.call("json-zeros", "POST", "/post", data=b"[" + b"0," * 600_000 + b"0]", headers={"Content-Type": "application/json"})

    def hostile(self) -> None:
        case = self.random.choice(HOSTILE)
        outcome = send_case(HOST, self.port, case)
        self.count("hostile", outcome.response.status if outcome.response is not None else "closed")

    def run(self, until: float) -> None:
        mix: List[Tuple[Callable[[], None], int]] = [
            (self.echo_small, 40), (self.echo_large, 8), (self.stateful, 20), (self.bombs, 2), (self.hostile, 15),
        ]
        actions = [action for action, weight in mix for _ in range(weight)]
        while time.monotonic() < until:
            try:
                self.random.choice(actions)()
            except (requests.RequestException, OSError) as exc:
                self.count("client-error", type(exc).__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the reference RSS is taken")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--worker-class", default=None, help="gunicorn worker (default: mockbin serve's)")
    parser.add_argument("--threads", default=None, help="threads per worker (default: mockbin serve's)")
    parser.add_argument("--workers", default=None)
    parser.add_argument("--src", help="run mockbin from this source tree (PYTHONPATH)")
    parser.add_argument("--legacy-args", action="store_true", help="a checkout without --max-json-values & co.")
    parser.add_argument("--json", help="write the series and counts to this file")
    args = parser.parse_args()

    port = free_port()
    extra = ["--stateful"] + (["--threads", args.threads] if args.threads else []) + (["--workers", args.workers] if args.workers else [])
    extra += ["--worker-class", args.worker_class] if args.worker_class else []
    env = {"PYTHONPATH": args.src} if args.src else {}
    if args.src:
        os.chdir(args.src)  # python -m puts the working directory first on sys.path
    statuses: Counter[str] = collections.Counter()
    lock = threading.Lock()
    series: List[Tuple[float, int]] = []
    with ServerProcess(mockbin_argv(port, *extra), port, env) as server:
        url = server.url
        for path, document in SEEDS:
            requests.put(url + path, data=document, headers={"Content-Type": "application/json"}, timeout=10)
        assert server.process is not None
        arbiter = server.process.pid
        began = time.monotonic()
        until = began + args.duration
        clients = [Client(url, port, statuses, lock, seed) for seed in range(args.clients)]
        threads = [threading.Thread(target=client.run, args=(until,), daemon=True) for client in clients]
        for thread in threads:
            thread.start()
        while time.monotonic() < until:
            time.sleep(1.0)
            elapsed = time.monotonic() - began
            rss = worker_rss_kib(arbiter)
            series.append((elapsed, rss))
            with lock:
                total = sum(statuses.values())
            print(f"t={elapsed:5.1f}s  worker RSS {rss / 1024:7.1f} MiB  requests {total}", flush=True)
        for thread in threads:
            thread.join(120)
        time.sleep(1.0)
        final = worker_rss_kib(arbiter)
    reference = [rss for elapsed, rss in series if elapsed >= args.warmup][:1] or [series[0][1]]
    after_warmup = [rss for elapsed, rss in series if elapsed >= args.warmup]
    print("\nstatuses:")
    for key, count in sorted(statuses.items()):
        print(f"  {key:28s} {count}")
    server_errors = sum(count for key, count in statuses.items() if key.split()[-1].startswith("5") and key != "hostile 501")
    print(f"\n5xx answers (the corpus' RFC 9112 501 aside): {server_errors}")
    print(f"worker RSS after {args.warmup:.0f} s warm-up: {reference[0] / 1024:.1f} MiB; at the end: {final / 1024:.1f} MiB; "
          f"highest after warm-up: {max(after_warmup or reference) / 1024:.1f} MiB; median {statistics.median(after_warmup or reference) / 1024:.1f} MiB")
    print(f"drift (end - after warm-up): {(final - reference[0]) / 1024:+.1f} MiB; "
          f"max drift (highest - after warm-up): {(max(after_warmup or reference) - reference[0]) / 1024:+.1f} MiB")
    if len(after_warmup) >= 4:
        half = len(after_warmup) // 2
        first, second = statistics.median(after_warmup[:half]), statistics.median(after_warmup[half:])
        print(f"median RSS, first / second half after warm-up: {first / 1024:.1f} / {second / 1024:.1f} MiB "
              f"({(second - first) / 1024:+.1f} MiB)")
    if args.json:
        Path(args.json).write_text(json.dumps({"series": series, "statuses": dict(statuses), "final_kib": final}, indent=2) + "\n")


if __name__ == "__main__":
    main()
