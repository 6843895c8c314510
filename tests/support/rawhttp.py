"""A tiny HTTP/1.x client over a raw socket, for byte-level comparisons.

``requests`` and ``urllib`` add, reorder and normalise headers; the
differential tests need to send exactly the same bytes to both servers and
see exactly what came back, so they speak HTTP themselves.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

Header = Tuple[str, Union[str, bytes]]


@dataclass
class RawResponse:
    status_line: str
    headers: List[Tuple[str, str]]
    body: bytes
    raw_head: bytes = b""
    chunked_frames: List[int] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.status_line.split(" ", 2)[1])

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_list(self, name: str) -> List[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def _bytes(value: Union[str, bytes]) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def build_request(
    method: str,
    target: Union[str, bytes],
    headers: Sequence[Header] = (),
    body: Optional[bytes] = None,
    *,
    version: str = "HTTP/1.1",
    chunks: Optional[Sequence[bytes]] = None,
) -> bytes:
    """The bytes of one request; *chunks* sends the body with chunked framing."""
    lines = [_bytes(method) + b" " + _bytes(target) + b" " + version.encode()]
    lines += [_bytes(name) + b": " + _bytes(value) for name, value in headers]
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    if chunks is not None:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c) + b"0\r\n\r\n"
        return head + framed
    return head + (body or b"")


def _read_head(sock: socket.socket, buffer: bytes) -> Tuple[bytes, bytes]:
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"connection closed before the response head: {buffer!r}")
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return head, rest


def _parse_head(head: bytes) -> Tuple[str, List[Tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return lines[0], headers


def read_response(sock: socket.socket, method: str, buffer: bytes = b"") -> Tuple[RawResponse, bytes]:
    """Read one response; returns it and any bytes already read past its end."""
    head, rest = _read_head(sock, buffer)
    status_line, headers = _parse_head(head)
    response = RawResponse(status_line, headers, b"", head)
    status = response.status
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return response, rest
    length = response.header("Content-Length")
    if response.header("Transfer-Encoding") == "chunked":
        body, rest = _read_chunked(sock, rest, response.chunked_frames)
    elif length is not None:
        needed = int(length)
        while len(rest) < needed:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        body, rest = rest[:needed], rest[needed:]
    else:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        body, rest = rest, b""
    response.body = body
    return response, rest


def _read_chunked(sock: socket.socket, buffer: bytes, frames: List[int]) -> Tuple[bytes, bytes]:
    body = b""
    while True:
        while b"\r\n" not in buffer:
            buffer += _recv(sock)
        size_line, _, buffer = buffer.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        frames.append(size)
        while len(buffer) < size + 2:
            buffer += _recv(sock)
        body += buffer[:size]
        buffer = buffer[size + 2 :]
        if size == 0:
            return body, buffer


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("connection closed inside a chunked body")
    return data


def exchange(host: str, port: int, request: bytes, method: str, timeout: float = 30.0) -> RawResponse:
    """Send *request* on a new connection and read one response."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        response, _ = read_response(sock, method)
        return response
