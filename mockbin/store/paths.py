"""Which request paths are resources, and their canonical form.

A resource path is one that no httpbin route claims (inside
``--store-prefix`` when set), outside ``/__mockbin/``.  It must name
something cleanly: dot segments, encoded slashes, empty segments, control
characters and non-UTF-8 bytes are a 400, since silently normalising them
would store data under a name the client did not send.  One trailing slash
is dropped (``/articles/`` is ``/articles``), unless dropping it lands on an
httpbin route (``/get/`` stays httpbin's 404).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect

from ..settings import ADMIN_PREFIX
from ..problems import Problem

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED_SLASH = re.compile(r"%2f", re.IGNORECASE)


class Paths:
    def __init__(self, url_map: Map, prefix: str) -> None:
        self.url_map = url_map
        self.prefix = prefix

    def resource_path(self, environ: Dict[str, Any]) -> Optional[str]:
        """The canonical resource path of a request, None if it is not one, 400 if malformed.

        Call it only for requests Flask could not route: it does not look the
        path itself up in the URL map (Flask already did).
        """
        raw = environ.get("PATH_INFO", "")
        if not raw.startswith("/"):
            return None  # "OPTIONS *" and the like: about the server, not a resource
        if self.prefix and raw != self.prefix and not raw.startswith(self.prefix + "/"):
            return None
        if raw == ADMIN_PREFIX or raw.startswith(ADMIN_PREFIX + "/"):
            return None
        path = raw[:-1] if raw.endswith("/") and len(raw) > 1 else raw
        if path in ("", "/") or (path != raw and self.claimed(path)):
            return None  # "/get/" stays httpbin's 404, like every unrouted slash variant
        return _checked(path, environ)

    def seed_problem(self, path: Any) -> Optional[str]:
        """Why *path* cannot hold a seeded item (None if it can): the rules of live requests."""
        if not isinstance(path, str) or not path.startswith("/"):
            return "a path must be a string starting with /"
        try:
            resolved = self.resource_path({"PATH_INFO": path.encode("utf-8").decode("latin-1")})
        except Problem as problem:
            return problem.detail
        if resolved != path:
            return "not a resource path (outside --store-prefix, under /__mockbin, or with a trailing /)"
        if self.claimed(path):
            return "claimed by an httpbin route"
        return None

    def claimed(self, path: str) -> bool:
        """Does an httpbin route answer *path* (for any method)?"""
        try:
            self.url_map.bind("localhost").match(path, method="GET")
        except NotFound:
            return False
        except (MethodNotAllowed, RequestRedirect):
            return True
        return True


def _checked(path: str, environ: Dict[str, Any]) -> str:
    """*path* (a WSGI latin-1 string) as text, or a 400 problem saying what is wrong with it."""

    def bad(detail: str) -> Problem:
        return Problem("bad-path", detail)

    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if _ENCODED_SLASH.search(raw_uri.split("?", 1)[0]):
        raise bad("the path contains an encoded slash (%2F); a resource name cannot contain '/'")
    try:
        text = path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise bad("the path is not valid UTF-8 once percent-decoded") from None
    segments = text[1:].split("/")
    if "" in segments:
        raise bad("the path has an empty segment (//); every segment must name something")
    if "." in segments or ".." in segments:
        raise bad("the path has a '.' or '..' segment; send the path without dot segments")
    if _CONTROL.search(text):
        raise bad("the path contains a control character")
    return text
