"""Taking the client connection over from the server, and handing it back dead.

WSGI has no way to say "reset this connection" or "send these trailers":
the server owns framing and the socket.  The routes that must break the
rules (``/fault/*``, fault rules, ``/trailers``, ``/websocket/echo``) use
the socket the server exposes in the environ -- gunicorn's
``gunicorn.socket`` under every worker type, Werkzeug's ``werkzeug.socket``
in the pytest live server -- write to it themselves, and then end the
request so that the server neither writes an answer of its own nor reuses
the connection:

* the connection is **retired**: a fresh, unconnected socket is ``dup2``-ed
  over its descriptor.  The server's socket object stays valid (its later
  ``shutdown``/``close`` act on the stand-in, harmlessly), while the real
  connection is released at once -- with a FIN after the bytes sent, or an
  RST when ``SO_LINGER`` 0 was set.  No descriptor is closed under the
  server's feet, so none can be reused by another connection meanwhile.
* the request ends with the signal each server reads as "this connection is
  finished": ``StopIteration`` for gunicorn (sync, gthread and gevent
  workers close the connection and serve the next), ``ConnectionError`` for
  Werkzeug's servers (the pytest live server included).  That is how
  Flask-Sock ends a WebSocket request under the same servers.

An engine without a socket in the environ (granian's WSGI interface, an
in-process test client) gets a 501 problem document of kind
``engine-cannot`` instead, and so does HTTP/2, where the socket carries
other streams too.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from email.utils import formatdate
from typing import Any, Dict, Iterable, List, NoReturn, Optional, Tuple

from flask import Response

from ..problems import Problem

SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
#: Seconds a blocked send may take before the client counts as gone.
SEND_TIMEOUT = 10.0
#: Seconds a graceful close waits for the client to close its side.
LINGER = 1.0
#: Largest request body read (and discarded) before a fault; past it the rest stays unread.
DRAIN_CAP = 64 * 1024 * 1024

Headers = List[Tuple[str, str]]


def client_socket(environ: Dict[str, Any]) -> Optional[Tuple[str, socket.socket]]:
    """``(environ key, socket)`` of the client connection, when the server exposes one."""
    for key in SOCKET_KEYS:
        sock = environ.get(key)
        if isinstance(sock, socket.socket):
            return key, sock
    return None


def is_http2(environ: Dict[str, Any]) -> bool:
    """Whether the request is one stream of an HTTP/2 connection (gunicorn's ``h2``)."""
    return environ.get("HTTP_VERSION") == "2" or str(environ.get("SERVER_PROTOCOL", "")).startswith("HTTP/2")


def engine_cannot(what: str, environ: Dict[str, Any]) -> Problem:
    """The 501 for a server that gives the app no socket to do *what* with."""
    software = environ.get("SERVER_SOFTWARE") or "this server"
    if is_http2(environ):
        why = "over HTTP/2 the connection carries other requests too; use HTTP/1.1"
    else:
        why = (
            f"{software} gives the application no access to the client connection; "
            "serve mockbin with gunicorn (the default engine) or the pytest plugin"
        )
    return Problem("engine-cannot", f"{what} needs the raw client connection: {why}.", engine=software)


def retire(sock: socket.socket) -> None:
    """Release the connection now; the server's socket object becomes an unconnected stand-in."""
    stand_in = socket.socket(sock.family, socket.SOCK_STREAM)
    try:
        os.dup2(stand_in.fileno(), sock.fileno(), inheritable=False)
    except OSError:
        pass  # already closed by someone else: nothing left to release
    finally:
        stand_in.close()


def http_date() -> str:
    return formatdate(usegmt=True)


def head(status: str, headers: Iterable[Tuple[str, str]], version: str = "HTTP/1.1") -> bytes:
    """A response head as bytes: status line, header fields, blank line (values Latin-1)."""
    lines = [f"{version} {status}"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def server_headers(environ: Dict[str, Any]) -> Headers:
    """The headers a server adds by itself: ``Server`` (when it names itself) and ``Date``."""
    software = environ.get("SERVER_SOFTWARE")
    return ([("Server", str(software))] if software else []) + [("Date", http_date())]


class Connection:
    """The client connection of one request, taken from the server.

    Build it with :meth:`take`; write with :meth:`send`; end with
    :meth:`close` (FIN) or :meth:`reset` (RST); then return
    :meth:`finish`'s signal (or a :class:`TakenOver` response) so the server
    lets go of the request.
    """

    def __init__(self, environ: Dict[str, Any], key: str, sock: socket.socket) -> None:
        self.environ = environ
        self.key = key
        self.sock = sock
        self.released = False

    @classmethod
    def take(cls, environ: Dict[str, Any], what: str) -> "Connection":
        """The connection, or the ``engine-cannot`` problem naming *what* needed it."""
        found = client_socket(environ)
        if found is None or is_http2(environ):
            raise engine_cannot(what, environ)
        return cls(environ, *found)

    @property
    def version(self) -> str:
        """The HTTP version to answer in: the request's, never above 1.1."""
        return "HTTP/1.0" if self.environ.get("SERVER_PROTOCOL") == "HTTP/1.0" else "HTTP/1.1"

    def drain_request(self, cap: int = DRAIN_CAP) -> None:
        """Read what is left of the request body (up to *cap* bytes), so closing sends FIN, not RST.

        Unread bytes in the kernel's receive buffer turn a close into a
        reset; a fault that should look like a clean close must not leave any.
        """
        stream = self.environ.get("wsgi.input")
        if stream is None:
            return
        length = self.environ.get("CONTENT_LENGTH") or ""
        chunked = bool(self.environ.get("wsgi.input_terminated")) and not length
        left = min(int(length), cap) if length.isdigit() else (cap if chunked else 0)
        try:
            while left > 0:
                data = stream.read(min(left, 64 * 1024))
                if not data:
                    return
                left -= len(data)
        except Exception:  # a client that hung up mid-body, a body over the limit: nothing to keep
            return

    def send(self, data: bytes) -> bool:
        """Write *data*; False when the client is gone (or stopped reading for ``SEND_TIMEOUT``)."""
        if not data:
            return True
        try:
            self.sock.settimeout(SEND_TIMEOUT)
            self.sock.sendall(data)
            return True
        except (OSError, ValueError):
            return False

    def wait(self, seconds: float, consume: bool = True) -> bool:
        """Send nothing for *seconds*; False as soon as the client closes its side.

        A blocking ``recv`` with a timeout watches the connection (no
        ``poll``: gevent's patching removes it, while its sockets wait
        cooperatively).  With *consume* (a hang: the request was read, later
        bytes are dropped) everything that arrives is read; without (a
        delay in front of a handler that still reads the body, or of a
        pipelined request) bytes are only peeked at, and once some wait the
        rest of the time is slept.  The socket's own timeout is restored.
        """
        deadline = time.monotonic() + seconds
        previous = self.sock.gettimeout()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return True
                try:
                    self.sock.settimeout(remaining)
                    data = self.sock.recv(64 * 1024) if consume else self.sock.recv(1, socket.MSG_PEEK)
                except socket.timeout:
                    continue
                except ValueError:  # TLS sockets cannot peek: wait without watching
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    return True
                except OSError:
                    return False
                if not data:
                    return False
                if not consume:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    return True
        finally:
            try:
                self.sock.settimeout(previous)
            except OSError:
                pass

    def close(self) -> None:
        """End the connection cleanly: FIN after everything sent, then release it."""
        if self.released:
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self._linger()
        except (OSError, ValueError):
            pass
        self._release()

    def _linger(self) -> None:
        """Read until the client closes too (or ``LINGER`` passes), so no late byte turns FIN into RST."""
        deadline = time.monotonic() + LINGER
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.sock.recv(64 * 1024):
                    return
            except (BlockingIOError, socket.timeout):
                return
            except (OSError, ValueError):
                return

    def reset(self) -> None:
        """End the connection with a TCP reset (RST): ``SO_LINGER`` 0, then release it."""
        if self.released:
            return
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, ValueError):
            pass
        self._release()

    def _release(self) -> None:
        self.released = True
        retire(self.sock)

    def finish(self) -> NoReturn:
        """End the request: the signal this server reads as "the connection is finished"."""
        if not self.released:
            self.close()
        finish_request(self.environ)


def finish_request(environ: Dict[str, Any]) -> NoReturn:
    """Raise what tells the serving engine that the request ended with its connection."""
    found = client_socket(environ)
    if found is not None and found[0] == "gunicorn.socket":
        # gunicorn's workers (sync, gthread, gevent) log "Closing connection"
        # and close it; no answer is written, the connection is not reused.
        raise StopIteration("mockbin took the connection over")
    # Werkzeug's servers (and the pytest live server) drop the connection.
    raise ConnectionError("mockbin took the connection over")


class TakenOver(Response):
    """What a view returns after it answered (or broke) the connection itself.

    A Flask response (so Flask keeps its class), on which Flask runs its
    after-request hooks as on any other; when the server calls it, it ends
    the request instead of producing an answer.  With *status* (the status
    the view sent itself: 101 for a WebSocket, 200 for ``/trailers``) it
    first tells ``start_response``, so middleware such as the request
    journal records it; nothing is written by the server either way.  A
    *connection* still open is closed only then, so whoever sees the
    connection end also finds the request's status recorded.
    """

    def __init__(self, status: Optional[int] = None, connection: Optional[Connection] = None) -> None:
        super().__init__(status=status or 200)
        self.announced = status is not None
        self.connection = connection

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.announced:
            start_response(self.status, [])
        if self.connection is not None:
            self.connection.finish()
        finish_request(environ)
