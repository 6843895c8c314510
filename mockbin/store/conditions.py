"""Conditional requests (RFC 9110 section 13) and ``Prefer`` (RFC 7240).

Preconditions are evaluated in the RFC's order: If-Match (else
If-Unmodified-Since), then If-None-Match (else, for GET and HEAD,
If-Modified-Since).  If-Match uses the strong comparison, If-None-Match the
weak one; ``*`` means "a current representation exists".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from werkzeug.datastructures import Headers
from werkzeug.http import parse_date, parse_etags

from ..problems import Problem

NOT_MODIFIED = 304
FAILED = 412


@dataclass(frozen=True)
class Current:
    """What the preconditions are evaluated against."""

    exists: bool
    etag: Optional[str] = None  # unquoted; None when there is no tag to compare
    modified: Optional[float] = None  # seconds since the epoch; None: no date


def evaluate(headers: Headers, current: Current, safe: bool) -> Optional[int]:
    """None when the method may proceed, else 304 (GET/HEAD only) or 412."""
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not _match(if_match, current, strong=True):
            return FAILED
    elif current.modified is not None:
        since = parse_date(headers.get("If-Unmodified-Since"))
        if since is not None and int(current.modified) > since.timestamp():
            return FAILED
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if _match(if_none_match, current, strong=False):
            return NOT_MODIFIED if safe else FAILED
    elif safe and current.modified is not None:
        since = parse_date(headers.get("If-Modified-Since"))
        if since is not None and int(current.modified) <= since.timestamp():
            return NOT_MODIFIED
    return None


def _match(value: str, current: Current, strong: bool) -> bool:
    tags = parse_etags(value)
    if tags.star_tag:
        return current.exists
    if current.etag is None:
        return False
    return tags.is_strong(current.etag) if strong else tags.contains_weak(current.etag)


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


def precondition_failed(detail: str, etag: Optional[str]) -> Problem:
    """412, with the current ETag so the client can retry against it."""
    headers = {"ETag": quote_etag(etag)} if etag else None
    return Problem("precondition-failed", detail, headers)


def is_conditional(headers: Headers) -> bool:
    return any(name in headers for name in ("If-Match", "If-None-Match", "If-Unmodified-Since"))


def preference(headers: Headers) -> Optional[str]:
    """The ``return`` preference of a ``Prefer`` header: "minimal", "representation" or None."""
    for value in headers.getlist("Prefer"):
        for part in value.split(","):
            token = part.split(";", 1)[0].strip()
            name, _, pref = token.partition("=")
            if name.strip().lower() == "return":
                pref = pref.strip().strip('"').lower()
                if pref in ("minimal", "representation"):
                    return pref
    return None
