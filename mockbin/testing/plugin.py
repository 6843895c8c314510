"""mockbin's pytest plugin: live mockbin servers as fixtures (entry point ``pytest11``).

One session-scoped pool of in-process servers (:mod:`mockbin.testing.livesrv`), one
per distinct set of settings: tests marked ``@pytest.mark.mockbin(stateful=True)``
share a second server, everything else shares the default one.  A server
is started on first use and stopped at the end of the session; its state
(journal, store) is reset before every test that asks for a ``mockbin*``
fixture.  With ``MOCKBIN_URL`` set, the plain-HTTP fixtures attach to that
server (a docker-compose sidecar) instead, and reset it over its admin API.

The servers themselves (pool, TLS, one app per settings) live in
:mod:`mockbin.testing.servers`; the handle the fixtures return in
:mod:`mockbin.testing.client`; pytest-httpbin's fixtures in :mod:`mockbin.testing.httpbin_compat`.
Importing this module is cheap on purpose (pytest imports every plugin at
start-up): Flask, the app and trustme are imported when a fixture needs them.
"""

from __future__ import annotations

import os
import ssl
from typing import TYPE_CHECKING, Any, Dict, Iterator, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import pytest

from .servers import PORT_ENV, SIDECAR_ENV, Pool

if TYPE_CHECKING:
    from .client import Mockbin

#: Journal entries shown in the report of a failed test.
REPORT_REQUESTS = 20
#: The session's settings from the ini file and the command line, parsed once.
OVERRIDES = pytest.StashKey[Dict[str, Any]]()
#: The session's servers, and environment variables to restore at the end.
POOL = pytest.StashKey[Pool]()
SAVED_ENV = pytest.StashKey[Dict[str, Optional[str]]]()


# -- options ----------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockbin", "mockbin live-server fixtures")
    group.addoption(
        "--mockbin-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a mockbin setting for the in-process servers, e.g. stateful=1 or "
        "journal_size=5000 (repeatable; wins over the mockbin_settings ini option)",
    )
    group.addoption(
        "--mockbin-url",
        default=None,
        metavar="URL",
        help=f"use the mockbin running at URL instead of starting one (env {SIDECAR_ENV})",
    )
    parser.addini(
        "mockbin_settings",
        type="linelist",
        default=[],
        help="mockbin settings for the in-process servers, one NAME=VALUE per line "
        "(names as in `mockbin serve --help`, with underscores)",
    )
    parser.addini(
        "mockbin_url_env",
        type="args",
        default=[],
        help="environment variables to set to the default mockbin's URL before tests are "
        "collected, e.g. HTTPBIN_URL (for suites that read a base URL at import time)",
    )
    parser.addini(
        "mockbin_httpbin_fixtures",
        type="bool",
        default=True,
        help="provide pytest-httpbin's fixtures (httpbin, httpbin_secure, ...) "
        "when pytest-httpbin itself is not active (default: true)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockbin(**settings): serve this test's mockbin fixtures with these settings, "
        "e.g. @pytest.mark.mockbin(stateful=True)",
    )
    # Bad settings are usage errors, reported before any test runs.
    overrides = parse_overrides(config.getini("mockbin_settings"), "ini option mockbin_settings")
    overrides.update(parse_overrides(config.getoption("mockbin_set"), "--mockbin-set"))
    config.stash[OVERRIDES] = overrides
    if httpbin_fixtures_active(config):
        from . import httpbin_compat

        config.pluginmanager.register(httpbin_compat, "mockbin.httpbin_compat")
    sidecar = config.getoption("mockbin_url") or os.environ.get(SIDECAR_ENV) or None
    if sidecar and urlsplit(sidecar).scheme not in ("http", "https"):
        raise pytest.UsageError(
            f"{SIDECAR_ENV} / --mockbin-url {sidecar!r} is not an http:// URL: "
            f"write the scheme too, like http://{sidecar.split('://')[-1]}"
        )
    fixed_ports: Dict[str, int] = {}
    if httpbin_fixtures_active(config):  # pytest-httpbin's variables pin its servers' ports
        fixed_ports = {scheme: int(os.environ[name]) for scheme, name in PORT_ENV.items() if os.environ.get(name)}
    config.stash[POOL] = pool = Pool(sidecar, overrides, fixed_ports)
    names = config.getini("mockbin_url_env")
    if names and not _xdist_controller(config):
        # Started now, before collection, so module-level reads of the variable work.
        try:
            url = pool.url("http")
        except pytest.fail.Exception as exc:
            raise pytest.UsageError(f"mockbin_url_env: {exc}") from None
        config.stash[SAVED_ENV] = {name: os.environ.get(name) for name in names}
        os.environ.update({name: url for name in names})


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(POOL, None)
    if pool is not None:
        pool.close()
    for name, value in config.stash.get(SAVED_ENV, {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _xdist_controller(config: pytest.Config) -> bool:
    """True in pytest-xdist's controller process, which runs no test (its workers do)."""
    if hasattr(config, "workerinput"):
        return False
    return bool(getattr(config.option, "numprocesses", None)) and getattr(config.option, "dist", "no") != "no"


def httpbin_fixtures_active(config: pytest.Config) -> bool:
    """Two plugins defining ``httpbin`` would collide silently: step aside for pytest-httpbin."""
    return bool(config.getini("mockbin_httpbin_fixtures")) and not config.pluginmanager.has_plugin("httpbin")


# -- settings ---------------------------------------------------------------


#: Settings that describe ``mockbin serve``'s process, which the in-process servers do not have.
NOT_IN_PROCESS = ("host", "port", "workers", "threads", "timeout", "graceful_timeout", "access_log", "log_format")


def _setting(name: str, value: Any) -> Tuple[str, Any]:
    """One setting's typed value through the parser flags and env vars use; SettingsError if bad."""
    from ..settings import SettingsError, parse_value

    name = name.strip().replace("-", "_")
    if name in NOT_IN_PROCESS:
        raise SettingsError(
            f"{name!r} configures `mockbin serve`'s server process and cannot apply to the plugin's "
            "in-process servers (they listen on a free loopback port, one process, a thread per connection)"
        )
    return name, parse_value(name, value, source=name)


def parse_overrides(pairs: Any, source: str) -> Dict[str, Any]:
    """``["stateful=1", ...]`` -> typed values, each checked against :class:`Settings`."""
    from ..settings import SettingsError

    values: Dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = str(pair).partition("=")
        try:
            if not sep:
                raise SettingsError(f"{pair!r} is not NAME=VALUE")
            key, value = _setting(name, text.strip())
        except SettingsError as exc:
            raise pytest.UsageError(f"{source}: {exc}") from None
        values[key] = value
    return values


def marker_overrides(node: pytest.Item) -> Dict[str, Any]:
    """The settings of every ``mockbin`` marker on *node*; the closest marker wins."""
    from ..settings import SettingsError

    values: Dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers("mockbin"))):
        if mark.args:
            pytest.fail(f"@pytest.mark.mockbin takes settings as keywords only, got {mark.args!r}", pytrace=False)
        for name, value in mark.kwargs.items():
            try:
                key, typed = _setting(name, value)
            except SettingsError as exc:
                pytest.fail(f"@pytest.mark.mockbin: {exc}", pytrace=False)
            values[key] = typed
    return values


# -- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="session")
def mockbin_pool(pytestconfig: pytest.Config) -> Iterator[Pool]:
    """The session's mockbin servers (one per settings combination), all stopped at the end."""
    pool = pytestconfig.stash[POOL]
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def mockbin_server(mockbin_pool: Pool) -> "Mockbin":
    """The session's default mockbin over HTTP, not reset between tests (for session fixtures)."""
    return mockbin_pool.handle("http")


def _fresh(pool: Pool, scheme: str, request: pytest.FixtureRequest) -> "Mockbin":
    handle = pool.handle(scheme, marker_overrides(request.node))
    handle.reset()  # also removes fault rules a test before left behind

    def remove_faults() -> None:
        # Fault rules break requests of whatever runs next (a session fixture's
        # teardown, a sidecar's next user), so they go with the test.
        if handle.added_faults:
            handle.clear_faults()

    request.addfinalizer(remove_faults)
    return handle


@pytest.fixture
def mockbin(mockbin_pool: Pool, request: pytest.FixtureRequest) -> "Mockbin":
    """A mockbin over HTTP with an empty journal and store (reset before this test)."""
    return _fresh(mockbin_pool, "http", request)


@pytest.fixture
def mockbin_secure(mockbin_pool: Pool, request: pytest.FixtureRequest) -> "Mockbin":
    """The same mockbin over HTTPS, certified by the session's CA (see ``mockbin_ca_bundle``)."""
    return _fresh(mockbin_pool, "https", request)


@pytest.fixture(params=["http", "https"])
def mockbin_both(mockbin_pool: Pool, request: pytest.FixtureRequest) -> "Mockbin":
    """Runs the test twice: once over HTTP, once over HTTPS."""
    return _fresh(mockbin_pool, request.param, request)


@pytest.fixture(scope="session")
def mockbin_ca_bundle(mockbin_pool: Pool) -> str:
    """Path of a PEM file holding the session's CA (for ``verify=``, ``cafile=``, ``REQUESTS_CA_BUNDLE``)."""
    return mockbin_pool.tls.ca_bundle


@pytest.fixture(scope="session")
def mockbin_ssl_context(mockbin_pool: Pool) -> ssl.SSLContext:
    """A client ``ssl.SSLContext`` that trusts the session's CA (for urllib, httpx, aiohttp...)."""
    return mockbin_pool.tls.client_context()


# -- reporting --------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: "pytest.CallInfo[None]") -> Any:
    """On a failed test that used a mockbin fixture, show what the server received."""
    report = yield
    if report.when == "call" and report.failed:
        section = _journal_section(getattr(item, "funcargs", {}))
        if section is not None:
            report.sections.append(section)
    return report


def _journal_section(funcargs: Mapping[str, Any]) -> Optional[Tuple[str, str]]:
    from .client import Mockbin, describe_request

    for name in ("mockbin", "mockbin_secure", "mockbin_both"):
        handle = funcargs.get(name)
        if not isinstance(handle, Mockbin):
            continue
        try:
            received = handle.requests
        except Exception as exc:  # the report must not hide the test's own failure
            return (f"mockbin requests ({handle.url})", f"could not read the journal: {exc}")
        shown = received[-REPORT_REQUESTS:]
        lines = [describe_request(req) for req in shown] or ["no request received"]
        if len(received) > len(shown):
            lines.insert(0, f"... {len(received) - len(shown)} earlier requests not shown")
        return (f"mockbin requests ({handle.url})", "\n".join(lines))
    return None

