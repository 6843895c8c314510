"""Which hosts ``/redirect-to`` may send a client to (``--allowed-redirect-domains``).

With no allowlist (the default, as httpbin) every target is allowed.  With
one, a target is allowed when it stays on this server (a relative
reference: a path, a query or a fragment) or when it is an ``http``/``https``
URL whose host is listed.  Everything else is refused, including other
schemes (``javascript:``, ``data:``) and the spellings browsers read as a
host although a naive parser does not: ``//host``, ``/\\host``,
``http:host``, ``/<TAB>/host``.  A listed ``*.example.com`` allows every
subdomain of example.com (not example.com itself).
"""

from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple
from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri

from ..settings import normalise_host

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_STRIPPED = "".join(chr(c) for c in range(0x21))  # C0 controls and space, trimmed by browsers


def browser_view(url: str) -> str:
    """*url* as a browser's URL parser reads it before resolving: trimmed, no tabs or
    newlines, backslashes as slashes (WHATWG URL, special schemes)."""
    text = url.strip(_STRIPPED)
    for ch in "\t\r\n":
        text = text.replace(ch, "")
    return text.replace("\\", "/")


def target_host(url: str) -> Tuple[Optional[str], Optional[str]]:
    """``(scheme, host)`` that *url* leads to; ``(None, None)`` for a relative reference."""
    text = browser_view(url)
    if text.startswith("//"):
        return "http", normalise_host(urlsplit("http:" + text).hostname or "")
    match = _SCHEME.match(text)
    if match is None:
        return None, None
    scheme = match.group(1).lower()
    if scheme not in ("http", "https"):
        return scheme, None
    rest = text[match.end() :].lstrip("/")
    try:
        host = urlsplit("http://" + rest).hostname or ""
    except ValueError:
        host = rest
    return scheme, normalise_host(host)


def is_listed(host: str, allowed: Sequence[str]) -> bool:
    """Whether *host* (normalised) is an allowed entry or a subdomain of a ``*.`` entry."""
    return any(
        host.endswith(entry[1:]) if entry.startswith("*.") else host == entry for entry in allowed
    )


def refusal(url: str, allowed: Sequence[str]) -> Optional[str]:
    """None if *url* may be a redirect target; else what is refused (a host or ``scheme:``).

    Both the URL as given and the ``Location`` value Werkzeug will send
    (IRI->URI encoded) are checked, so no encoding step can turn a
    relative reference into a foreign host.
    """
    if not allowed:
        return None
    for candidate in (url, iri_to_uri(url)):
        scheme, host = target_host(candidate)
        if scheme is None:
            continue
        if host is None:
            return f"{scheme}: URLs"
        if not is_listed(host, allowed):
            return host or "an empty host"
    return None
