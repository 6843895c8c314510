"""Memory per request body: peak RSS of a gunicorn worker against the size of the body it got.

Each scenario starts a fresh ``mockbin serve`` (one sync worker unless the
scenario says otherwise), resets the worker's peak-RSS counter
(``/proc/<pid>/clear_refs``), sends its request(s) from this process over a
raw socket and reads ``VmHWM`` (peak) and ``VmRSS`` (after) of the worker.
The figure of merit is the peak increase over the body size.

    python benchmarks/bench_memory.py                       # every scenario, 32 MiB bodies
    python benchmarks/bench_memory.py --size 8MiB --only json-zeros,text
    python benchmarks/bench_memory.py --src /tmp/mockbin-base   # another checkout (before/after)
    python benchmarks/bench_memory.py --server httpbin --only text,binary,json-zeros

``--src`` runs the servers from another source tree (``PYTHONPATH``), so one
command gives the before and after figures.  ``--server httpbin`` serves the
echo scenarios with httpbin 0.10.4 under the same gunicorn set-up.  Linux only
(``/proc``).  Each scenario prints one line; ``--json FILE`` keeps them all.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.rawhttp import RawResponse, read_response  # noqa: E402
from support.servers import HOST, ServerProcess, free_port, gunicorn_control_socket_flags  # noqa: E402

MIB = 1024 * 1024
ECHO_SCENARIOS = (
    "json-zeros", "json-dense-in-budget", "json-records-in-budget", "json-objects-in-budget",
    "text", "text-latin", "binary", "multipart",
)


# -- the worker's memory ------------------------------------------------------


def children(pid: int) -> List[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def worker_pid(server: ServerProcess, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    assert server.process is not None
    while time.monotonic() < deadline:
        kids = children(server.process.pid)
        if kids:
            return kids[0]
        time.sleep(0.05)
    raise RuntimeError("no gunicorn worker found")


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak(pid: int) -> None:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Memory:
    pid: int
    base: int = 0  # KiB
    marks: List[Tuple[str, int]] = field(default_factory=list)

    def start(self) -> None:
        time.sleep(0.2)
        reset_peak(self.pid)
        self.base = status_kib(self.pid, "VmRSS")

    def peak(self) -> int:
        return status_kib(self.pid, "VmHWM") - self.base

    def now(self) -> int:
        return status_kib(self.pid, "VmRSS") - self.base


# -- requests over a raw socket -------------------------------------------------


def send(
    port: int,
    method: str,
    target: str,
    headers: Iterable[Tuple[str, str]] = (),
    body: bytes = b"",
    timeout: float = 300.0,
) -> RawResponse:
    head = f"{method} {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    head += f"Content-Length: {len(body)}\r\n\r\n" if body or method in ("POST", "PUT", "PATCH") else "\r\n"
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            sock.sendall(head.encode("latin-1"))
            view = memoryview(body)
            for start in range(0, len(body), MIB):
                sock.sendall(view[start : start + MIB])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading the whole body, and closed
        response, _ = read_response(sock, method)
    return response


# -- scenarios -------------------------------------------------------------------


@dataclass
class Result:
    name: str
    body: int  # bytes
    peak_kib: int
    after_kib: int
    seconds: float
    note: str = ""

    def line(self) -> str:
        ratio = self.peak_kib * 1024 / self.body if self.body else 0.0
        return (
            f"{self.name:24s} body {self.body / MIB:7.1f} MiB  peak +{self.peak_kib / 1024:8.1f} MiB "
            f"({ratio:5.1f}x)  after +{self.after_kib / 1024:7.1f} MiB  {self.seconds:6.2f} s  {self.note}"
        )


def json_zeros(size: int) -> bytes:
    return b"[" + b"0," * ((size - 2) // 2) + b"0]"


def records_body(values: int) -> bytes:
    """Typical JSON: an array of small records, about *values* values (member names included)."""
    record = {"name": "user", "email": "u@example.com", "age": 42, "tags": ["a", "b"]}  # 11 values
    return json.dumps([dict(record, name=f"user{n}") for n in range(values // 11)]).encode()


def text_body(size: int) -> bytes:
    words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    return (words * (size // len(words) + 1))[:size]


def latin_body(size: int) -> bytes:
    text = "Grüße aus Köln, ça va très bien; naïve café. ".encode()
    body = (text * (size // len(text) + 1))[:size]
    return body.decode("utf-8", "ignore").encode("utf-8")


def binary_body(size: int) -> bytes:
    return random.Random(7).randbytes(size)


def multipart_body(size: int) -> Tuple[bytes, str]:
    boundary = "bench-boundary-1234567890"
    content = text_body(size - 200)
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n"
        f"Content-Type: text/plain\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def echo(name: str, body: bytes, content_type: str) -> Callable[[int, Memory], Result]:
    def run(port: int, memory: Memory) -> Result:
        memory.start()
        began = time.monotonic()
        response = send(port, "POST", "/post", [("Content-Type", content_type)], body)
        took = time.monotonic() - began
        time.sleep(0.3)
        note = f"{response.status} answer {len(response.body) / MIB:.1f} MiB"
        return Result(name, len(body), memory.peak(), memory.now(), took, note)

    return run


def cycle(size: int) -> Callable[[int, Memory], Result]:
    """Eight POSTs of *size*: does memory come back between requests?"""
    body = text_body(size)

    def run(port: int, memory: Memory) -> Result:
        memory.start()
        began = time.monotonic()
        afters = []
        for _ in range(8):
            send(port, "POST", "/post", [("Content-Type", "text/plain")], body)
            time.sleep(0.2)
            afters.append(memory.now() // 1024)
        took = time.monotonic() - began
        return Result("8x-post-rss", size, memory.peak(), memory.now(), took, f"RSS after each (MiB): {afters}")

    return run


def stateful_post(size: int, dense: bool) -> Callable[[int, Memory], Result]:
    """POST a JSON object of *size* to a collection: bytes stored vs bytes sent.

    *dense*: its member is an array of zeros (millions of values); else one long string.
    """
    member = json_zeros(size - 40) if dense else b'"' + text_body(size - 40) + b'"'
    body = b'{"name": "bulk", "values": ' + member + b"}"
    name = "stateful-post-dense" if dense else "stateful-post-json"

    def run(port: int, memory: Memory) -> Result:
        memory.start()
        began = time.monotonic()
        created = send(port, "POST", "/items", [("Content-Type", "application/json")], body)
        took = time.monotonic() - began
        where = created.header("Location") or "/items/1"
        stored = send(port, "GET", where)
        stored_size = len(stored.body) if stored.status == 200 else 0
        note = f"{created.status}; stored {stored_size:,} bytes for {len(body):,} sent"
        return Result(name, len(body), memory.peak(), memory.now(), took, note)

    return run


def stateful_post_compact(values: int) -> Callable[[int, Memory], Result]:
    """POST a compact JSON object (no spaces) within the JSON budget: bytes stored vs bytes sent."""
    body = b'{"name":"bulk","values":[' + b"0," * (values - 5) + b"0]}"

    def run(port: int, memory: Memory) -> Result:
        memory.start()
        began = time.monotonic()
        created = send(port, "POST", "/items", [("Content-Type", "application/json")], body)
        took = time.monotonic() - began
        stored = send(port, "GET", created.header("Location") or "/items/1")
        note = f"{created.status}; stored {len(stored.body):,} bytes for {len(body):,} sent"
        return Result("stateful-post-compact", len(body), memory.peak(), memory.now(), took, note)

    return run


def patch_missing(size: int) -> Callable[[int, Memory], Result]:
    body = json_zeros(size)

    def run(port: int, memory: Memory) -> Result:
        memory.start()
        began = time.monotonic()
        answer = send(port, "PATCH", "/items/missing", [("Content-Type", "application/merge-patch+json")], body)
        took = time.monotonic() - began
        return Result("patch-missing", len(body), memory.peak(), memory.now(), took, f"{answer.status}")

    return run


def copy_chain(ops: int) -> Callable[[int, Memory], Result]:
    """A JSON Patch that copies the whole document into itself *ops* times (doubling it each time)."""
    patch = json.dumps([{"op": "copy", "from": "", "path": "/-"} for _ in range(ops)]).encode()

    def run(port: int, memory: Memory) -> Result:
        send(port, "PUT", "/doc", [("Content-Type", "application/json")], b'["0123456789abcdef"]')
        memory.start()
        began = time.monotonic()
        answer = send(port, "PATCH", "/doc", [("Content-Type", "application/json-patch+json")], patch)
        took = time.monotonic() - began
        stored = send(port, "GET", "/doc")
        note = f"{answer.status}; {ops} ops, patch {len(patch)} B; stored {len(stored.body) / 1e6:.1f} MB"
        return Result(f"patch-copy-chain-{ops}", len(patch), memory.peak(), memory.now(), took, note)

    return run


def idempotency(count: int, size: int, db: str) -> Callable[[int, Memory], Result]:
    """*count* POSTs of *size* with an Idempotency-Key, each item deleted at once."""
    body = text_body(size)

    def run(port: int, memory: Memory) -> Result:
        memory.start()
        began = time.monotonic()
        statuses: Dict[int, int] = {}
        for n in range(count):
            answer = send(port, "POST", "/bulk", [("Content-Type", "text/plain"), ("Idempotency-Key", f'"k{n}"')], body)
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            if answer.status == 201:
                send(port, "DELETE", answer.header("Location") or "")
        took = time.monotonic() - began
        files = sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*"))
        note = f"statuses {statuses}; SQLite files {files / 1e6:.0f} MB" if files else f"statuses {statuses}"
        return Result(f"idempotency-{count}x", size, memory.peak(), memory.now(), took, note)

    return run


# -- servers -------------------------------------------------------------------


def server_argv(kind: str, port: int, extra: List[str]) -> List[str]:
    # A long timeout: a slow answer must show up as seconds, not as a killed worker.
    common = ["--workers", "1", "--threads", "1", "--timeout", "600", "--log-level", "warning"]
    if kind == "httpbin":
        return [sys.executable, "-m", "gunicorn", "httpbin:app", "--bind", f"{HOST}:{port}",
                *gunicorn_control_socket_flags(), *common]
    return [sys.executable, "-m", "mockbin", "serve", "--port", str(port), *common, *extra]


def run_scenario(name: str, kind: str, src: Optional[str], extra: List[str], scenario: Callable[[int, Memory], Result]) -> Result:
    port = free_port()
    env = {"PYTHONPATH": src} if src else {}
    if src:
        os.chdir(src)  # python -m puts the working directory first on sys.path
    server = ServerProcess(server_argv(kind, port, extra), port, env).start()
    try:
        send(port, "GET", "/get")  # warm the worker up
        return scenario(port, Memory(worker_pid(server)))
    finally:
        server.stop()


def parse_size(text: str) -> int:
    units = {"kib": 1024, "mib": MIB, "gib": 1024 * MIB, "": 1}
    digits = text.rstrip("KMGikmgBb")
    return int(digits) * units[text[len(digits):].lower()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="32MiB", help="body size of the echo scenarios (default 32MiB)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--src", help="run mockbin from this source tree (PYTHONPATH)")
    parser.add_argument("--server", choices=("mockbin", "httpbin"), default="mockbin")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--worker-class", default=None,
                        help="mockbin's gunicorn worker (default sync; omitted with --src, where "
                             "an older checkout picks sync from --threads 1)")
    args = parser.parse_args()
    size = parse_size(args.size)
    worker = args.worker_class or ("" if args.src else "sync")
    worker_args = ["--worker-class", worker] if worker and args.server == "mockbin" else []
    tmp = tempfile.mkdtemp(prefix="bench-memory-")
    db = os.path.join(tmp, "store.db")
    multipart, multipart_type = multipart_body(size)
    scenarios: Dict[str, Tuple[List[str], Callable[[int, Memory], Result]]] = {
        "json-zeros": ([], echo("json-zeros", json_zeros(size), "application/json")),
        "json-dense-in-budget": ([], echo("json-dense-in-budget", json_zeros(2 * 999_000), "application/json")),
        "json-records-in-budget": ([], echo("json-records-in-budget", records_body(990_000), "application/json")),
        "json-objects-in-budget": ([], echo("json-objects-in-budget", b"[" + b"{}," * 998_000 + b"{}]", "application/json")),
        "text": ([], echo("text", text_body(size), "text/plain")),
        "text-latin": ([], echo("text-latin", latin_body(size), "text/plain; charset=utf-8")),
        "binary": ([], echo("binary", binary_body(size), "application/octet-stream")),
        "multipart": ([], echo("multipart", multipart, multipart_type)),
        "cycle": ([], cycle(size)),
        "stateful-post": (["--stateful"], stateful_post(size, dense=False)),
        "stateful-post-dense": (["--stateful"], stateful_post(size, dense=True)),
        "stateful-post-compact": (["--stateful"], stateful_post_compact(900_000)),
        "patch-missing": (["--stateful"], patch_missing(size)),
        "copy-chain": (["--stateful"], copy_chain(23)),
        "copy-chain-8mib": (["--stateful", "--store-max-bytes", "8MiB"], copy_chain(20)),
        "idempotency": (
            ["--stateful", "--store", f"sqlite://{db}", "--store-max-bytes", "10MiB"],
            idempotency(200, MIB, db),
        ),
        "idempotency-memory": (["--stateful", "--store-max-bytes", "10MiB"], idempotency(200, MIB, db)),
    }
    names = [n for n in args.only.split(",") if n] or list(scenarios)
    if args.server == "httpbin":
        names = [n for n in names if n in ECHO_SCENARIOS or n == "cycle"]
    results = []
    print(f"{args.server} from {args.src or 'this checkout'}; gunicorn, 1 {worker or 'sync'} worker; worker RSS deltas")
    for name in names:
        extra, scenario = scenarios[name]
        try:
            result = run_scenario(name, args.server, args.src, [*worker_args, *extra], scenario)
        except Exception as exc:  # a crashed or killed worker is a result too
            result = Result(name, 0, 0, 0, 0.0, f"failed: {exc!r}")
        print(result.line(), flush=True)
        results.append(result)
        for path in Path(tmp).glob("store.db*"):
            path.unlink()
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    main()
