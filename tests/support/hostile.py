"""The hostile-input corpus: raw requests a server must refuse cleanly, and how to send them.

Each :class:`Case` is one request as bytes, sent over a fresh socket, with
what must come back: a status from ``expect`` (never a 5xx, except the
501 that RFC 9112 section 6.1 asks for an unknown transfer coding before a
final ``chunked``), whether the server must close the connection, and, for
requests to a resource path of the stateful mode, that nothing was stored.
``half_close`` cases stop sending (``shutdown(SHUT_WR)``) after their bytes:
a client that went away mid-body, which the server notices as end of input.

The table is data so that it reads as the specification and so that
``benchmarks/hostile_report.py`` can run it against any checkout.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import FrozenSet, List, Optional, Tuple

from .rawhttp import RawResponse, read_response

#: Settings of every server the corpus runs against (small budgets keep it CI-sized).
SERVER_ARGS = (
    "--stateful",
    "--max-body-size", "64KiB",
    "--max-json-values", "1000",
    "--store-max-depth", "32",
    "--store-patch-max-operations", "50",
)
#: Where the stateful cases write; nothing may ever be stored under it.
STORE_PATH = "/hostile"
#: JSON documents stored before the patch cases run (PUT by the runner): a small one, and one
#: nested 600 levels deep (PUT stores any bytes; PATCH must not recurse into it).
DOC_PATH = "/seeded/doc"
DOC = b'{"a": [1, 2, 3], "s": "0123456789"}'
DEEP_PATH = "/seeded/deep"
DEEP_DOC = b'{"k": ' + b"[" * 600 + b"1" + b"]" * 600 + b"}"
SEEDS = ((DOC_PATH, DOC), (DEEP_PATH, DEEP_DOC))

BAD_REQUEST = frozenset({400})
TOO_LARGE = frozenset({413})


@dataclass(frozen=True)
class Case:
    id: str
    raw: bytes  # "{host}" is replaced by the server's address
    expect: FrozenSet[int] = BAD_REQUEST
    close: bool = True  # the server must close the connection after answering
    half_close: bool = False  # the client stops sending after raw
    stores: bool = False  # a stateful write: nothing may be stored afterwards
    broken_body: bool = False  # reaches the app with a body it cannot read whole

    def request(self, address: str) -> bytes:
        return self.raw.replace(b"{host}", address.encode())


def _head(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: {host}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(method: str, target: str, framing: bytes, *headers: str) -> bytes:
    return _head(method, target, "Transfer-Encoding: chunked", *headers) + framing


def _nested(depth: int) -> bytes:
    return b'{"k": ' + b"[" * depth + b"1" + b"]" * depth + b"}"


# Chunked framings that RFC 9112 section 7.1 does not allow (each ends the body if it could).
MALFORMED_CHUNKED: List[Tuple[str, bytes]] = [
    ("size-not-hex", b"zz\r\nhello\r\n0\r\n\r\n"),
    ("size-negative", b"-5\r\nhello\r\n0\r\n\r\n"),
    ("size-empty", b"\r\nhello\r\n0\r\n\r\n"),
    ("size-0x-prefix", b"0x5\r\nhello\r\n0\r\n\r\n"),
    ("size-space-before-crlf", b"5 \r\nhello\r\n0\r\n\r\n"),
    ("size-line-too-long", b"1" * 9000 + b"\r\nx\r\n0\r\n\r\n"),
    ("data-not-followed-by-crlf", b"5\r\nhelloXX0\r\n\r\n"),
    ("data-followed-by-lf", b"5\r\nhello\n0\r\n\r\n"),
    ("lf-only-framing", b"5\nhello\n0\n\n"),
    ("extension-control-char", b"5;\x01\r\nhello\r\n0\r\n\r\n"),
    ("extension-no-name", b"5;=x\r\nhello\r\n0\r\n\r\n"),
    ("extension-unterminated-quote", b'5;a="x\r\nhello\r\n0\r\n\r\n'),
    ("extension-bare-cr", b"5;a\rb\r\nhello\r\n0\r\n\r\n"),
    ("trailer-content-length", b"5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"),
    ("trailer-transfer-encoding", b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("trailer-host", b"5\r\nhello\r\n0\r\nHost: elsewhere\r\n\r\n"),
    ("trailer-no-colon", b"5\r\nhello\r\n0\r\nno colon here\r\n\r\n"),
    ("trailer-bad-name", b"5\r\nhello\r\n0\r\nbad name: x\r\n\r\n"),
    ("trailer-lf-only", b"5\r\nhello\r\n0\r\nX-A: 1\n\r\n"),
]

# Chunked bodies the client stops sending in the middle of.
CUT_OFF_CHUNKED: List[Tuple[str, bytes]] = [
    ("no-last-chunk", b"5\r\nhello\r\n"),
    ("inside-chunk-data", b"a\r\nhello"),
    ("inside-size-line", b"5\r\nhello\r\n1"),
    ("no-final-crlf", b"5\r\nhello\r\n0\r\n"),
    ("trailers-unterminated", b"5\r\nhello\r\n0\r\nX-A: 1\r\n"),
]

# Transfer-Encoding values whose final coding is not chunked: 400 and close (RFC 9112 section 6.3).
TE_NOT_FINAL = ["chunked, gzip", "chunked, foo", "foo", "gzip", "identity", "chunked, identity",
                "chunked, chunked", "chunked,", "chunked;q=1"]


def cases() -> List[Case]:
    found: List[Case] = []
    for name, framing in MALFORMED_CHUNKED:
        found.append(Case(f"chunked-{name}-echo", chunked("POST", "/post", framing), broken_body=True))
        found.append(Case(f"chunked-{name}-store", chunked("PUT", f"{STORE_PATH}/{name}", framing),
                          stores=True, broken_body=True))
    for name, framing in CUT_OFF_CHUNKED:
        found.append(Case(f"cut-{name}-echo", chunked("POST", "/post", framing), half_close=True, broken_body=True))
        found.append(Case(f"cut-{name}-store", chunked("POST", STORE_PATH, framing, "Content-Type: application/json"),
                          half_close=True, stores=True, broken_body=True))
    for value in TE_NOT_FINAL:
        slug = value.replace(", ", "-").replace(",", "-").replace(";", "-").replace("=", "")
        found.append(Case(f"te-{slug}", _head("POST", "/post", f"Transfer-Encoding: {value}") + b"5\r\nhello\r\n0\r\n\r\n"))
    found += [
        Case("te-unknown-then-chunked", _head("POST", "/post", "Transfer-Encoding: foo, chunked") + b"0\r\n\r\n",
             expect=frozenset({501})),
        Case("te-and-content-length", _head("POST", "/post", "Transfer-Encoding: chunked", "Content-Length: 5")
             + b"5\r\nhello\r\n0\r\n\r\n"),
        Case("te-in-http10", b"POST /post HTTP/1.0\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        Case("content-length-not-a-number", _head("POST", "/post", "Content-Length: ten") + b"0123456789"),
        Case("content-length-negative", _head("POST", "/post", "Content-Length: -1")),
        Case("content-length-plus-sign", _head("POST", "/post", "Content-Length: +5") + b"hello"),
        Case("content-length-twice", _head("POST", "/post", "Content-Length: 5", "Content-Length: 5") + b"hello"),
        Case("content-length-list", _head("POST", "/post", "Content-Length: 5, 5") + b"hello"),
        # A body shorter than its Content-Length: the client sends 5 of 100 bytes, then stops.
        Case("truncated-echo", _head("POST", "/post", "Content-Type: application/json", "Content-Length: 100")
             + b'{"a":', half_close=True, broken_body=True),
        Case("truncated-put", _head("PUT", f"{STORE_PATH}/truncated", "Content-Type: application/json",
                                    "Content-Length: 100") + b'{"a":', half_close=True, stores=True, broken_body=True),
        Case("truncated-post", _head("POST", STORE_PATH, "Content-Type: application/json", "Content-Length: 100")
             + b'{"a":', half_close=True, stores=True, broken_body=True),
        Case("truncated-get-ignoring-body", _head("GET", "/get", "Content-Length: 100") + b"12345",
             expect=frozenset({200, 400}), half_close=True, broken_body=True),
        # Declared sizes no body limit allows: refused before a byte of the body is read.
        Case("huge-content-length", _head("POST", "/post", "Content-Length: 1000000000000"),
             expect=TOO_LARGE, close=False),
        Case("absurd-content-length", _head("POST", "/post", "Content-Length: " + "9" * 40),
             expect=frozenset({400, 413}), close=False),
        Case("huge-content-length-store", _head("PUT", f"{STORE_PATH}/huge", "Content-Length: 1000000000000"),
             expect=TOO_LARGE, close=False, stores=True),
        # A chunked body past --max-body-size (64 KiB), sent whole.
        Case("chunked-over-the-limit", chunked("POST", "/post", b"%x\r\n%s\r\n0\r\n\r\n" % (70000, b"x" * 70000)),
             expect=TOO_LARGE, close=False),
        # JSON the server would have to parse: too many values, too deep, bad UTF-8.
        Case("json-too-many-values-echo", _json("POST", "/post", b"[" + b"0," * 2000 + b"0]"),
             expect=TOO_LARGE, close=False),
        Case("json-too-many-values-store", _json("POST", STORE_PATH, b'{"v": [' + b"0," * 2000 + b"0]}"),
             expect=TOO_LARGE, close=False, stores=True),
        # httpbin echoes "json": null for nesting its parser cannot follow; so does mockbin.
        Case("json-deep-echo", _json("POST", "/post", b"[" * 900 + b"]" * 900), expect=frozenset({200}), close=False),
        Case("json-deep-store", _json("POST", STORE_PATH, _nested(200)), expect=TOO_LARGE, close=False, stores=True),
        Case("json-deep-merge-patch", _json("PATCH", DOC_PATH, _nested(200), "application/merge-patch+json"),
             expect=TOO_LARGE, close=False),
        Case("json-patch-of-a-deep-document", _json("PATCH", DEEP_PATH, b'[{"op": "add", "path": "/x", "value": 1}]',
                                                    "application/json-patch+json"), expect=TOO_LARGE, close=False),
        Case("merge-patch-of-a-deep-document", _json("PATCH", DEEP_PATH, b'{"x": 1}', "application/merge-patch+json"),
             expect=TOO_LARGE, close=False),
        Case("json-bad-utf8-echo", _json("POST", "/post", b'{"a": "\xff\xfe"}'), expect=frozenset({200}), close=False),
        Case("json-bad-utf8-patch", _json("PATCH", DOC_PATH, b'{"a": "\xff"}', "application/merge-patch+json"),
             close=False),
        # JSON Patch bombs: a copy chain doubling the document, too many operations, a deep value.
        Case("patch-copy-chain", _json("PATCH", DOC_PATH, _ops([{"op": "copy", "from": "", "path": "/-"}] * 40),
                                       "application/json-patch+json"), expect=TOO_LARGE, close=False),
        Case("patch-copy-chain-object", _json("PATCH", DOC_PATH, _ops(
            [{"op": "copy", "from": "/a", "path": "/a/-"}] + [{"op": "copy", "from": "", "path": f"/c{n}"} for n in range(40)]
        ), "application/json-patch+json"), expect=TOO_LARGE, close=False),
        Case("patch-too-many-operations", _json("PATCH", DOC_PATH, _ops(
            [{"op": "test", "path": "/s", "value": "0123456789"}] * 60), "application/json-patch+json"),
             expect=TOO_LARGE, close=False),
        Case("patch-deep-value", _json("PATCH", DOC_PATH, b'[{"op": "add", "path": "/d", "value": '
                                       + b"[" * 200 + b"]" * 200 + b"}]", "application/json-patch+json"),
             expect=TOO_LARGE, close=False),
        Case("patch-deepening-chain", _json("PATCH", DOC_PATH, _ops(
            [{"op": "add", "path": "/n" * (n + 1), "value": {}} for n in range(40)]
        ), "application/json-patch+json"), expect=TOO_LARGE, close=False),
    ]
    return found


def _json(method: str, target: str, body: bytes, media: str = "application/json") -> bytes:
    return _head(method, target, f"Content-Type: {media}", f"Content-Length: {len(body)}") + body


def _ops(operations: list) -> bytes:
    return json.dumps(operations).encode()


@dataclass
class Outcome:
    response: Optional[RawResponse]  # None: the connection closed without an answer
    closed: bool  # the server closed the connection after answering


def send_case(host: str, port: int, case: Case, timeout: float = 10.0) -> Outcome:
    """Send *case* on a new connection; read one answer, then (for ``close`` cases) whether the server closes."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(case.request(f"{host}:{port}"))
            if case.half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before taking everything
        try:
            response, rest = read_response(sock, case.raw.split(b" ", 1)[0].decode())
        except (ConnectionError, OSError):
            return Outcome(None, True)
        if rest or not case.close:
            return Outcome(response, False)
        try:
            closed = sock.recv(1) == b""
        except socket.timeout:
            closed = False
        except OSError:
            closed = True
        return Outcome(response, closed)
