"""HTTP Digest authentication (RFC 2617 / RFC 7616) as httpbin's /digest-auth checks it.

The hash is MD5, SHA-256 or SHA-512, chosen by the ``algorithm`` the
*client* names in its credentials (anything else is MD5), and computed from
the client's ``username``, ``realm`` and ``nonce`` with the password in the
URL -- so, as with httpbin, any user name and any nonce pass when the
password is right.  What differs from httpbin is only where it crashes:
credentials missing a field the hash needs, or naming an unknown ``qop``,
simply fail to match here instead of raising.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Iterable, Mapping, Optional

REALM = "me@kennethreitz.com"  # httpbin's realm; clients may echo or display it
ALGORITHMS = ("MD5", "SHA-256", "SHA-512")
QOPS = ("auth", "auth-int")
_HASHES = {"SHA-256": hashlib.sha256, "SHA-512": hashlib.sha512}

Credentials = Mapping[str, Optional[str]]


def hash_hex(data: bytes, algorithm: Optional[str]) -> str:
    """H(data): hex digest with SHA-256 or SHA-512 when named exactly so, else MD5."""
    return _HASHES.get(algorithm or "", hashlib.md5)(data).hexdigest()


def _join(*parts: str) -> bytes:
    return b":".join(part.encode("utf-8") for part in parts)


def expected_response(
    credentials: Credentials, password: str, method: str, uri: str, body: bytes
) -> Optional[str]:
    """The ``response`` value the client should have sent for *uri*, or None if the
    credentials lack what the computation needs (no username, unknown qop,
    qop without nc/cnonce/nonce)."""
    algorithm = credentials.get("algorithm")
    username = credentials.get("username")
    qop = credentials.get("qop")
    if username is None or qop not in (None, "auth", "auth-int"):
        return None
    ha1 = hash_hex(_join(username, credentials.get("realm") or "", password), algorithm)
    if qop == "auth-int":
        ha2 = hash_hex(_join(method, uri, hash_hex(body, algorithm)), algorithm)
    else:
        ha2 = hash_hex(_join(method, uri), algorithm)
    if qop is None:
        return hash_hex(_join(ha1, credentials.get("nonce") or "", ha2), algorithm)
    nonce, nc, cnonce = (credentials.get(key) for key in ("nonce", "nc", "cnonce"))
    if nonce is None or nc is None or cnonce is None:
        return None
    return hash_hex(_join(ha1, nonce, nc, cnonce, qop, ha2), algorithm)


def verify(
    credentials: Credentials, password: str, method: str, uris: Iterable[str], body: bytes
) -> bool:
    """Whether the client's ``response`` matches for one of the URIs the request may be named by."""
    sent = credentials.get("response")
    if sent is None:
        return False
    return any(sent == expected_response(credentials, password, method, uri, body) for uri in uris)


def challenge(qop: Optional[str], algorithm: str, stale: bool = False) -> str:
    """A ``WWW-Authenticate`` value spelled as httpbin's: quoted realm, nonce, opaque and
    qop; bare algorithm; ``stale=True``/``stale=False``.  *qop* None offers both."""
    nonce = hash_hex(b"%d:" % time.time_ns() + os.urandom(16), algorithm)
    opaque = hash_hex(os.urandom(16), algorithm)
    offered = qop if qop is not None else ", ".join(QOPS)
    return (
        f'Digest realm="{REALM}", nonce="{nonce}", opaque="{opaque}", '
        f'qop="{offered}", algorithm={algorithm}, stale={stale}'
    )


def next_stale_after(value: str) -> str:
    """The countdown cookie after one more successful request: n-1, or ``never``."""
    try:
        return str(int(value) - 1)
    except ValueError:
        return "never"
