"""HTTPS material for ``mockbin serve``: files checked at start, or minted by trustme.

``--tls-cert FILE --tls-key FILE`` serve a certificate you bring; both files
are read and loaded together before the server starts, so a missing file,
an unreadable one, a file that is not PEM or a key that does not belong to
the certificate is one line and exit status 2, never a worker that dies at
its first connection.

``--tls-self-signed`` mints a throw-away certificate authority and a leaf
certificate for ``localhost``, ``127.0.0.1``, ``::1`` and the bind host
(the machine's host name too on an any-address bind, as in a container)
with trustme, at every start.  The leaf and its key live in a private
temporary directory for the server's lifetime; the CA certificate goes to
``--tls-ca-file`` (by default ``mockbin-ca-PORT.pem`` in the temporary
directory), whose path is printed, so that::

    curl --cacert /tmp/mockbin-ca-8443.pem https://127.0.0.1:8443/get

works.  ``mockbin healthcheck`` with the same ``MOCKBIN_*`` environment
finds the same file (:func:`ca_file_path`).
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import socket
import ssl
import sys
import tempfile
from dataclasses import dataclass
from typing import List, Optional

from ..settings import Settings, describe
from .sockets import ServeError

_ANY_ADDRESSES = ("", "0.0.0.0", "::", "[::]")


@dataclass(frozen=True)
class TLSFiles:
    """What the engines need: a certificate chain and its key, as PEM files."""

    cert: str
    key: str
    #: The minted CA certificate (PEM) under ``--tls-self-signed``; None for files brought.
    ca_pem: Optional[bytes] = None

    def announce(self, settings: Settings, sock: socket.socket) -> Optional[str]:
        """Write the minted CA where clients find it and say where; its path (None without one)."""
        if self.ca_pem is None:
            return None
        port = sock.getsockname()[1]
        path = ca_file_path(settings, port)
        write_atomically(path, self.ca_pem)
        host = "127.0.0.1" if settings.host in _ANY_ADDRESSES else settings.host
        shown = f"[{host}]" if ":" in host else host
        print(
            f"mockbin: HTTPS with a self-signed certificate; its CA is in {path} "
            f"(curl --cacert {path} https://{shown}:{port}/get)",
            file=sys.stderr,
            flush=True,
        )
        return path


def ca_file_path(settings: Settings, port: int) -> str:
    """Where ``--tls-self-signed`` puts its CA certificate for a server on *port*."""
    return settings.tls_ca_file or os.path.join(tempfile.gettempdir(), f"mockbin-ca-{port}.pem")


def write_atomically(path: str, data: bytes) -> None:
    """Write *data* to *path* through a new file renamed over it (never through a link planted there)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".mockbin-ca-", dir=directory)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # a CA certificate is public: any client may read it
        os.replace(temporary, path)
    except OSError as exc:
        raise ServeError(f"cannot write the CA file {path} ({describe('tls_ca_file')}): {exc.strerror}") from None


def prepare(settings: Settings) -> Optional[TLSFiles]:
    """The TLS files *settings* ask for, checked or minted; None for plain HTTP."""
    if settings.tls_self_signed:
        return mint(settings.host)
    if settings.tls_cert:
        check_pair(settings.tls_cert, settings.tls_key)
        return TLSFiles(os.path.abspath(settings.tls_cert), os.path.abspath(settings.tls_key))
    return None


def _read(path: str, name: str) -> bytes:
    try:
        with open(path, "rb") as source:
            return source.read()
    except OSError as exc:
        raise ServeError(f"cannot read {describe(name)} {path}: {exc.strerror}") from None


def check_pair(cert: str, key: str) -> None:
    """Raise :class:`ServeError` unless *cert* and *key* are readable PEM files that belong together."""
    if b"-----BEGIN CERTIFICATE-----" not in _read(cert, "tls_cert"):
        raise ServeError(f"{describe('tls_cert')} {cert} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    if b"PRIVATE KEY-----" not in _read(key, "tls_key"):
        raise ServeError(f"{describe('tls_key')} {key} holds no PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # An encrypted key would make OpenSSL prompt on the terminal; an empty
        # password makes it fail instead.
        context.load_cert_chain(cert, key, password=lambda: b"")
    except ssl.SSLError as exc:
        reason = str(exc)
        if "KEY_VALUES_MISMATCH" in reason or "key values mismatch" in reason:
            raise ServeError(f"{describe('tls_key')} {key} is not the key of the certificate in {cert}") from None
        if "BAD_DECRYPT" in reason or "bad decrypt" in reason:
            raise ServeError(f"{describe('tls_key')} {key} is encrypted: give an unencrypted key") from None
        raise ServeError(f"cannot use {cert} with {key}: {exc.reason or reason}") from None


def names_for(host: str) -> List[str]:
    """The names a self-signed certificate covers for a server bound to *host*."""
    names = ["localhost", "127.0.0.1", "::1"]
    bare = host.strip().strip("[]")
    if bare in ("0.0.0.0", "::", ""):
        extra = [socket.gethostname()]
    else:
        extra = [bare]
    for name in extra:
        try:
            name = str(ipaddress.ip_address(name))
        except ValueError:
            name = name.lower()
        if name and name not in names:
            names.append(name)
    return names


def _remove_if_owner(directory: str, owner: int) -> None:
    """Forked workers inherit atexit handlers: only the process that made *directory* removes it."""
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def mint(host: str) -> TLSFiles:
    """A new CA and a leaf certificate for *host*, in a private directory removed at exit."""
    import trustme

    ca = trustme.CA(organization_name="mockbin", organization_unit_name="mockbin serve --tls-self-signed")
    leaf = ca.issue_cert(*names_for(host))
    directory = tempfile.mkdtemp(prefix="mockbin-tls-")  # 0700: only this user reads the key
    atexit.register(_remove_if_owner, directory, os.getpid())
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    leaf.cert_chain_pems[0].write_to_path(cert)
    for blob in leaf.cert_chain_pems[1:]:
        blob.write_to_path(cert, append=True)
    leaf.private_key_pem.write_to_path(key)
    return TLSFiles(cert, key, ca.cert_pem.bytes())
