"""The pytest plugin's servers: one in-process mockbin per distinct settings, HTTP and HTTPS.

Kept apart from :mod:`mockbin.testing.plugin` (hooks and fixtures) so that
file reads as the plugin's surface.  Everything here is created lazily:
the first test that needs a server starts it, the session's end stops all.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

import pytest

if TYPE_CHECKING:
    from .client import Mockbin
    from .livesrv import LiveServer
    from ..settings import Settings

SIDECAR_ENV = "MOCKBIN_URL"
EMPTY: Mapping[str, Any] = MappingProxyType({})
PORT_ENV = {"http": "HTTPBIN_HTTP_PORT", "https": "HTTPBIN_HTTPS_PORT"}


class TLS:
    """A certificate authority minted for this session and a server certificate it signed.

    The CA file lives in a private temporary directory removed at the end of
    the session.  SANs: 127.0.0.1, ::1 and localhost.
    """

    def __init__(self) -> None:
        import trustme  # a dependency of mockbin's: every HTTPS fixture works after a plain install

        self.ca = trustme.CA(organization_name="mockbin test CA")
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "::1", "localhost").configure_cert(self.server_context)
        self.directory = tempfile.mkdtemp(prefix="mockbin-ca-")
        self.ca_bundle = os.path.join(self.directory, "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_bundle)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_bundle)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class Instance:
    """One mockbin app (one journal, one store), served over HTTP and/or HTTPS on demand."""

    def __init__(self, settings: "Settings") -> None:
        from ..app import create_app

        self.settings = settings
        self.app = create_app(settings)
        self.servers: Dict[str, "LiveServer"] = {}

    def server(self, scheme: str, port: int, tls: Optional[TLS]) -> "LiveServer":
        if scheme not in self.servers:
            from .livesrv import LiveServer

            context = tls.server_context if tls is not None else None
            try:
                self.servers[scheme] = LiveServer(self.app, "127.0.0.1", port, context).start()
            except OSError as exc:
                pytest.fail(f"mockbin cannot listen on 127.0.0.1:{port} for {scheme}: {exc.strerror}", pytrace=False)
        return self.servers[scheme]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


class Pool:
    """Every mockbin server of this pytest session (this xdist worker), started lazily."""

    def __init__(self, sidecar: Optional[str], overrides: Mapping[str, Any], fixed_ports: Mapping[str, int]) -> None:
        self.sidecar = sidecar
        self.overrides = dict(overrides)
        self.fixed_ports = dict(fixed_ports)
        self._instances: Dict["Settings", Instance] = {}
        self._tls: Optional[TLS] = None
        self._sidecar_checked = False
        self._default: Optional["Settings"] = None

    @property
    def tls(self) -> TLS:
        if self._tls is None:
            self._tls = TLS()
        return self._tls

    def settings(self, overrides: Mapping[str, Any] = EMPTY) -> "Settings":
        from ..settings import Settings, SettingsError

        # They listen on 127.0.0.1 whatever MOCKBIN_HOST says; the admin API's Host check knows it.
        values = {"journal": True, **self.overrides, **dict(overrides), "host": "127.0.0.1"}
        try:
            return Settings.from_env().replace(**values)
        except SettingsError as exc:
            pytest.fail(f"mockbin settings: {exc}", pytrace=False)

    def server(self, scheme: str, overrides: Mapping[str, Any] = EMPTY) -> "LiveServer":
        """The in-process server for *scheme* with these settings, started on first use."""
        settings = self.settings(overrides)
        if self._default is None:
            self._default = self.settings()
        if settings not in self._instances:
            self._instances[settings] = Instance(settings)
        port = self.fixed_ports.get(scheme, 0) if settings == self._default else 0
        tls = self.tls if scheme == "https" else None
        return self._instances[settings].server(scheme, port, tls)

    def url(self, scheme: str, overrides: Mapping[str, Any] = EMPTY) -> str:
        """Base URL of the server for *scheme*: the sidecar for plain HTTP when there is one."""
        if scheme == "http" and self.sidecar:
            self._check_sidecar()
            return self.sidecar.rstrip("/")
        server = self.server(scheme, overrides)
        return server.url + self.settings(overrides).prefix

    def handle(self, scheme: str, overrides: Mapping[str, Any] = EMPTY) -> "Mockbin":
        from .client import Mockbin

        url = self.url(scheme, overrides)
        context = self.tls.client_context() if scheme == "https" else None
        if scheme == "http" and self.sidecar:
            return Mockbin(url, context)  # the sidecar's token: MOCKBIN_ADMIN_TOKEN
        return Mockbin(url, context, token=self.settings(overrides).admin_token)

    def _check_sidecar(self) -> None:
        if self._sidecar_checked:
            return
        from .client import AdminError, Mockbin

        handle = Mockbin(self.sidecar or "")
        try:
            handle.health()
        except AdminError as exc:
            pytest.fail(f"{SIDECAR_ENV}={self.sidecar} is set but that mockbin does not answer: {exc}", pytrace=False)
        try:  # the health check takes no token; this does (404 when the journal is off is fine)
            handle._admin("GET", "/requests?limit=0", expect=(200, 404))
        except AdminError as exc:
            pytest.fail(f"{SIDECAR_ENV}={self.sidecar}: its admin API refuses this session: {exc}", pytrace=False)
        self._sidecar_checked = True

    def close(self) -> None:
        for instance in self._instances.values():
            instance.stop()
        self._instances.clear()
        if self._tls is not None:
            self._tls.close()
            self._tls = None
