"""Authentication: Basic (/basic-auth, /hidden-basic-auth), Bearer (/bearer) and Digest (/digest-auth).

Digest follows httpbin's flow, cookies included: the challenge sets
``stale_after`` (the countdown from the URL) and ``fake=fake_value``; each
success decrements ``stale_after``; at 0, or when a nonce is replayed
(``last_nonce``), the next request gets a ``stale=True`` challenge.  With
``?require-cookie=1`` the client must send the cookies back.  The hash
rules live in :mod:`mockbin.digest`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from flask import Response
from werkzeug.datastructures import Authorization
from werkzeug.wrappers import Request

from . import digest
from ..echo import body
from ..jsonify import json_response
from .wire import set_cookie
from .status import status_response

Answer = Union[Response, Dict[str, Any]]


def _basic_ok(request: Request, user: str, passwd: str) -> bool:
    auth = request.authorization
    return bool(auth and auth.username == user and auth.password == passwd)


def basic_auth(request: Request, user: str, passwd: str) -> Answer:
    """Basic auth for this user and password; 401 with a challenge otherwise."""
    if not _basic_ok(request, user, passwd):
        return status_response(401, request.script_root)
    return {"authenticated": True, "user": user}


def hidden_basic_auth(request: Request, user: str, passwd: str) -> Answer:
    """Basic auth for this user and password; an empty 404 otherwise (no challenge)."""
    if not _basic_ok(request, user, passwd):
        return status_response(404, request.script_root)
    return {"authenticated": True, "user": user}


def bearer(request: Request) -> Answer:
    """Any bearer token is accepted and echoed; 401 without an Authorization: Bearer header."""
    authorization = request.headers.get("Authorization")
    if not authorization or not authorization.startswith("Bearer "):
        response = Response(b"", status=401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return {"authenticated": True, "token": authorization[len("Bearer ") :]}


def digest_auth(
    request: Request,
    qop: str,
    user: str,
    passwd: str,
    algorithm: str = "MD5",
    stale_after: str = "never",
) -> Response:
    """Digest auth (qop auth or auth-int; MD5, SHA-256 or SHA-512; stale after n uses)."""
    offered_qop = qop if qop in digest.QOPS else None
    algorithm = algorithm if algorithm in digest.ALGORITHMS else "MD5"
    require_cookie = request.args.get("require-cookie", "").lower() in ("1", "t", "true")
    cookies = request.cookies
    credentials = Authorization.from_header(request.headers.get("Authorization"))
    if (
        credentials is None
        or credentials.type != "digest"
        or (require_cookie and "HTTP_COOKIE" not in request.environ)
    ):
        return _challenge(offered_qop, algorithm, stale_after, None, stale=False)
    if require_cookie and cookies.get("fake") != "fake_value":
        response = json_response({"errors": ["missing cookie set on challenge"]}, status=403)
        set_cookie(response, "fake", "fake_value")
        return response
    nonce = credentials.get("nonce")
    countdown = cookies.get("stale_after")  # None when the cookie is absent
    replayed = "last_nonce" in cookies and nonce == cookies.get("last_nonce")
    if replayed or countdown == "0":
        return _challenge(offered_qop, algorithm, stale_after, nonce or "", stale=True)
    params = credentials.parameters
    if not digest.verify(params, passwd, request.method, request_uris(request), body(request)):
        return _challenge(offered_qop, algorithm, stale_after, nonce or "", stale=False)
    response = json_response({"authenticated": True, "user": user})
    set_cookie(response, "fake", "fake_value")
    if countdown:
        set_cookie(response, "stale_after", digest.next_stale_after(countdown))
    return response


def _challenge(
    qop: Optional[str], algorithm: str, stale_after: str, last_nonce: Optional[str], stale: bool
) -> Response:
    """401 with a fresh Digest challenge and the flow's cookies (``last_nonce`` once a
    credential was seen)."""
    response = Response(b"", status=401)
    response.headers["WWW-Authenticate"] = digest.challenge(qop, algorithm, stale)
    set_cookie(response, "stale_after", stale_after)
    if last_nonce is not None:
        set_cookie(response, "last_nonce", last_nonce)
    set_cookie(response, "fake", "fake_value")
    return response


def request_uris(request: Request) -> List[str]:
    """The names a client may have hashed for this request.

    First httpbin's (mount point + decoded path, plus the query string,
    which httpbin's own code cannot append), then the request target
    exactly as sent, for paths with percent-escapes.
    """
    query = request.environ.get("QUERY_STRING", "")
    uris = [request.script_root + request.path + ("?" + query if query else "")]
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw and raw not in uris:
        uris.append(raw)
    return uris
