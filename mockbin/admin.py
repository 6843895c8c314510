"""mockbin's own API under ``/__mockbin/``: health, reset, the store, and the gate in front of it all.

Every answer here is JSON; every error is an RFC 9457 problem document.
Features that keep state (the stateful store, the request journal) register
a reset hook with :func:`on_reset`, so ``POST /__mockbin/reset`` clears
them all in one call.  ``/__mockbin/store`` exports, seeds and clears the
stateful mode's store (format: mockbin/store/documents.py).

The admin API is an attack surface: mockbin runs on developers' machines
next to their browsers, and the journal holds the credentials and cookies
that tests sent.  :class:`AdminGuard` wraps the whole app (outside the
journal, the fast lane and Flask), so every path under ``/__mockbin/``,
today's and tomorrow's, passes the same checks (docs/security.md):

* no web page may call it: a foreign ``Origin``, or a ``Sec-Fetch-Site``
  other than ``none`` (the user typing the URL), gets 403 -- including
  pages on mockbin's own origin, because ``/base64`` and
  ``/response-headers`` serve attacker-chosen HTML there, as httpbin does;
* on a loopback bind, a ``Host`` that is no loopback name (DNS rebinding)
  gets 403, unless ``--admin-hosts`` lists it;
* with ``--admin-token``, every request but ``/__mockbin/health`` needs
  ``Authorization: Bearer <token>`` (401);
* no answer ever carries CORS headers, so even a preflight from another
  origin fails.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from .version import __version__
from .problems import Problem
from .routes.redirect_policy import is_listed
from .settings import ADMIN_PREFIX, Settings, describe, env_name, flag_name, normalise_host
from .store import RESOURCES_KEY, STORE_KEY
from .store.base import StoreError

RESET_HOOKS = "mockbin.reset_hooks"
#: The one admin path a token does not guard: container healthchecks carry none.
HEALTH_PATH = ADMIN_PREFIX + "/health"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SLASHES = re.compile(r"/{2,}")
_ADMIN_NAME = ADMIN_PREFIX.lstrip("/")

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]

blueprint = Blueprint("admin", __name__)


def on_reset(app: Flask, hook: Callable[[], None]) -> None:
    """Have ``POST /__mockbin/reset`` call *hook*."""
    app.extensions.setdefault(RESET_HOOKS, []).append(hook)


@blueprint.get("/health")
def health() -> Dict[str, Any]:
    """mockbin's own liveness check, for container healthchecks and fixtures."""
    answer = {"status": "ok", "version": __version__}
    store = current_app.extensions.get(STORE_KEY)
    if store is not None:
        answer["store"] = store.kind
    return answer


@blueprint.post("/reset")
def reset() -> Dict[str, Any]:
    """Forget everything recorded or stored: store, journal, counters."""
    hooks: List[Callable[[], None]] = current_app.extensions.get(RESET_HOOKS, [])
    for hook in hooks:
        hook()
    return {"status": "reset"}


def _store() -> Tuple[Any, Any]:
    """The store and its path rules, or a 404 problem when the stateful mode is off."""
    store = current_app.extensions.get(STORE_KEY)
    if store is None:
        raise Problem(
            "stateful-off", "there is no store: start mockbin with --stateful (MOCKBIN_STATEFUL=1)"
        )
    return store, current_app.extensions[RESOURCES_KEY]


@blueprint.errorhandler(StoreError)
def _store_error(exc: StoreError) -> BaseResponse:
    return exc.problem().get_response()


@blueprint.get("/store")
def export_store() -> Response:
    """Everything stored, as one JSON document (items by path, collection counters).

    Items are listed in creation order (not sorted like httpbin's JSON), so
    seeding the document back recreates collections in the same order.
    """
    from .store.documents import export

    store, _ = _store()
    body = json.dumps(export(*store.dump()), indent=2) + "\n"
    return Response(body.encode("ascii"), content_type="application/json")


@blueprint.put("/store")
def seed_store() -> Response:
    """Replace the whole store with the document in the body (the format GET returns)."""
    from .store.documents import parse

    store, resources = _store()
    try:
        document = json.loads(request.get_data())
        items, counters = parse(document, resources.paths.seed_problem)
    except (ValueError, RecursionError) as exc:
        raise Problem("bad-store-document", str(exc)) from None
    store.load(items, counters)
    return Response(status=204)


@blueprint.delete("/store")
def clear_store() -> Response:
    """Forget every stored item, counter and idempotency record."""
    store, _ = _store()
    store.clear()
    return Response(status=204)


def register(app: Flask) -> None:
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)


# -- the gate -----------------------------------------------------------------


def is_admin_path(path: str) -> bool:
    """Whether *path* (``PATH_INFO``) names mockbin's own API; ``//__mockbin`` counts too."""
    if _ADMIN_NAME not in path:  # every other request: no need to fold slashes
        return False
    path = _SLASHES.sub("/", path)
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def split_host(host: str) -> Tuple[str, Optional[int]]:
    """``Host`` or ``host:port`` -> normalised name and port (None when absent or not a number).

    IPv6 literals come bracketed (``[::1]:8080``); a bare ``::1`` is read as
    an address, not as a host with a port.
    """
    host = host.strip()
    port: Optional[int] = None
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif host.count(":") == 1:
        name, _, text = host.partition(":")
        port = int(text) if text.isdigit() else None
    else:
        name = host
    return normalise_host(name), port


def is_loopback(host: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 or ``::1`` (IPv4-mapped too), with or without port."""
    name, _ = split_host(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def request_host(environ: Dict[str, Any]) -> str:
    host: str = environ.get("HTTP_HOST") or ""
    if not host:
        host = environ.get("SERVER_NAME", "")
        port = environ.get("SERVER_PORT", "")
        if port and port != str(_DEFAULT_PORTS.get(environ.get("wsgi.url_scheme", ""), "")):
            host += ":" + port
    return host


def own_origin(environ: Dict[str, Any]) -> str:
    """The origin this request addressed: its scheme and ``Host``, as a browser spells an Origin."""
    return f"{environ.get('wsgi.url_scheme', 'http')}://{request_host(environ)}"


def _origin_key(origin: str) -> Optional[Tuple[str, str, int]]:
    """(scheme, host, port) of an origin, default ports filled in; None for ``null`` or nonsense."""
    try:
        parts = urlsplit(origin.strip())
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, normalise_host(parts.hostname), port


def same_origin(origin: str, environ: Dict[str, Any]) -> bool:
    mine = _origin_key(own_origin(environ))
    return mine is not None and _origin_key(origin) == mine


def bearer_token(environ: Dict[str, Any]) -> Optional[bytes]:
    """The token of an ``Authorization: Bearer`` header, as sent (bytes), or None."""
    header: str = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode("latin-1")  # WSGI tunnels the raw bytes as latin-1


class AdminGuard:
    """WSGI middleware: the one gate in front of every ``/__mockbin/`` path.

    Other paths pass straight through, untouched (httpbin's CORS behaviour
    included).  Admin requests are checked in this order: who sent them (a
    web page gets 403), which ``Host`` they name (403), the token (401); the
    answers that pass lose any ``Access-Control-*`` header on the way out.
    """

    def __init__(self, app: WSGIApp, settings: Settings) -> None:
        self.app = app
        self.bound_to_loopback = is_loopback(settings.host)
        self.admin_hosts = settings.admin_hosts
        self.host_checked = self.bound_to_loopback or bool(settings.admin_hosts)
        self.token = settings.admin_token.encode("utf-8") if settings.admin_token else None

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_admin_path(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        problem = self.refusal(environ)
        if problem is not None:
            return problem.get_response()(environ, start_response)

        def without_cors(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
            return start_response(status, kept, exc_info)

        return self.app(environ, without_cors)

    def refusal(self, environ: Dict[str, Any]) -> Optional[Problem]:
        """Why this admin request is refused, or None to let it through."""
        return self.page_refusal(environ) or self.host_refusal(environ) or self.token_refusal(environ)

    def page_refusal(self, environ: Dict[str, Any]) -> Optional[Problem]:
        """403 for a request a web page made: a foreign Origin, or Fetch Metadata that says so.

        Browsers send ``Sec-Fetch-Site: none`` only for what the user did
        (typed the URL, a bookmark); ``cross-site``, ``same-site`` and
        ``same-origin`` mean a page asked.  Same-origin pages are refused
        too: the httpbin routes serve client-chosen HTML on this very origin.
        """
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "").strip().lower()
        if fetch_site and fetch_site != "none":
            return Problem(
                "admin-cross-origin",
                f"The admin API does not answer web pages (this request says Sec-Fetch-Site: {fetch_site}). "
                "Call it from a test, a script or curl; see docs/security.md.",
            )
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not same_origin(origin, environ):
            return Problem(
                "admin-cross-origin",
                f"The admin API answers only its own origin ({own_origin(environ)}), not {origin[:200]}. "
                "Call it from a test, a script or curl; see docs/security.md.",
            )
        return None

    def host_refusal(self, environ: Dict[str, Any]) -> Optional[Problem]:
        """403 for a Host that is not this machine's loopback nor listed (DNS rebinding)."""
        if not self.host_checked:
            return None
        host: str = environ.get("HTTP_HOST") or ""  # none (HTTP/1.0): not a browser
        if not host or is_loopback(host) or is_listed(split_host(host)[0], self.admin_hosts):
            return None
        return Problem(
            "admin-host",
            f"The admin API answers only loopback host names (localhost, 127.0.0.1, [::1]) and those "
            f"listed by {describe('admin_hosts')}, not {host[:200]!r}. Add the name there if you reach "
            "mockbin under it.",
        )

    def token_refusal(self, environ: Dict[str, Any]) -> Optional[Problem]:
        """401 without the right bearer token (compared in constant time); ``/health`` needs none."""
        if self.token is None or _SLASHES.sub("/", environ.get("PATH_INFO", "")) == HEALTH_PATH:
            return None
        sent = bearer_token(environ)
        if sent is not None and hmac.compare_digest(sent, self.token):
            return None
        challenge = 'Bearer realm="mockbin"' + (', error="invalid_token"' if sent is not None else "")
        return Problem(
            "admin-token",
            "This mockbin requires Authorization: Bearer <token> on its admin API, with the token set by "
            f"{describe('admin_token')}" + (" (the token sent is not it)." if sent is not None else "."),
            headers={"WWW-Authenticate": challenge},
        )


def exposure_warning(settings: Settings) -> Optional[str]:
    """The start-up warning for an admin API that other machines can reach without a token, or None."""
    if settings.admin_token or is_loopback(settings.host):
        return None
    return (
        f"mockbin listens on {settings.host}, beyond this machine, and its admin API ({ADMIN_PREFIX}/: "
        f"journal, reset, store) takes no token: set one with {flag_name('admin_token')} TOKEN or "
        f"{env_name('admin_token')}=TOKEN (see docs/security.md)."
    )
