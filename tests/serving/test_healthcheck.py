"""``mockbin healthcheck``: exit 0 for a live mockbin, else 1 and one line saying why.

This is what Docker runs every few seconds in the container, and what a CI
script can loop on before starting its tests; a wrong 0 lets tests start
against nothing, a wrong 1 (or a slow start) marks a good container unhealthy.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Dict, Iterator, List, Optional

import pytest

from mockbin.serving.healthcheck import HEALTH_PATH, Unhealthy, check, health_url, loopback
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

PREFIX = "/httpbin"


def healthcheck(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mockbin", "healthcheck", *args],
        env=environ, capture_output=True, text=True, timeout=30,
    )


def assert_unhealthy(result: subprocess.CompletedProcess, reason: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert reason in lines[0], lines[0]


@pytest.fixture(scope="module")
def live() -> Iterator[ServerProcess]:
    """A mockbin under a prefix, so the health URL must be worked out, not guessed."""
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--prefix", PREFIX), port) as server:
        deadline = time.monotonic() + 20
        while True:  # the port listens before the app is loaded
            try:
                check(f"{server.url}{PREFIX}{HEALTH_PATH}", timeout=2)
                break
            except Unhealthy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield server


def test_live_server_is_healthy_by_url(live: ServerProcess) -> None:
    result = healthcheck("--url", live.url + PREFIX)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"mockbin healthcheck: healthy: mockbin {__import__('mockbin').__version__} "
        f"at {live.url}{PREFIX}/__mockbin/health"
    ]


def test_live_server_is_healthy_from_the_servers_own_environment(live: ServerProcess) -> None:
    """In the container the server binds 0.0.0.0; the check asks loopback, under the prefix."""
    env = {"MOCKBIN_HOST": "0.0.0.0", "MOCKBIN_PORT": str(live.port), "MOCKBIN_PREFIX": PREFIX}
    result = healthcheck(env=env)
    assert result.returncode == 0, result.stderr
    assert f"{HOST}:{live.port}{PREFIX}/__mockbin/health" in result.stdout


def test_stopped_server_is_unhealthy() -> None:
    port = free_port()  # nothing listens there
    assert_unhealthy(healthcheck("--url", f"http://{HOST}:{port}"), "connection refused")
    assert_unhealthy(healthcheck(env={"MOCKBIN_PORT": str(port)}), "connection refused")


class _Handler(http.server.BaseHTTPRequestHandler):
    """A web server that is not mockbin: 200 under /html and /json, 404 elsewhere."""

    ANSWERS = {
        "/html/": ("text/html", b"<html>hi</html>"),
        "/json/": ("application/json", b'{"healthy": true}'),
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        found = [answer for prefix, answer in self.ANSWERS.items() if self.path.startswith(prefix)]
        media_type, body = found[0] if found else ("text/plain", b"not here")
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stranger() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer((HOST, 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_another_server_is_unhealthy(stranger: str) -> None:
    assert_unhealthy(healthcheck("--url", stranger), "HTTP 404 Not Found, expected 200")


@pytest.mark.parametrize("path, media_type", [("/html", "text/html"), ("/json", "application/json")])
def test_a_200_that_is_not_mockbins_health_answer_is_unhealthy(
    stranger: str, path: str, media_type: str
) -> None:
    result = healthcheck("--url", stranger + path)
    assert_unhealthy(result, f"not a mockbin health answer ({media_type}, ")


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen(1)  # the kernel completes the handshake; nobody ever answers
        started = time.monotonic()
        result = healthcheck("--url", f"http://{HOST}:{silent.getsockname()[1]}", "--timeout", "0.5")
    assert_unhealthy(result, "no answer within 0.5s")
    assert time.monotonic() - started < 5


def test_wrong_urls_and_settings_are_one_line_failures() -> None:
    assert_unhealthy(healthcheck("--url", "ftp://example"), "not an http:// or https:// URL")
    assert_unhealthy(healthcheck("--url", "http://host.invalid:8080"), "cannot resolve 'host.invalid'")
    assert_unhealthy(healthcheck(env={"MOCKBIN_PORT": "eighty"}), "MOCKBIN_PORT")
    assert_unhealthy(healthcheck(env={"MOCKBIN_PORT": "0"}), "give --url")


@pytest.mark.parametrize(
    "host, expected",
    [("0.0.0.0", HOST), ("", HOST), ("::", "[::1]"), ("::1", "[::1]"), ("mockbin", "mockbin")],
)
def test_bind_addresses_map_to_an_address_to_ask(host: str, expected: str) -> None:
    assert loopback(host) == expected


@pytest.mark.parametrize(
    "given, expected",
    [
        ("http://mockbin:8080", "http://mockbin:8080/__mockbin/health"),
        ("http://mockbin:8080/", "http://mockbin:8080/__mockbin/health"),
        ("http://mockbin:8080/httpbin", "http://mockbin:8080/httpbin/__mockbin/health"),
        ("http://mockbin:8080/__mockbin/health", "http://mockbin:8080/__mockbin/health"),
    ],
)
def test_url_option_takes_a_base_or_the_health_url(given: str, expected: str) -> None:
    assert health_url(given) == expected


def test_starts_without_flask_or_gunicorn() -> None:
    """Docker runs it every few seconds: it must not pay for the web stack's imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mockbin", "healthcheck", "--url", f"http://{HOST}:1"],
        capture_output=True, text=True, timeout=30,
    )
    lines = result.stderr.splitlines()
    imported: List[str] = [line.rsplit("|", 1)[-1].strip() for line in lines if "|" in line]
    assert "mockbin.serving.healthcheck" in imported
    heavy = [name for name in imported if name.split(".")[0] in ("flask", "werkzeug", "gunicorn", "jinja2")]
    assert heavy == []


def test_a_404_hints_at_the_prefix(live: ServerProcess) -> None:
    """A server under --prefix answers 404 at the root's health path: say which setting is missing."""
    result = healthcheck("--url", f"http://{HOST}:{live.port}/not-the-prefix/__mockbin/health")
    assert_unhealthy(result, "MOCKBIN_PREFIX")
