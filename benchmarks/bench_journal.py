"""Cost of the request journal per request, in-process (no sockets): off vs on.

Off, the journal middleware is not installed at all, so the fast lane is
untouched; on, each request pays for one journal entry (and a body replay).

    python benchmarks/bench_journal.py
"""

from __future__ import annotations

import io
import timeit
from typing import Optional

from werkzeug.test import EnvironBuilder

from mockbin import create_app
from mockbin.settings import Settings

CALLS = 20000


def per_call_us(app, body: Optional[bytes]) -> float:
    environ = EnvironBuilder(
        path="/get" if body is None else "/post",
        method="GET" if body is None else "POST",
        query_string="a=1",
        headers={"User-Agent": "bench"},
        data=body,
    ).get_environ()

    def call() -> None:
        fresh = dict(environ)
        if body is not None:
            fresh["wsgi.input"] = io.BytesIO(body)
        for _ in app.wsgi_app(fresh, lambda status, headers, exc_info=None: None):
            pass

    return min(timeit.repeat(call, number=CALLS, repeat=5)) / CALLS * 1e6


def main() -> None:
    off, on = create_app(Settings()), create_app(Settings(journal=True))
    for label, body in (("GET /get", None), ("POST /post, 1 KiB body", b"x" * 1024)):
        without, with_journal = per_call_us(off, body), per_call_us(on, body)
        print(f"{label:24} off {without:6.1f} us   on {with_journal:6.1f} us   (+{with_journal - without:.1f} us)")


if __name__ == "__main__":
    main()
