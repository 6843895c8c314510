"""Waiting inside a response, and giving up when the client has gone.

The slow routes (``/delay``, ``/drip``, ``/range?duration``, ``/sse``) pause
between pieces of their answer.  A bare ``time.sleep`` would keep the worker
thread busy for the full time even after the client hung up, which on a
one-worker CI sidecar blocks every other test.  When the server hands the
connection's socket to the app (gunicorn as ``gunicorn.socket``, Werkzeug's
server as ``werkzeug.socket``), a :class:`Pacer` waits on that socket
instead: the peer closing its end wakes the wait at once and the route
stops.  Without a socket (in-process calls) it simply sleeps.

Nothing is locked or held while waiting, so other threads of the same worker
keep serving.  A client that half-closes its sending side looks the same as
one that left; HTTP clients do not do that while awaiting an answer.
"""

from __future__ import annotations

import select
import socket
import time
from typing import Any, Dict, Optional

SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
_POLL_IN = getattr(select, "POLLIN", 1) | getattr(select, "POLLHUP", 16) | getattr(select, "POLLERR", 8)


def connection_of(environ: Dict[str, Any]) -> Optional[Any]:
    """The client connection's socket, when the server exposes a plain one."""
    for key in SOCKET_KEYS:
        sock = environ.get(key)
        if isinstance(sock, socket.socket) and hasattr(select, "poll"):
            return sock
    return None


class Pacer:
    """A clock for one response: wait until an offset from its origin, unless the client leaves."""

    def __init__(self, environ: Dict[str, Any]) -> None:
        self._sock = connection_of(environ)
        self.origin = time.monotonic()
        self.gone = False

    def restart(self) -> None:
        """Measure later offsets from now (the first byte of a paced body)."""
        self.origin = time.monotonic()

    def wait(self, seconds: float) -> bool:
        """Wait *seconds* from now; False when the client disconnected meanwhile."""
        self.restart()
        return self.wait_until(seconds)

    def wait_until(self, offset: float) -> bool:
        """Wait until *offset* seconds after the origin; returns at once when already late.

        Returns False (and sets :attr:`gone`) when the client disconnected.
        """
        deadline = self.origin + offset
        while not self.gone:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if self._sock is None:
                time.sleep(remaining)
            else:
                self._watch(remaining)
        return False

    def _watch(self, remaining: float) -> None:
        """Sleep up to *remaining* seconds on the socket; note whether the peer closed it."""
        sock = self._sock
        assert sock is not None
        try:
            poller = select.poll()
            poller.register(sock, _POLL_IN)
            if not poller.poll(max(1, int(remaining * 1000) + 1)):
                return
            peeked = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except ConnectionError:
            # Reset by the peer: a client that closes with our answer still
            # unread in its buffer resets the connection rather than ending it.
            self.gone = True
            return
        except (OSError, ValueError):
            # A socket that cannot be peeked (TLS): finish the wait as a sleep.
            self._sock = None
            return
        if peeked == b"":
            self.gone = True
        else:
            # The client sent more bytes (a pipelined request): the socket stays
            # readable, so watching it would spin; finish the wait as a sleep.
            self._sock = None
