"""gunicorn's arbiter and workers: how they stop, what they do with broken request bodies, the gevent worker.

mockbin's default worker is :class:`GeventWorker`: each connection is a
greenlet, so a client that trickles its request, a ``/delay/10`` or a
``/drip`` costs a few kilobytes and never a thread that every other client
waits for (see docs/architecture.md, "Serving").  The sync and gthread
workers stay available (``--worker-class``).

Every worker class here stops the same way:

On SIGTERM gunicorn lets in-flight requests finish (up to
``--graceful-timeout``), but the workers keep their copy of the listening
socket open meanwhile: new connections are still completed by the kernel,
wait in the backlog, and are reset when the last worker exits.  A client (or
a load balancer) should rather be refused at once, so it retries elsewhere.

So the arbiter, when *it* is told to stop, shuts the listening socket down.
``shutdown()`` acts on the socket shared by every process, not on one
descriptor, so on Linux the port stops listening for all workers at once.
Workers that then find the listener gone stop accepting and exit as on
SIGTERM.  Only the arbiter does this: a worker also gets SIGTERM when
gunicorn reloads (SIGHUP) or scales down (SIGTTOU), and must not close the
port for the workers that stay.

**Request bodies** (:class:`_BodyHandling`).  mockbin's app answers a request
whose body ended early or whose chunked framing is broken with a 400
problem (``mockbin.limits``); the worker then closes the connection, since
where the next request starts is unknown, and says so (``Connection:
close``).  A ``Transfer-Encoding`` whose final coding is not ``chunked`` is
a 400 with the connection closed (RFC 9112 section 6.3: the body length
cannot be determined), where gunicorn answers 501 when it does not know one
of the codings; 501 stays for an unknown coding before a final ``chunked``
(section 6.1).  Chunked bodies are read by :class:`StrictChunkedReader`:
gunicorn's reader, except that chunk-size and trailer lines follow
``mockbin.limits``' rules, so a line ended by a bare LF or a chunk size of
thousands of digits fails at once instead of waiting for a CRLF that never
comes -- the same rules as the pytest plugin's live server.  And the memory
of a large body goes back to the system when its request ends
(:func:`return_large_allocations`), so a worker's size follows its load.
"""

from __future__ import annotations

import ctypes
import errno
import signal
import socket
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from gunicorn.arbiter import Arbiter as _Arbiter
from gunicorn.http.body import ChunkedReader
from gunicorn.http.errors import InvalidChunkSize, InvalidHeader, NoMoreData, UnsupportedTransferCoding
from gunicorn.workers.base_async import AsyncWorker as _AsyncWorker
from gunicorn.workers.gthread import ThreadWorker as _ThreadWorker
from gunicorn.workers.sync import SyncWorker as _SyncWorker

from ..limits import CHUNK_LINE_LIMIT, TRAILER_LIMIT, body_failure, check_trailer_field, chunk_size, chunked_is_final

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: accept() errors that concern one connection, not the listener: try the next.
_ACCEPT_AGAIN = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED, errno.EPROTO, errno.EINTR)
#: accept() errors that mean "out of descriptors or memory": wait, then try again.
_ACCEPT_LATER = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def stop_listening(listeners: Iterable[Any]) -> None:
    """Take *listeners* out of the listening state: the kernel refuses new connections."""
    for listener in listeners:
        try:
            listener.sock.shutdown(socket.SHUT_RD)
        except OSError:
            # Not every kernel can shut a listening socket down; gunicorn
            # still closes it when the workers exit.
            pass


def listener_gone(exc: OSError) -> bool:
    """accept() fails with EINVAL on a listening socket that was shut down."""
    return exc.errno == errno.EINVAL


class Arbiter(_Arbiter):
    """gunicorn's arbiter that stops listening as soon as SIGTERM (or a first Ctrl-C) arrives.

    Ctrl-C means what ``docker stop`` means: stop listening, let the requests
    in flight finish.  gunicorn's own SIGINT is a quick stop; here it takes a
    second Ctrl-C, which gunicorn's graceful stop loop turns into one
    (SIGQUIT to the workers).  The workers ignore SIGINT themselves (a
    terminal sends it to the whole process group): the arbiter decides.
    """

    def handle_term(self) -> None:
        stop_listening(self.LISTENERS)
        super().handle_term()

    def handle_int(self) -> None:
        self.log.info("Ctrl-C: finishing the requests in flight (Ctrl-C again to stop at once)")
        self.handle_term()


class _InterruptsGoToTheArbiter:
    """Worker mix-in: SIGINT is ignored; the arbiter relays it as SIGTERM or SIGQUIT."""

    def init_signals(self) -> None:
        super().init_signals()  # type: ignore[misc]
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class _StopWhenListenerGone(_InterruptsGoToTheArbiter):
    """Worker mix-in: a shut-down listener means "stop accepting", not a crash."""

    alive: bool

    def accept(self, listener: Any) -> None:
        try:
            super().accept(listener)  # type: ignore[misc]
        except OSError as exc:
            if not listener_gone(exc):
                raise
            self.alive = False


def _crlf_line(unreader: Any, buffer: bytearray, limit: int) -> Tuple[bytes, bytes]:
    """The next line of *buffer* and then the connection, without its CRLF, and what follows it.

    Only a CRLF ends a line (RFC 9112 section 2.2): a bare LF is an error at
    once.  A line longer than *limit* is an error; the end of the connection
    is :class:`NoMoreData` (the body is incomplete).
    """
    while True:
        end = buffer.find(b"\n")
        if end >= 0:
            break
        if len(buffer) > limit:
            raise InvalidChunkSize(b"a line of the chunked framing is too long")
        data = unreader.read()
        if not data:
            raise NoMoreData(bytes(buffer[-64:]))
        buffer += data
    if end == 0 or buffer[end - 1] != 0x0D or end - 1 > limit:
        raise InvalidChunkSize(b"a line of the chunked framing is not ended by CRLF")
    return bytes(buffer[: end - 1]), bytes(buffer[end + 1 :])


class StrictChunkedReader(ChunkedReader):
    """gunicorn's chunked body reader with mockbin's line rules (``mockbin.limits``)."""

    def parse_chunk_size(self, unreader: Any, data: Optional[bytes] = None) -> Tuple[int, Optional[bytes]]:
        line, rest = _crlf_line(unreader, bytearray(data or b""), CHUNK_LINE_LIMIT)
        try:
            size = chunk_size(line)
        except ValueError as exc:
            raise InvalidChunkSize(str(exc).encode()) from None
        if size == 0:
            self.parse_trailers(unreader, rest)
            return 0, None
        return size, rest

    def parse_trailers(self, unreader: Any, data: bytes) -> None:
        fields: List[bytes] = []
        total = 0
        while True:
            line, data = _crlf_line(unreader, bytearray(data), TRAILER_LIMIT)
            if not line:
                break
            total += len(line) + 2
            if total > TRAILER_LIMIT:
                raise InvalidHeader("trailer section too large")
            try:
                check_trailer_field(line)
            except ValueError as exc:
                raise InvalidHeader(str(exc)) from None
            fields.append(line)
        unreader.unread(data)  # the next request on the connection
        if fields:
            block = b"\r\n".join(fields)
            try:
                self.req.trailers = self.req.parse_headers(block, from_trailer=True)
            except TypeError:  # a gunicorn whose parse_headers knows no trailers
                self.req.trailers = self.req.parse_headers(block)


def use_strict_chunked_reader(request: Any) -> None:
    """Swap gunicorn's chunked reader of *request* for :class:`StrictChunkedReader` (before any read)."""
    body: Any = getattr(request, "body", None)
    reader = getattr(body, "reader", None)
    if type(reader) is ChunkedReader:
        body.reader = StrictChunkedReader(request, request.unreader)


def close_after_broken_body(app: WSGIApp) -> WSGIApp:
    """*app*, with gunicorn's reading and closing adjusted for broken request bodies.

    gunicorn passes its ``Response.start_response`` to the app; that
    response object knows the request (whose chunked reader is swapped for
    :class:`StrictChunkedReader`) and can be told to close the connection
    (``force_close``), which also makes gunicorn write ``Connection: close``.
    Checked when the app answers: by then it has read (or failed to read)
    what it needed of the body.
    """

    def guarded(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        use_strict_chunked_reader(getattr(getattr(start_response, "__self__", None), "req", None))

        def checked_start_response(status: str, headers: List[Any], exc_info: Any = None) -> Any:
            if body_failure(environ) is not None:
                response = getattr(start_response, "__self__", None)
                force_close = getattr(response, "force_close", None)
                if force_close is not None:
                    force_close()
            return start_response(status, headers, exc_info)

        return app(environ, checked_start_response)

    return guarded


#: Allocations from this size on get their own pages from the system (glibc's M_MMAP_THRESHOLD).
MMAP_THRESHOLD = 128 * 1024


def return_large_allocations() -> None:
    """Have glibc map large allocations on their own, so freeing one returns it to the system.

    glibc raises its mmap threshold to the size of the largest block freed
    (up to 32 MiB): after the first large request body, bodies of megabytes
    come from the heap, whose freed memory stays in the process, and a
    worker that once served a few large requests concurrently stays that
    big.  A fixed threshold keeps it at 128 KiB, where every body read,
    echoed or stored is mapped and unmapped with its request
    (benchmarks/bench_soak.py).  Elsewhere than glibc: nothing to do.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD


class _BodyHandling:
    """Worker mix-in for request bodies: broken ones close the connection, large ones return their memory.

    Also: a Transfer-Encoding without a final chunked is a 400.  Every
    mockbin worker class must include it (see the module docstring): the
    sync, threaded and gevent workers here do, and so must any worker class added
    for another gunicorn worker kind.
    """

    wsgi: WSGIApp

    def init_process(self) -> None:
        return_large_allocations()
        super().init_process()  # type: ignore[misc]

    def load_wsgi(self) -> None:
        super().load_wsgi()  # type: ignore[misc]
        self.wsgi = close_after_broken_body(self.wsgi)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, UnsupportedTransferCoding) and not chunked_is_final(str(exc.hdr)):
            exc = InvalidHeader("TRANSFER-ENCODING", req=req)
        super().handle_error(req, client, addr, exc)  # type: ignore[misc]


class SyncWorker(_BodyHandling, _StopWhenListenerGone, _SyncWorker):
    """The one-request-at-a-time worker (``--threads 1``)."""


class ThreadWorker(_BodyHandling, _StopWhenListenerGone, _ThreadWorker):
    """The threaded worker (``--threads`` above 1)."""


class GeventWorker(_BodyHandling, _InterruptsGoToTheArbiter, _AsyncWorker):
    """One greenlet per connection, up to ``--worker-connections`` at once (the default worker).

    gunicorn parses and answers each request exactly as its sync worker does
    (same parser, same response writer: the same bytes on the wire); only
    the waiting is cooperative.  gevent patches the standard library in the
    worker, after the fork, so ``time.sleep``, ``select.poll`` and socket
    reads in a handler (``/delay``, ``/drip``, a slow upload) yield to the
    other connections instead of blocking them.

    mockbin accepts connections itself rather than through gevent's
    ``StreamServer``: a listener shut down by the arbiter (SIGTERM) then means
    "stop accepting" as in the other workers, and TLS handshakes happen in
    the connection's own greenlet, never in the accept loop.

    A client gets ``keepalive`` seconds (gunicorn's setting, 2 s) to send each
    request head: one that trickles its head is cut off and costs nothing
    after that.  A body may take as long as the client needs; each one holds
    only its own greenlet.
    """

    alive: bool

    def init_process(self) -> None:
        from gevent import monkey

        # After the fork, before anything else runs here: the arbiter built
        # the app unpatched (preload), which is safe because mockbin holds its
        # locks only around work that never waits (see docs/architecture.md).
        monkey.patch_all()
        import gevent

        gevent.reinit()
        self._tls: Any = None
        super().init_process()

    def timeout_ctx(self) -> Any:
        """The time a client has to send a request head (gunicorn's ``keepalive``)."""
        import gevent

        return gevent.Timeout(self.cfg.keepalive or None, False)

    def run(self) -> None:
        import gevent
        from gevent.pool import Pool

        pool = Pool(self.worker_connections)
        acceptors = [gevent.spawn(self._accept_loop, listener, pool) for listener in self.sockets]
        while self.alive:
            self.notify()
            gevent.sleep(1.0)
        gevent.killall(acceptors)
        self._drain(pool)

    def _accept_loop(self, listener: Any, pool: Any) -> None:
        """Accept connections on *listener* while the worker lives; one greenlet each."""
        import gevent
        from gevent.socket import socket as gevent_socket

        # The listener was made in the arbiter, before patching: wrap its
        # descriptor in a cooperative socket (the original stays open for
        # gunicorn to close).
        sock = gevent_socket(fileno=listener.fileno())
        try:
            sock.setblocking(True)
            while self.alive:
                pool.wait_available()
                try:
                    client, address = sock.accept()
                except OSError as exc:
                    if listener_gone(exc):
                        self.alive = False  # the arbiter stopped listening: finish and exit
                        return
                    if exc.errno in _ACCEPT_AGAIN:
                        continue
                    if exc.errno in _ACCEPT_LATER:
                        self.log.warning("cannot accept a connection: %s; retrying in 0.1 s", exc)
                        gevent.sleep(0.1)
                        continue
                    raise
                pool.spawn(self._serve_connection, listener, client, address)
        finally:
            sock.detach()

    def _serve_connection(self, listener: Any, client: Any, address: Any) -> None:
        client.setblocking(True)
        if self.cfg.is_ssl:
            try:
                client = self._tls_context().wrap_socket(
                    client,
                    server_side=True,
                    suppress_ragged_eofs=self.cfg.suppress_ragged_eofs,
                    do_handshake_on_connect=self.cfg.do_handshake_on_connect,
                )
            except OSError as exc:  # a failed handshake concerns this client only
                self.log.debug("TLS handshake with %s failed: %s", address, exc)
                client.close()
                return
        self.handle(listener, client, address)

    def _tls_context(self) -> Any:
        """One server TLS context per worker (gunicorn's, built from its certfile/keyfile)."""
        if self._tls is None:
            from gunicorn.sock import ssl_context

            self._tls = ssl_context(self.cfg)
        return self._tls

    def _drain(self, pool: Any) -> None:
        """Let requests in flight finish, up to ``--graceful-timeout``, then end the rest."""
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while len(pool) and time.monotonic() < deadline:
            self.notify()
            pool.join(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
        if len(pool):
            self.log.warning("graceful timeout: ending %d connection(s) still open", len(pool))
            pool.kill(timeout=1)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        import gevent

        try:
            return super().handle_request(listener_name, req, sock, addr)
        except (gevent.GreenletExit, SystemExit):
            return False  # ended by the graceful timeout or a quick stop

    def handle_quit(self, sig: int, frame: Any) -> None:
        # SIGINT/SIGQUIT: a quick stop, run in a greenlet (a signal handler must not block).
        import gevent

        gevent.spawn(super().handle_quit, sig, frame)

    def handle_usr1(self, sig: int, frame: Any) -> None:
        import gevent

        gevent.spawn(super().handle_usr1, sig, frame)


#: ``--worker-class`` value -> the worker's import path for gunicorn.
WORKER_CLASSES = {
    "gevent": __name__ + ".GeventWorker",
    "gthread": __name__ + ".ThreadWorker",
    "sync": __name__ + ".SyncWorker",
}
