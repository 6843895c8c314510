"""An in-process HTTP/1.1 server in a thread: what the pytest fixtures serve mockbin with.

Why not Werkzeug's development server as it is: since 2.x it ends every
response with ``Connection: close`` (its handler cannot drain an unread
request body before the next request line), so no client can test
keep-alive against it.  This module keeps Werkzeug's threaded server and its
WSGI environ (``make_environ``, chunked request bodies through
``DechunkedInput``) and replaces only the request/response cycle:

* keep-alive by default for HTTP/1.1 clients (``Connection: close`` honoured);
  an unread request body is drained (up to :data:`DRAIN_LIMIT`) so the next
  request on the connection parses, or the connection is closed;
* request framing as RFC 9112 section 6 has it, where Werkzeug's server is
  lenient: a ``Transfer-Encoding`` that does not end with ``chunked``, one
  next to a ``Content-Length``, in HTTP/1.0, or a ``Content-Length`` that is
  not one number is a 400 and the connection closes; chunked bodies are read
  by :class:`ChunkedInput` (section 7.1: CRLF everywhere, valid sizes,
  extensions and trailers), as strictly as gunicorn reads them.  A body that
  failed (malformed, or the client went away) closes the connection after
  the answer, which the app gives (a 400 problem from ``mockbin.limits``);
* responses without ``Content-Length`` are sent chunked, chunk by chunk as
  the app yields them (streamed downloads), or close-delimited for HTTP/1.0;
* one thread per connection; TLS handshakes happen in that thread (a client
  that stalls its handshake cannot block the accept loop);
* :meth:`LiveServer.stop` closes the listening socket and every open
  connection, then joins every thread: nothing is left behind.
"""

from __future__ import annotations

import io
import logging
import selectors
import socket
import ssl
import threading
from typing import Any, Callable, Dict, IO, Iterable, List, Optional, Set, Tuple, cast

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

from ..limits import CHUNK_LINE_LIMIT, TRAILER_LIMIT, check_trailer_field, chunk_size, chunked_is_final

log = logging.getLogger("mockbin.livesrv")

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Largest unread request body drained to keep a connection alive; past it the
#: connection is closed after the response instead.
DRAIN_LIMIT = 4 * 1024 * 1024
#: Seconds a client gets to complete its TLS handshake.
HANDSHAKE_TIMEOUT = 10.0
#: Seconds ``stop()`` waits for connection threads (a request still running).
JOIN_TIMEOUT = 5.0

# Connection-level headers belong to the server, not the app (PEP 3333).
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade")
)
_NO_BODY_STATUS = frozenset((204, 304))

class FramingError(ValueError):
    """The request's framing breaks RFC 9112: the connection cannot carry another request."""


class UnsupportedCoding(FramingError):
    """A transfer coding other than chunked (RFC 9112 section 6.1: 501)."""


def body_framing(headers: Any, version: str) -> Optional[int]:
    """The request body's ``Content-Length``, or None for a chunked body.

    Raises :class:`FramingError` (answered 400) or :class:`UnsupportedCoding`
    (501) for framing no server can read safely: section 6.3 of RFC 9112.
    """
    encodings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if encodings:
        codings = [coding.strip(" \t").lower() for value in encodings for coding in value.split(",")]
        if not chunked_is_final(", ".join(codings)):
            raise FramingError("the final transfer coding is not chunked")
        if version != "HTTP/1.1":
            raise FramingError(f"Transfer-Encoding in an {version} request")
        if lengths:
            raise FramingError("both Transfer-Encoding and Content-Length")
        if codings.count("chunked") > 1:
            raise FramingError("chunked is applied more than once")
        if len(codings) > 1:
            raise UnsupportedCoding(f"transfer codings {', '.join(codings[:-1])} are not supported")
        return None
    if not lengths:
        return 0
    if len(lengths) > 1 or not lengths[0].strip(" \t").isdigit() or not lengths[0].strip(" \t").isascii():
        raise FramingError("Content-Length is not one number")
    return int(lengths[0].strip(" \t"))


class ChunkedInput(io.RawIOBase):
    """A chunked request body (RFC 9112 section 7.1), de-chunked strictly.

    Framing errors raise :class:`FramingError`; a connection that ends inside
    the body raises ``ConnectionError``.  Reads never go past the end of the
    body (lines and chunk data are read by exact lengths), so the next
    request on the connection is left for the server.
    """

    def __init__(self, rfile: IO[bytes]) -> None:
        self._rfile = rfile
        self._left = 0  # bytes left in the current chunk
        self._done = False
        self.failed: Optional[Exception] = None  # once failed, every read fails the same way

    def readable(self) -> bool:
        return True

    def _line(self, limit: int) -> bytes:
        line = self._rfile.readline(limit + 1)
        if not line.endswith(b"\n"):
            if len(line) > limit:
                raise FramingError("a chunk line is too long")
            raise ConnectionError("the connection closed inside a chunked body")
        if not line.endswith(b"\r\n"):
            raise FramingError("a line of the chunked framing is not ended by CRLF")
        return line[:-2]

    def _start_chunk(self) -> bool:
        """Read the next chunk-size line; False at the last chunk (its trailers read too)."""
        try:
            self._left = chunk_size(self._line(CHUNK_LINE_LIMIT))
        except ValueError as exc:
            raise FramingError(str(exc)) from None
        if self._left == 0:
            self._read_trailers()
            self._done = True
        return not self._done

    def _read_trailers(self) -> None:
        total = 0
        while True:
            line = self._line(TRAILER_LIMIT)
            if not line:
                return
            total += len(line) + 2
            if total > TRAILER_LIMIT:
                raise FramingError("the trailer section is too large")
            try:
                check_trailer_field(line)
            except ValueError as exc:
                raise FramingError(str(exc)) from None

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1024 * 1024), b""))
        if self.failed is not None:
            raise self.failed
        try:
            return self._read(size)
        except (FramingError, ConnectionError, OSError) as exc:
            self.failed = exc
            raise

    def _read(self, size: int) -> bytes:
        if self._done or size == 0:
            return b""
        if self._left == 0 and not self._start_chunk():
            return b""
        data = self._rfile.read(min(size, self._left))
        if not data:
            raise ConnectionError("the connection closed inside a chunked body")
        self._left -= len(data)
        if self._left == 0:
            end = self._rfile.read(2)
            if end != b"\r\n":
                if len(end) < 2 and not end.strip(b"\r"):
                    raise ConnectionError("the connection closed inside a chunked body")
                raise FramingError("chunk data is not followed by CRLF")
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _LengthInput(LimitedStream):
    """A ``Content-Length`` body (Werkzeug's bounded stream) that remembers a client gone early."""

    failed = False

    def on_disconnect(self, error: Optional[Exception] = None) -> None:
        self.failed = True
        super().on_disconnect(error)


class _Exchange:
    """One request/response on a connection: ``start_response``, framing, writes."""

    def __init__(self, handler: "Handler", environ: Dict[str, Any], body: Any) -> None:
        self.handler = handler
        self.environ = environ
        self.body = body  # the server's input: a body that failed closes the connection
        self.status: Optional[str] = None
        self.headers: List[Tuple[str, str]] = []
        self.headers_sent = False
        self.chunked = False
        self.length: Optional[int] = None  # declared Content-Length
        self.written = 0
        self.head = environ["REQUEST_METHOD"] == "HEAD"

    def start_response(self, status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called twice without exc_info")
        self.status, self.headers = status, list(headers)
        return self.write

    def _send_head(self) -> bytes:
        """Status line and headers, returned (not sent) so the first body bytes share the write."""
        handler = self.handler
        assert self.status is not None, "write() before start_response()"
        code_text, _, reason = self.status.partition(" ")
        code = int(code_text)
        handler.send_response(code, reason)
        app_closes = False
        for name, value in self.headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP:
                app_closes = app_closes or (lowered == "connection" and "close" in value.lower())
                continue
            if lowered == "content-length":
                self.length = int(value)
            handler.send_header(name, value)
        bodiless = self.head or code < 200 or code in _NO_BODY_STATUS
        if self.length is None and not bodiless:
            if handler.request_version == "HTTP/1.1":
                self.chunked = True
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                app_closes = True  # the end of the body is the end of the connection
        if app_closes or getattr(self.body, "failed", None):
            handler.close_connection = True
        if handler.close_connection:
            handler.send_header("Connection", "close")
        elif handler.request_version != "HTTP/1.1":
            handler.send_header("Connection", "keep-alive")
        # What end_headers() would send: http.server keeps the head in a private buffer.
        head = b"".join(handler._headers_buffer) + b"\r\n"
        handler._headers_buffer = []  # type: ignore[attr-defined]
        self.headers_sent = True
        return head

    def write(self, data: bytes) -> None:
        head = b"" if self.headers_sent else self._send_head()
        if not data or self.head:
            if head:
                self.handler.wfile.write(head)
            return
        if self.length is not None:
            room = self.length - self.written
            if len(data) > room:  # an app that lies about its length ends the connection
                data, self.handler.close_connection = data[:room], True
        self.written += len(data)
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.handler.wfile.write(head + data if head else data)

    def finish(self) -> None:
        head = b"" if self.headers_sent else self._send_head()
        if self.chunked:
            self.handler.wfile.write(head + b"0\r\n\r\n")
        elif head:
            self.handler.wfile.write(head)
        if not self.chunked and self.length is not None and self.written != self.length and not self.head:
            self.handler.close_connection = True  # the client is left waiting for bytes


class Handler(WSGIRequestHandler):
    """Werkzeug's environ, mockbin's HTTP/1.1 request cycle (see the module docstring)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def run_wsgi(self) -> None:
        try:
            length = body_framing(self.headers, self.request_version)
        except FramingError as exc:
            self._refuse(501 if isinstance(exc, UnsupportedCoding) else 400, str(exc))
            return
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        rfile = cast(IO[bytes], self.rfile)
        if length is None:
            environ["wsgi.input"] = ChunkedInput(rfile)
            environ["wsgi.input_terminated"] = True
        else:
            environ["wsgi.input"] = _LengthInput(rfile, length)
            environ.pop("wsgi.input_terminated", None)
        body = environ["wsgi.input"]
        exchange = _Exchange(self, environ, body)
        try:
            result = self.server.app(environ, exchange.start_response)
            try:
                for data in result:
                    exchange.write(data)
                exchange.finish()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, socket.timeout, ssl.SSLError):
            self.close_connection = True
            return
        except Exception:
            log.exception("error serving %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
            self.close_connection = True
            if not exchange.headers_sent:
                self._internal_error()
            return
        if not self.close_connection and not _drain(body):
            self.close_connection = True

    def _refuse(self, status: int, reason: str) -> None:
        """Answer a request whose framing cannot be read, and close: where its body ends is unknown."""
        self.close_connection = True
        body = f"{reason}\n".encode("latin-1", "replace")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _internal_error(self) -> None:
        body = b"Internal Server Error\n"
        self.send_response(500)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """Silent: a test run does not want an access log on stderr."""

    def log_error(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def _drain(body: Any) -> bool:
    """Read what the app left of the request body; False if too much is left."""
    left = DRAIN_LIMIT
    try:
        while left > 0:
            data = body.read(min(left, 64 * 1024))
            if not data:
                return True
            left -= len(data)
        return not body.read(1)
    except Exception:  # a client that hung up mid-body, or a bad chunk size
        return False


class _Server(ThreadedWSGIServer):
    """Tracks its connections and threads so that ``stop()`` leaves nothing behind."""

    daemon_threads = True
    block_on_close = False  # we join our own threads, with a timeout

    def __init__(self, sock: socket.socket, app: WSGIApp, tls: Optional[ssl.SSLContext]) -> None:
        host, port = sock.getsockname()[:2]
        # stop() writes to this pair to end the accept loop's wait at once,
        # instead of the loop polling for a flag.  Made first: Werkzeug's
        # constructor already calls server_close() once (to swap in *sock*).
        self._wake_r, self._wake_w = socket.socketpair()
        super().__init__(host, port, app, Handler, fd=sock.fileno())
        # The listening socket stays plain; each connection is wrapped in its
        # own thread.  Werkzeug reads ``ssl_context`` for wsgi.url_scheme.
        self.ssl_context = tls
        self._lock = threading.Lock()
        self._connections: Set[socket.socket] = set()
        self._conn_threads: Set[threading.Thread] = set()
        self._closing = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept connections until :meth:`wake` is called."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    self._handle_request_noblock()  # type: ignore[attr-defined]  # socketserver's accept step

    def wake(self) -> None:
        """End :meth:`serve_forever`."""
        self._wake_w.send(b"x")

    def close_wake_pair(self) -> None:
        self._wake_r.close()
        self._wake_w.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), name="mockbin-conn", daemon=True
        )
        with self._lock:
            if self._closing:
                request.close()
                return
            self._connections.add(request)
            self._conn_threads.add(thread)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            if self.ssl_context is not None:
                request = self._wrap(request)
                request.settimeout(HANDSHAKE_TIMEOUT)
                request.do_handshake()  # in this thread: a stalled client blocks no one else
                request.settimeout(None)
            self.finish_request(request, client_address)
        except Exception:
            log.debug("connection from %s ended with an error", client_address, exc_info=True)
        finally:
            with self._lock:
                self._connections.discard(request)
                self._conn_threads.discard(threading.current_thread())
            self.shutdown_request(request)

    def _wrap(self, raw: socket.socket) -> ssl.SSLSocket:
        """The TLS socket for *raw*, which it replaces in the set ``stop()`` closes."""
        assert self.ssl_context is not None
        with self._lock:
            self._connections.discard(raw)
            wrapped = self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            self._connections.add(wrapped)
        return wrapped

    def shutdown_request(self, request: Any) -> None:
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on a connection from %s", client_address, exc_info=True)

    def close_connections(self) -> List[threading.Thread]:
        """Wake every connection thread (idle keep-alive ones block in a read)."""
        with self._lock:
            self._closing = True
            connections, threads = list(self._connections), list(self._conn_threads)
        for conn in connections:
            try:
                # The plain socket method: SSLSocket.shutdown would drop its
                # TLS state under a thread that is still reading.
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass
        return threads


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on *host*:*port*; ``OSError`` says why not (no ``sys.exit``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class LiveServer:
    """A WSGI app served on a real socket by a background thread until :meth:`stop`."""

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0, ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.app = app
        self.ssl_context = ssl_context
        sock = listen(host, port)
        try:
            self._server = _Server(sock, app, ssl_context)
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread: Optional[threading.Thread] = None

    @property
    def scheme(self) -> str:
        return "http" if self.ssl_context is None else "https"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> "LiveServer":
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"mockbin-server-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection, join every thread; idempotent."""
        if self._thread is not None:
            self._server.wake()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server.close_wake_pair()
        for thread in self._server.close_connections():
            thread.join(JOIN_TIMEOUT)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
