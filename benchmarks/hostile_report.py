"""Run the hostile-input corpus (tests/support/hostile.py) against a server and print what came back.

Not a test: a report for before/after comparisons.  Starts ``mockbin serve``
(from this checkout or ``--src``) with the corpus settings, seeds the patch
target, sends every case on its own connection, and prints per case the
status, whether the connection closed, and at the end how many answers were
5xx and whether anything got stored under the corpus path.

    python benchmarks/hostile_report.py                      # default worker (gevent), journal off
    python benchmarks/hostile_report.py --worker-class sync --journal
    python benchmarks/hostile_report.py --src /tmp/mockbin-base --legacy-args
"""

from __future__ import annotations

import argparse
import os
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import requests  # noqa: E402

from support.hostile import SEEDS, SERVER_ARGS, STORE_PATH, cases, send_case  # noqa: E402
from support.servers import HOST, ServerProcess, free_port, mockbin_argv  # noqa: E402

LEGACY_ARGS = ("--stateful", "--max-body-size", "64KiB")  # a checkout without the new budgets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", help="run mockbin from this source tree (PYTHONPATH)")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker (default: mockbin serve's)")
    parser.add_argument("--threads", default="4", help="threads per worker (the gthread worker's pool)")
    parser.add_argument("--journal", action="store_true")
    parser.add_argument("--legacy-args", action="store_true", help="only --stateful and --max-body-size")
    args = parser.parse_args()
    port = free_port()
    extra = list(LEGACY_ARGS if args.legacy_args else SERVER_ARGS) + ["--threads", args.threads]
    if args.worker_class:
        extra += ["--worker-class", args.worker_class]
    if args.journal:
        extra.append("--journal")
    env = {"PYTHONPATH": args.src} if args.src else {}
    if args.src:
        os.chdir(args.src)  # python -m puts the working directory first on sys.path
    with ServerProcess(mockbin_argv(port, *extra), port, env) as server:
        counts: collections.Counter = collections.Counter()
        for case in cases():
            for path, document in SEEDS:
                requests.put(server.url + path, data=document, headers={"Content-Type": "application/json"}, timeout=10)
            outcome = send_case(HOST, port, case)
            status = outcome.response.status if outcome.response is not None else "none"
            kind = ""
            if outcome.response is not None and outcome.response.header("Content-Type") == "application/problem+json":
                kind = outcome.response.body.split(b'"type": "', 1)[-1].split(b'"', 1)[0].decode()
            counts[str(status)[0] + "xx" if status != "none" else "none"] += 1
            print(f"{case.id:45s} {status}  closed={outcome.closed!s:5s} {kind}")
        exported = requests.get(server.url + "/__mockbin/store", timeout=10).json()["items"]
        stored = sorted(path for path in exported if path.startswith(STORE_PATH))
    print(f"\n{sum(counts.values())} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"stored under {STORE_PATH}: {stored or 'nothing'}")


if __name__ == "__main__":
    main()
