"""gunicorn's arbiter and workers, changed only in how they stop.

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
"""

from __future__ import annotations

import errno
import socket
from typing import Any, Iterable

from gunicorn.arbiter import Arbiter as _Arbiter
from gunicorn.workers.gthread import ThreadWorker as _ThreadWorker
from gunicorn.workers.sync import SyncWorker as _SyncWorker


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
    """gunicorn's arbiter that stops listening as soon as SIGTERM arrives."""

    def handle_term(self) -> None:
        stop_listening(self.LISTENERS)
        super().handle_term()


class _StopWhenListenerGone:
    """Worker mix-in: a shut-down listener means "stop accepting", not a crash."""

    alive: bool

    def accept(self, listener: Any) -> None:
        try:
            super().accept(listener)  # type: ignore[misc]
        except OSError as exc:
            if not listener_gone(exc):
                raise
            self.alive = False


class SyncWorker(_StopWhenListenerGone, _SyncWorker):
    """The one-request-at-a-time worker (``--threads 1``)."""


class ThreadWorker(_StopWhenListenerGone, _ThreadWorker):
    """The threaded worker (``--threads`` above 1)."""
