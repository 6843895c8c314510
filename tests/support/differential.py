"""Differential testing against the httpbin 0.10.4 oracle.

A :class:`Shape` is one request, described once and sent two ways: as a WSGI
environ straight into both apps (in-process), and as raw bytes to both apps
served by gunicorn (over real sockets).  The answers must agree byte for
byte, except for each server's own ``host:port``, the ``Date`` value and the
order of the methods in ``Allow`` (random in httpbin: a Python set).
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import unquote_to_bytes

from werkzeug.test import run_wsgi_app

from .rawhttp import RawResponse, build_request, exchange

Header = Tuple[str, Union[str, bytes]]
DEFAULT_HOST = object()  # sentinel: send "Host: <server address>"
HOST_TOKEN = "127.0.0.1:PORT"
IN_PROCESS_PORT = "54321"


@dataclass(frozen=True)
class Shape:
    """One request shape; *id* names it in test reports."""

    id: str
    method: str
    target: str
    headers: Tuple[Header, ...] = ()
    body: Optional[bytes] = None
    chunks: Optional[Tuple[bytes, ...]] = None
    version: str = "HTTP/1.1"
    host: object = DEFAULT_HOST  # DEFAULT_HOST, None (no Host header) or a literal value
    socket_only: bool = False  # gunicorn-only behaviour (chunked bodies, header name filtering)
    in_process_only: bool = False  # WSGI-level situations no HTTP server produces
    auto_length: bool = True  # add Content-Length when a body is given

    def header_list(self, address: str) -> List[Header]:
        headers: List[Header] = []
        if self.host is DEFAULT_HOST:
            headers.append(("Host", address))
        elif self.host is not None:
            headers.append(("Host", self.host))  # type: ignore[arg-type]
        headers.extend(self.headers)
        if self.chunks is not None:
            headers.append(("Transfer-Encoding", "chunked"))
        elif self.body is not None and self.auto_length:
            headers.append(("Content-Length", str(len(self.body))))
        return headers

    def raw(self, address: str) -> bytes:
        return build_request(
            self.method, self.target, self.header_list(address), self.body,
            version=self.version, chunks=self.chunks,
        )

    def environ(self) -> Dict[str, object]:
        """The environ gunicorn would build for this request."""
        address = f"127.0.0.1:{IN_PROCESS_PORT}"
        path, _, query = self.target.partition("?")
        env: Dict[str, object] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.target,
            "SERVER_PROTOCOL": self.version,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": IN_PROCESS_PORT,
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "40000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(self.body or b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.header_list(address):
            if "_" in name:
                continue  # gunicorn drops header names with underscores
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            text = text.strip()
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            env[key] = f"{env[key]},{text}" if key in env else text
        return env


@dataclass
class Answer:
    status_line: str
    headers: List[Tuple[str, str]]
    body: bytes


def call_wsgi(app, shape: Shape, script_name: str = "", path_prefix: str = "") -> Answer:
    """Call *app* with the environ of *shape*.

    *script_name* mounts the app under a path, as a WSGI mount point would;
    *path_prefix* goes in front of ``PATH_INFO`` (where mockbin's ``--prefix``
    expects to find it).
    """
    environ = shape.environ()
    environ["SCRIPT_NAME"] = script_name
    environ["PATH_INFO"] = path_prefix + str(environ["PATH_INFO"])
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    try:
        body = b"".join(app_iter)
    finally:
        if hasattr(app_iter, "close"):
            app_iter.close()
    return Answer(status, list(headers.to_wsgi_list()), body)


def call_socket(port: int, shape: Shape, timeout: float = 30.0) -> RawResponse:
    return exchange("127.0.0.1", port, shape.raw(f"127.0.0.1:{port}"), shape.method, timeout)


def _normalise_text(text: str, ports: Sequence[str]) -> str:
    for port in ports:
        text = text.replace(f"127.0.0.1:{port}", HOST_TOKEN)
    return text


def normalise(answer: Union[Answer, RawResponse], ports: Sequence[str]) -> Tuple[str, list, bytes]:
    """Mask what may legitimately differ: own host:port, Date value, Allow order."""
    headers = []
    for name, value in answer.headers:
        value = _normalise_text(value, ports)
        if name.lower() == "date":
            value = "<date>"
        elif name.lower() == "allow":
            value = ", ".join(sorted(v.strip() for v in value.split(",")))
        headers.append((name, value))
    body = answer.body
    for port in ports:
        body = body.replace(f"127.0.0.1:{port}".encode(), HOST_TOKEN.encode())
    status_line = answer.status_line
    return status_line, headers, body


def assert_same(oracle: Union[Answer, RawResponse], mine: Union[Answer, RawResponse], ports: Sequence[str]) -> None:
    expected = normalise(oracle, ports)
    actual = normalise(mine, ports)
    assert actual[0] == expected[0], "status line differs"
    assert actual[1] == expected[1], "headers differ"
    assert actual[2] == expected[2], "body differs"


def date_is_valid(answer: RawResponse) -> bool:
    value = answer.header("Date") or ""
    return bool(re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", value))
