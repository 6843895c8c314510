"""granian's WSGI requests and answers, made to read as gunicorn's.

mockbin's answers are byte-for-byte httpbin's as gunicorn serves it.  Under
granian the app sees a slightly different environ and granian writes a
different response head; :class:`GunicornLike` evens both out, so the
differential suites pass under either server (docs/compatibility.md lists
what is left: what granian never hands to the app).

Requests (the environ):

* ``wsgi.url_scheme``: gunicorn trusts ``X-Forwarded-Proto: https``,
  ``X-Forwarded-Ssl: on`` and ``X-Forwarded-Protocol: ssl`` from a loopback
  peer (its ``forwarded_allow_ips``) and refuses contradictory ones with
  400; granian ignores them.
* ``SERVER_PROTOCOL``: granian says ``HTTP/1`` for HTTP/1.0.
* ``HTTP_HOST``: granian sets an empty one when an HTTP/1.0 client sent
  none; gunicorn sets none.
* Header values: granian writes text as UTF-8, gunicorn as Latin-1 bytes;
  values are handed over so that the bytes match.
* ``RAW_URI``: gunicorn's request target as sent; granian has none, so the
  target is rebuilt from the path and query.
* The client's socket (``gunicorn.socket``) does not exist under granian:
  routes that need it answer a problem document.

Answers (the head): gunicorn starts every head with ``Server``, ``Date``
and ``Connection``; granian would write ``server: granian`` and ``date`` at
the end and no ``Connection``.  mockbin writes the three itself, in
gunicorn's order and with gunicorn's values, and granian keeps them.  Like
gunicorn, it drops hop-by-hop headers an app sets (``Proxy-Authenticate``,
``Connection``, ``Server``...) and trims blanks around values.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import quote

from ..fastlane import PLAIN_HEADERS
from ..problems import Problem
from ..settings import Settings

#: gunicorn's ``secure_scheme_headers`` (environ key -> the value meaning https).
SECURE_SCHEME_HEADERS = {
    "HTTP_X_FORWARDED_PROTOCOL": "ssl",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_SSL": "on",
}
#: gunicorn's ``forwarded_allow_ips``: the peers whose scheme headers it believes.
TRUSTED_PEERS = ("127.0.0.1", "::1")
SERVER = "gunicorn"
#: Response headers gunicorn never passes on from an app (its hop-by-hop set,
#: plus Server and Date, which it writes itself).
HOP_BY_HOP = frozenset(
    "connection keep-alive proxy-authenticate proxy-authorization te trailers "
    "transfer-encoding upgrade server date".split()
)

_SCHEME_KEYS = frozenset(SECURE_SCHEME_HEADERS)
_CONTRADICTORY = b"Contradictory scheme headers"
_SERVER, _KEEP_ALIVE, _CLOSE = ("Server", SERVER), ("Connection", "keep-alive"), ("Connection", "close")


_date_cache: Tuple[int, str] = (0, "")


def _http_date() -> str:
    """The ``Date`` value, as gunicorn writes it; formatted once per second (the value's resolution)."""
    global _date_cache
    now = int(time.time())
    second, text = _date_cache
    if second != now:
        text = email.utils.formatdate(now, usegmt=True)
        _date_cache = (now, text)
    return text


def scheme_of(environ: Dict[str, Any], base: str) -> Optional[str]:
    """The URL scheme gunicorn would report; None when the scheme headers contradict each other."""
    if environ.get("REMOTE_ADDR") not in TRUSTED_PEERS or environ.keys().isdisjoint(_SCHEME_KEYS):  # 3 lookups
        return base
    found = {
        "https" if environ[key] == secure else "http"
        for key, secure in SECURE_SCHEME_HEADERS.items()
        if key in environ
    }
    if len(found) > 1:
        return None
    return found.pop() if found else base


#: A path that :func:`quote` leaves as it is (the usual case): its own request target.
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=._~-]*")


def raw_uri(environ: Dict[str, Any]) -> str:
    """The request target, rebuilt from the decoded path (granian keeps no copy of it)."""
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    if _PLAIN_TARGET.fullmatch(path):
        return f"{path}?{query}" if query else path
    try:
        target = quote(path.encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    except UnicodeEncodeError:
        target = quote(path, safe="/:@!$&'()*+,;=-._~")
    return f"{target}?{query}" if query else target


def closes(environ: Dict[str, Any], headers: List[Tuple[str, str]], status: int) -> bool:
    """Whether gunicorn would close the connection after this answer."""
    if "HTTP_CONNECTION" not in environ and environ.get("SERVER_PROTOCOL") != "HTTP/1.0":
        return False  # HTTP/1.1 keeps the connection unless asked (or unframed on HTTP/1.0)
    tokens = {token.strip().lower() for token in environ.get("HTTP_CONNECTION", "").split(",")}
    if environ.get("SERVER_PROTOCOL") == "HTTP/1.0":
        if "keep-alive" not in tokens:
            return True
    elif "close" in tokens:
        return True
    if status in (204, 304) or environ.get("REQUEST_METHOD") == "HEAD":
        return False
    framed = any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers)
    # Without a length, HTTP/1.1 answers chunked (kept alive); HTTP/1.0 ends at close.
    return not framed and environ.get("SERVER_PROTOCOL") == "HTTP/1.0"


#: What happens to a response header on its way to granian: dropped, kept as it is, or respelled.
DROP, KEEP, RESPELL = 0, 1, 2
_verdicts: Dict[Tuple[str, str], int] = {}


def _verdict(header: Tuple[str, str]) -> int:
    """:data:`DROP` a hop-by-hop header (gunicorn does), :data:`RESPELL` a value granian would write otherwise.

    Memoised per (name, value): apps send the same few headers over and over.
    """
    verdict = _verdicts.get(header)
    if verdict is None:
        name, value = header
        if name.lower() in HOP_BY_HOP:
            verdict = DROP
        elif not value.isascii() or value[:1] in " \t" or value[-1:] in " \t":
            verdict = RESPELL
        else:
            verdict = KEEP
        if len(_verdicts) < 4096 and len(name) + len(value) <= 256:  # few distinct headers, most short
            _verdicts[header] = verdict
    return verdict


def as_granian_writes(value: str) -> str:
    """*value* (WSGI: one character per byte) spelled so granian writes the same bytes as gunicorn.

    gunicorn writes a header value's characters as Latin-1 bytes; granian
    writes its text as UTF-8.  A value whose bytes are UTF-8 is handed over
    decoded; one whose bytes are not cannot be written by granian as they are.
    """
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


class GunicornLike:
    """WSGI middleware: gunicorn's environ in, gunicorn's head out, under granian."""

    def __init__(self, app: Callable[..., Any], settings: Settings) -> None:
        self.app = app
        self.base_scheme = "https" if settings.tls else "http"

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
        if protocol == "HTTP/1":
            environ["SERVER_PROTOCOL"] = protocol = "HTTP/1.0"
        if protocol == "HTTP/1.0" and environ.get("HTTP_HOST") == "":
            del environ["HTTP_HOST"]  # granian's stand-in for "no Host header"
        if "RAW_URI" not in environ:
            environ["RAW_URI"] = raw_uri(environ)
        scheme = scheme_of(environ, self.base_scheme)
        if scheme is None:
            start_response(
                "400 Bad Request",
                [("Server", SERVER), ("Date", _http_date()), ("Connection", "close"),
                 ("Content-Type", "text/html"), ("Content-Length", str(len(_CONTRADICTORY)))],
            )
            return [_CONTRADICTORY]
        environ["wsgi.url_scheme"] = scheme
        if protocol.startswith("HTTP/2"):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        # Whether the connection may stay open is settled in the head; asked for only by HTTP/1.0 or a Connection header.
        may_close = protocol == "HTTP/1.0" or "HTTP_CONNECTION" in environ
        refused: List[bytes] = []

        def start(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            plain = environ.pop(PLAIN_HEADERS, None) is headers
            if status[0] == "1" and status[:3] != "101":  # granian cannot end an exchange with a 1xx answer (101 it can)
                problem = Problem(
                    "engine-cannot",
                    f"granian cannot send {status!r} as a final answer (gunicorn can: run mockbin with "
                    "--server gunicorn for /status/1xx)",
                )
                response = problem.get_response()
                refused.append(response.get_data())
                status, headers, plain = response.status, response.headers.to_wsgi_list(), False
            head = [_SERVER, ("Date", _http_date()), _KEEP_ALIVE]
            if plain:
                head += headers  # nothing to drop or respell (the fast lane's usual answer)
            else:
                for header in headers:
                    verdict = _verdicts.get(header)
                    if verdict is None:
                        verdict = _verdict(header)
                    if verdict == KEEP:
                        head.append(header)
                    elif verdict == RESPELL:  # rare: the slow way
                        head.append((header[0], as_granian_writes(header[1].strip(" \t"))))
            if may_close and closes(environ, head, int(status[:3])):
                head[2] = _CLOSE
            return start_response(status, head, exc_info)

        result: Iterable[bytes] = self.app(environ, start)
        if refused:
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return refused
        return result
