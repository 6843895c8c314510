"""The WebSocket echo session behind ``/websocket/echo``, on wsproto (RFC 6455).

wsproto does the protocol -- handshake validation, framing, masking, UTF-8
checks of text, control frames, the closing handshake -- and this module
only moves bytes between it and the connection taken from the server
(:mod:`mockbin.faults.takeover`), with go-httpbin's limits:

* a frame (fragment) larger than ``max_fragment_size`` or a message larger
  than ``max_message_size`` closes the connection with 1009 (message too
  big);
* each message is echoed with its type, in frames of at most
  ``max_fragment_size`` bytes;
* the session ends after ``--max-duration`` with 1001 (going away).

No extension (permessage-deflate) and no subprotocol is negotiated.
"""

from __future__ import annotations

import socket
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError

from ..echo import header_fields
from ..faults.takeover import Connection
from ..problems import Problem

MESSAGE_TOO_BIG = 1009
GOING_AWAY = 1001
RECEIVE_SIZE = 64 * 1024


def handshake(environ: Dict[str, Any]) -> Tuple[WSConnection, bytes]:
    """wsproto's server connection and the 101 answer to send, or a 400 problem saying what is missing."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    lines = [f"GET {target} HTTP/1.1"] + [f"{name}: {value}" for name, value in header_fields(environ)]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    ws = WSConnection(ConnectionType.SERVER)
    try:
        ws.receive_data(raw)
        events = list(ws.events())
    except RemoteProtocolError as exc:
        hint = exc.event_hint
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in getattr(hint, "headers", [])
        }
        raise Problem("websocket-handshake", f"This is no WebSocket handshake: {exc}.", headers=headers) from None
    if not events or not isinstance(events[0], Request):
        raise Problem("websocket-handshake", "This is no WebSocket handshake: the request is incomplete.")
    return ws, ws.send(AcceptConnection())


def frames_of(data: Union[str, bytes], size: int) -> Iterator[Union[str, bytes]]:
    """*data* in pieces of at most *size* bytes (text split between characters)."""
    if isinstance(data, bytes):
        for start in range(0, len(data), size):
            yield data[start : start + size]
        if not data:
            yield data
        return
    piece: List[str] = []
    length = 0
    for char in data:
        width = len(char.encode("utf-8"))
        if piece and length + width > size:
            yield "".join(piece)
            piece, length = [], 0
        piece.append(char)
        length += width
    yield "".join(piece)


class EchoSession:
    """One echo session on a connection whose 101 answer wsproto has prepared."""

    def __init__(self, conn: Connection, ws: WSConnection, max_fragment: int, max_message: int, lifetime: float) -> None:
        self.conn = conn
        self.ws = ws
        self.max_fragment = max_fragment
        self.max_message = max_message
        self.deadline = time.monotonic() + lifetime
        self.frame_size = 0
        self.parts: List[Union[str, bytes]] = []
        self.message_size = 0

    def run(self, accept: bytes) -> None:
        """Send the 101, echo until either side closes or time is up (the caller closes the connection)."""
        if self.conn.send(accept):
            while self._step():
                pass

    def _send(self, event: Event) -> bool:
        return self.conn.send(self.ws.send(event))

    def _close(self, code: int, reason: str) -> bool:
        if self.ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self._send(CloseConnection(code=code, reason=reason))
        return False

    def _receive(self) -> Optional[bytes]:
        """Bytes from the client; b"" when it is gone; None when time is up."""
        sock = self.conn.sock
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                sock.settimeout(remaining)
                data: bytes = sock.recv(RECEIVE_SIZE)
                return data
            except socket.timeout:
                continue
            except (OSError, ValueError):
                return b""

    def _step(self) -> bool:
        data = self._receive()
        if data is None:
            return self._close(GOING_AWAY, "the session reached --max-duration")
        if not data:
            return False
        self.ws.receive_data(data)
        for event in self.ws.events():
            if not self._handle(event):
                return False
        return True

    def _handle(self, event: Event) -> bool:
        if isinstance(event, (TextMessage, BytesMessage)):
            return self._piece(event)
        if isinstance(event, Ping):
            return self._send(event.response())
        if isinstance(event, CloseConnection):
            # The client's close (answered in kind), or wsproto's verdict on a
            # protocol error (1002) or invalid UTF-8 (1007), sent to the client.
            if self.ws.state == ConnectionState.REMOTE_CLOSING:
                self._send(event.response())
            else:
                self._close(event.code, event.reason or "")
            return False
        return True  # Pong: nothing to do

    def _piece(self, event: Union[TextMessage, BytesMessage]) -> bool:
        data: Union[str, bytes] = event.data if isinstance(event.data, str) else bytes(event.data)
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        self.frame_size += size
        self.message_size += size
        if self.frame_size > self.max_fragment:
            return self._close(MESSAGE_TOO_BIG, f"a frame is larger than max_fragment_size={self.max_fragment}")
        if self.message_size > self.max_message:
            return self._close(MESSAGE_TOO_BIG, f"a message is larger than max_message_size={self.max_message}")
        self.parts.append(data)
        if event.frame_finished:
            self.frame_size = 0
        if not event.message_finished:
            return True
        message = "".join(self.parts) if isinstance(data, str) else b"".join(self.parts)  # type: ignore[arg-type]
        self.parts, self.message_size = [], 0
        return self._echo(message)

    def _echo(self, message: Union[str, bytes]) -> bool:
        pieces = list(frames_of(message, self.max_fragment))
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            event: Event = (
                TextMessage(data=piece, message_finished=last)
                if isinstance(piece, str)
                else BytesMessage(data=piece, message_finished=last)
            )
            if not self._send(event):
                return False
        return True
