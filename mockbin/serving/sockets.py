"""The listening socket and the process limits every engine starts with.

Both engines bind through here first, so a busy port or a bad address is one
clear line (exit 2) under either, and port 0 means the same: the kernel picks
a free port before the server starts.
"""

from __future__ import annotations

import errno
import resource
import socket


class ServeError(RuntimeError):
    """mockbin cannot start serving; the message is one line."""


def bind_socket(host: str, port: int, backlog: int = 2048, listen: bool = True) -> socket.socket:
    """A listening TCP socket on *host*:*port*, or :class:`ServeError` saying why not.

    ``listen=False``: bound only (a probe of the address; connections to it are refused).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Set before listening: a connection accepted before the server sets it
        # would inherit Nagle's delay (~40 ms per keep-alive answer).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        if listen:
            sock.listen(backlog)
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ServeError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def raise_open_files(needed: int) -> int:
    """Lift the soft limit on open files towards *needed* (at most the hard limit); the new soft limit.

    Each connection is a descriptor: a worker serving ``--worker-connections``
    clients at once needs that many, and many systems start processes with a
    soft limit of 1024.  Only the soft limit moves; the hard one is the
    administrator's.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft
