"""``mockbin healthcheck``: does a mockbin server answer its health check?

Docker runs this inside the container every few seconds (the image's
``HEALTHCHECK``), so it needs no curl and starts fast: it uses the standard
library only and imports neither Flask nor gunicorn.  Exit status 0 means
healthy; 1 means not, with one line on stderr that says why (Docker shows it
in ``docker inspect``).

By default it asks the address the server was told to listen on, from the
same ``MOCKBIN_HOST``, ``MOCKBIN_PORT`` and ``MOCKBIN_PREFIX`` variables;
an any-address bind (``0.0.0.0``, ``::``) is asked on loopback.  With
``MOCKBIN_TLS_SELF_SIGNED`` it asks over https and trusts the CA the server
wrote (``MOCKBIN_TLS_CA_FILE``, or the default path for that port); with
``MOCKBIN_TLS_CERT`` it asks over https without checking the certificate,
whose names need not cover the loopback address it asks.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from ..settings import SettingsError, describe, env_name, fields

HEALTH_PATH = "/__mockbin/health"
HEALTHY, UNHEALTHY = 0, 1
_ANY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}


class Unhealthy(Exception):
    """The server is not a healthy mockbin; the message is the one-line reason."""


def _setting(name: str, environ: Mapping[str, str]) -> Any:
    """One setting from the environment (or its default), without judging the others."""
    spec = next(f for f in fields() if f.name == name)
    if env_name(name) not in environ:
        return spec.default
    try:
        return spec.metadata["parse"](environ[env_name(name)])
    except SettingsError as exc:
        raise Unhealthy(f"invalid value for {describe(name)}: {exc}") from None


def loopback(host: str) -> str:
    """The address to ask for a server bound to *host*, bracketed if IPv6."""
    host = _ANY_ADDRESS.get(host.strip(), host.strip())
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def default_url(environ: Optional[Mapping[str, str]] = None) -> str:
    """The health URL of the server the ``MOCKBIN_*`` environment describes."""
    environ = os.environ if environ is None else environ
    port = _setting("port", environ)
    if port == 0:
        raise Unhealthy(f"{env_name('port')} is 0 (a port picked at start-up): give --url")
    host = loopback(_setting("host", environ))
    scheme = "https" if _setting("tls_self_signed", environ) or _setting("tls_cert", environ) else "http"
    return f"{scheme}://{host}:{port}{_setting('prefix', environ)}{HEALTH_PATH}"


def tls_context(environ: Optional[Mapping[str, str]] = None) -> ssl.SSLContext:
    """How to trust the server the environment describes (see the module's docstring).

    The CA file's default path is :func:`mockbin.serving.tls.ca_file_path`'s,
    spelled out here so this command keeps away from the server's imports.
    """
    environ = os.environ if environ is None else environ
    if _setting("tls_self_signed", environ):
        path = _setting("tls_ca_file", environ) or os.path.join(
            tempfile.gettempdir(), f"mockbin-ca-{_setting('port', environ)}.pem"
        )
        try:
            return ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise Unhealthy(f"cannot read the server's CA file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if _setting("tls_cert", environ):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context()


def health_url(url: str) -> str:
    """*url* as given, or with the health path added to a base URL like http://mockbin:8080."""
    return url if urlsplit(url).path.endswith(HEALTH_PATH) else url.rstrip("/") + HEALTH_PATH


def check(url: str, timeout: float, context: Optional[ssl.SSLContext] = None) -> str:
    """Ask *url*; return mockbin's version if it answers healthy, else raise :class:`Unhealthy`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unhealthy("not an http:// or https:// URL")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"User-Agent": "mockbin-healthcheck"})
        response = connection.getresponse()
        body = response.read(65536)
    except socket.timeout:
        raise Unhealthy(f"no answer within {timeout:g}s") from None
    except ConnectionRefusedError:
        raise Unhealthy("connection refused (is mockbin running and listening there?)") from None
    except socket.gaierror as exc:
        raise Unhealthy(f"cannot resolve {parts.hostname!r}: {exc.strerror}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise Unhealthy(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
    finally:
        connection.close()
    if response.status == 404:
        raise Unhealthy(
            f"HTTP 404 {response.reason}, expected 200: no mockbin health check at {parts.path or '/'}; if mockbin "
            f"serves under a prefix, set {env_name('prefix')} (or give --url with the prefix)"
        )
    if response.status != 200:
        raise Unhealthy(f"HTTP {response.status} {response.reason}, expected 200")
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        media_type = response.getheader("Content-Type", "no Content-Type")
        raise Unhealthy(f"not a mockbin health answer ({media_type}, {len(body)} bytes)")
    return str(answer.get("version", "unknown version"))


def run(url: Optional[str] = None, timeout: float = 3.0) -> int:
    """The ``mockbin healthcheck`` command: print the outcome, return the exit status."""
    target = ""
    try:
        target = health_url(url) if url else default_url()
        context = tls_context() if target.startswith("https:") else None
        version = check(target, timeout, context)
    except Unhealthy as exc:
        where = f"{target}: " if target else ""
        print(f"mockbin healthcheck: unhealthy: {where}{exc}", file=sys.stderr)
        return UNHEALTHY
    print(f"mockbin healthcheck: healthy: mockbin {version} at {target}")
    return HEALTHY
