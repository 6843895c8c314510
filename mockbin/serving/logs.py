"""The JSON access log (``--log-format json``): one object per line on stdout.

Log shippers (Loki, CloudWatch, ``jq`` in a CI step) read JSON lines without
a parsing rule per server.  gunicorn's ``access_log_format`` cannot produce
valid JSON (it does not escape quotes in a path or a User-Agent), so this
logger builds the line with :mod:`json`.  Request and response bodies are
never logged: only the request line, status, size, timing and two headers.
"""

from __future__ import annotations

import base64
import datetime
import json
import sys
import time
from typing import Any, Dict, Iterator

from gunicorn.glogging import Logger


def access_record(
    resp: Any, req: Any, environ: Dict[str, Any], request_time: datetime.timedelta
) -> Dict[str, Any]:
    """The fields of one access log line.

    The path is the one the client sent (``RAW_URI``): mockbin's ``--prefix``
    rewrites ``PATH_INFO`` on its way in.
    """
    path, _, query = environ.get("RAW_URI", "").partition("?")
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": environ.get("REQUEST_METHOD"),
        "path": path,
        "query": query,
        "status": int(status),
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "bytes": getattr(resp, "sent", None),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "user_agent": environ.get("HTTP_USER_AGENT"),
    }


class JsonLogger(Logger):
    """gunicorn's logger with JSON access lines; the error log is unchanged (stderr)."""

    def access(self, resp: Any, req: Any, environ: Dict[str, Any], request_time: datetime.timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            line = json.dumps(access_record(resp, req, environ, request_time), separators=(",", ":"))
            self.access_log.info("%s", line)
        except Exception:
            self.exception("cannot write the access log line")


class _Sent:
    """What :func:`access_record` reads from gunicorn's response: the status and the bytes sent."""

    def __init__(self) -> None:
        self.status = "500 Internal Server Error"
        self.sent = 0


def _user(environ: Dict[str, Any]) -> str:
    """The Basic-auth user name, as gunicorn's ``%(u)s`` shows it; ``-`` without one."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "basic":
        return "-"
    try:
        return base64.b64decode(token.strip()).decode("latin-1").split(":", 1)[0] or "-"
    except (ValueError, UnicodeError):
        return "-"


def combined_line(environ: Dict[str, Any], status: str, sent: int) -> str:
    """One access line in gunicorn's default (combined) format."""
    now = time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
    request = f"{environ.get('REQUEST_METHOD', '-')} {environ.get('RAW_URI', '-')} {environ.get('SERVER_PROTOCOL', '-')}"
    return (
        f"{environ.get('REMOTE_ADDR', '-')} - {_user(environ)} {now} \"{request}\" {status.split(None, 1)[0]} "
        f"{sent if sent else '-'} \"{environ.get('HTTP_REFERER', '-')}\" \"{environ.get('HTTP_USER_AGENT', '-')}\""
    )


class AccessLog:
    """WSGI middleware writing gunicorn's access lines on stdout, for granian (whose own lines differ).

    The line is written when the answer is done (the body iterable closed),
    with the bytes actually sent, as gunicorn logs it.
    """

    def __init__(self, app: Any, log_format: str) -> None:
        self.app = app
        self.json = log_format == "json"

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Any:
        started = time.monotonic()
        sent = _Sent()

        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            sent.status = status
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        if isinstance(body, list):  # the whole answer at once: log now, keep granian's fast path
            sent.sent = sum(len(chunk) for chunk in body)
            self.write(environ, sent, time.monotonic() - started)
            return body
        return _Counted(body, lambda: self.write(environ, sent, time.monotonic() - started), sent)

    def write(self, environ: Dict[str, Any], sent: _Sent, seconds: float) -> None:
        if self.json:
            record = access_record(sent, None, environ, datetime.timedelta(seconds=seconds))
            line = json.dumps(record, separators=(",", ":"))
        else:
            line = combined_line(environ, sent.status, sent.sent)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class _Counted:
    """A response body that counts its bytes and reports once it is closed."""

    def __init__(self, body: Any, done: Any, sent: _Sent) -> None:
        self.body = body
        self.done = done
        self.sent = sent

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.done()
