"""The app's own cost per echo request, in-process: no server, no sockets, no client.

The WSGI app ``mockbin serve --server granian`` serves (``compat.GunicornLike``
included) is called with an environ shaped as granian builds it, for the same
two requests as bench_serving.py (``GET /get`` with a User-Agent, ``POST /post``
with a small JSON body).  Printed: the best of many timed runs, in microseconds
per request; what the server adds on top is bench_serving.py's to measure.

    python benchmarks/bench_app.py
    python benchmarks/bench_app.py --src /tmp/base   # another checkout, for a before/after pair
    python benchmarks/bench_app.py --instructions    # CPU instructions per request (valgrind)

The other checkout runs in its own process (``--src`` goes first on its path).
``--instructions`` counts the instructions one request executes instead of
timing it: two runs under ``valgrind --tool=callgrind`` that differ only in
the number of requests, their difference divided by that number.  The count
is the same from run to run whatever else the machine does, so a
before/after pair on a shared host needs no repeats (Debian: ``apt-get
install -y valgrind``).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

BODY = b'{"name": "mockbin", "items": [1, 2, 3], "nested": {"ok": true, "ratio": 0.5}}'

# What granian puts in every environ (mockbin holds the process environment back from it).
BASE = {
    "GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "SERVER_SOFTWARE": "Granian", "wsgi.errors": sys.stderr,
    "wsgi.input_terminated": True, "wsgi.multiprocess": False, "wsgi.multithread": True, "wsgi.run_once": False,
    "wsgi.version": (1, 0),
}


def environ(method: str) -> dict:
    scope = {
        "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": method, "PATH_INFO": "/get" if method == "GET" else "/post", "QUERY_STRING": "",
        "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8080",
    }
    if method == "GET":
        scope.update({"HTTP_USER_AGENT": "bench/1.0", "wsgi.input": io.BytesIO(b"")})
    else:
        scope.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(BODY)), "wsgi.input": io.BytesIO(BODY)})
    return BASE | scope


def measure(number: int, repeat: int) -> None:
    from mockbin.serving.granian import build
    from mockbin.settings import Settings

    app = build(Settings.from_env())

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        assert status == "200 OK", status

    def one(method: str) -> bytes:
        result = app(environ(method), start_response)
        body = b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return body

    for method in ("GET", "POST"):
        assert b'"url": "http://127.0.0.1:8080/' in one(method)
        if os.environ.get("BENCH_APP_ONLY"):  # one run under valgrind: warm up, then just the requests
            if method == os.environ["BENCH_APP_ONLY"]:
                for _ in range(200 + number):
                    one(method)
            continue
        best = min(timeit.repeat(lambda: one(method), number=number, repeat=repeat)) / number
        print(f"{method} /{'get' if method == 'GET' else 'post'}: {best * 1e6:.1f} us per request")


def instructions(src: str | None, number: int) -> None:
    """Instructions per request: the difference between runs of *number* and of 0 requests, over *number*."""
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (Debian: apt-get install -y valgrind)")
    for method in ("GET", "POST"):
        counts = []
        for requests in (0, number):
            with tempfile.NamedTemporaryFile(suffix=".log") as log:
                env = dict(os.environ, BENCH_APP_ONLY=method, PYTHONHASHSEED="0")
                subprocess.run(
                    ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", f"--log-file={log.name}",
                     *in_checkout(src, requests, 1)],
                    env=env, check=True, stdout=subprocess.DEVNULL,
                )
                counts.append(int(re.search(r"Collected : (\d+)", Path(log.name).read_text()).group(1)))
        print(f"{method} /{'get' if method == 'GET' else 'post'}: {(counts[1] - counts[0]) / number:,.0f} instructions per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", help="measure the mockbin in this checkout instead")
    parser.add_argument("--number", type=int, default=4000, help="requests per timed run")
    parser.add_argument("--repeat", type=int, default=25, help="timed runs (the best counts)")
    parser.add_argument("--instructions", action="store_true", help="count instructions per request (valgrind)")
    args = parser.parse_args()
    os.environ["MOCKBIN_LOG_LEVEL"] = "warning"  # no access lines
    if args.instructions:
        instructions(args.src, min(args.number, 1000))
    elif args.src:
        sys.exit(subprocess.call(in_checkout(args.src, args.number, args.repeat)))
    else:
        measure(args.number, args.repeat)


def in_checkout(src: str | None, number: int, repeat: int) -> list:
    """The command that measures the mockbin in *src* (this one if None), in a process of its own."""
    if src is None:
        return [sys.executable, __file__, "--number", str(number), "--repeat", str(repeat)]
    code = f"import sys; sys.path.insert(0, {src!r}); sys.argv = ['bench_app', '--number', '{number}', " \
           f"'--repeat', '{repeat}']; exec(open({__file__!r}).read())"
    return [sys.executable, "-c", code]


if __name__ == "__main__":
    main()
