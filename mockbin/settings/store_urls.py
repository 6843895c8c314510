"""Store URLs: ``memory://``, ``sqlite:///path``, ``redis://host:port/db``.

Parsing is separate from opening so that a malformed URL fails while the
settings are read (exit 2, one line), before anything is started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Tuple
from urllib.parse import parse_qsl, urlsplit

EXAMPLES = "memory://, sqlite:///path/to/file.db or redis://host:port/db"
SQLITE_SYNC = ("normal", "full")
DEFAULT_REDIS_PREFIX = "mockbin:"


class StoreURLError(ValueError):
    """A store URL mockbin cannot use; the message is one line."""


@dataclass(frozen=True)
class StoreURL:
    kind: str  # "memory", "sqlite" or "redis"
    url: str
    path: str = ""  # sqlite: the database file
    options: Dict[str, str] = field(default_factory=dict)


def _options(url: str, query: str, allowed: Tuple[str, ...]) -> Dict[str, str]:
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        known = ", ".join(allowed) or "none"
        raise StoreURLError(f"{url!r}: unknown option {unknown[0]!r} (known: {known})")
    return options


def parse_url(url: str) -> StoreURL:
    """Split *url* into a :class:`StoreURL`, or raise :class:`StoreURLError`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if parts.netloc or parts.path or parts.query:
            raise StoreURLError(f"{url!r}: memory:// takes no path or options")
        return StoreURL("memory", url)
    if scheme == "sqlite":
        # sqlite:///abs/file.db is absolute; sqlite://rel/file.db is relative
        # to the working directory (the URL's host part starts the path).
        path = parts.netloc + parts.path
        if not path or path.endswith("/") or path == ":memory:":
            raise StoreURLError(
                f"{url!r}: sqlite:// needs a database file path, like sqlite:///var/lib/mockbin/store.db"
            )
        options = _options(url, parts.query, ("synchronous",))
        if options.get("synchronous", "normal") not in SQLITE_SYNC:
            raise StoreURLError(f"{url!r}: synchronous must be one of {', '.join(SQLITE_SYNC)}")
        return StoreURL("sqlite", url, path.replace("//", "/"), options)
    if scheme in ("redis", "rediss"):
        if not parts.hostname:
            raise StoreURLError(f"{url!r}: redis:// needs a host, like redis://127.0.0.1:6379/0")
        try:
            port_ok = parts.port is None or parts.port >= 0
        except ValueError:
            port_ok = False
        if not port_ok:
            raise StoreURLError(f"{url!r}: the port is not a number from 0 to 65535")
        database = parts.path.strip("/") or "0"
        if not database.isdigit():
            raise StoreURLError(f"{url!r}: the database must be a number, like redis://127.0.0.1:6379/0")
        options = _options(url, parts.query, ("prefix",))
        options.setdefault("prefix", DEFAULT_REDIS_PREFIX)
        return StoreURL("redis", url, options=options)
    raise StoreURLError(f"{url!r} is not a store URL (use {EXAMPLES})")
