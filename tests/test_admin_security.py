"""The admin API's gate (docs/security.md), over real sockets to mockbin under gunicorn.

A web page in a developer's browser must not read the journal (it holds the
credentials and cookies tests sent) nor reset or seed the store: no CORS
headers, a foreign ``Origin`` or any ``Sec-Fetch-Site`` but ``none`` gets
403, a rebinding ``Host`` gets 403 on a loopback bind, and ``--admin-token``
guards everything but ``/__mockbin/health``.  httpbin's routes keep their
CORS behaviour.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from mockbin.testing.client import AdminError, Mockbin
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

ROOT = Path(__file__).resolve().parent.parent
EVIL = "https://evil.example"
TOKEN = "s3cret-admin-token"
WARNING = "takes no token: set one with --admin-token TOKEN or MOCKBIN_ADMIN_TOKEN=TOKEN"
ADMIN_PATHS = [
    ("GET", "/__mockbin/health"),
    ("GET", "/__mockbin/requests"),
    ("DELETE", "/__mockbin/requests"),
    ("POST", "/__mockbin/reset"),
    ("GET", "/__mockbin/store"),
    ("PUT", "/__mockbin/store"),
    ("DELETE", "/__mockbin/store"),
    ("GET", "/__mockbin/faults"),  # endpoints added later are behind the same gate
    ("GET", "/__mockbin/no-such-endpoint"),
    ("GET", "/__mockbin//requests"),
]


class Answer:
    def __init__(self, status: int, headers: List[Tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> Optional[str]:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    @property
    def cors(self) -> List[str]:
        return [key for key, _ in self.headers if key.lower().startswith("access-control-")]

    def json(self) -> Dict:
        return json.loads(self.body)


def call(
    server: ServerProcess, method: str, path: str, headers: Optional[Dict[str, str]] = None, body: bytes = b""
) -> Answer:
    """One request on a fresh connection, headers exactly as given (``Host`` included)."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        headers = dict(headers or {})
        conn.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def is_refusal(answer: Answer, status: int, kind: str) -> bool:
    assert answer.status == status, (answer.status, answer.body)
    assert answer.header("Content-Type") == "application/problem+json"
    assert answer.json()["type"] == f"urn:mockbin:problem:{kind}", answer.body
    assert answer.cors == [], answer.headers
    return True


def serve(*args: str) -> ServerProcess:
    port = free_port()
    return ServerProcess(mockbin_argv(port, "--workers", "1", *args), port)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """Bound to 127.0.0.1 (the default), journal and stateful mode on, no token."""
    with serve("--journal", "--stateful") as running:
        yield running


@pytest.fixture(scope="module")
def token_server() -> Iterator[ServerProcess]:
    with serve("--journal", "--stateful", "--admin-token", TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def exposed() -> Iterator[ServerProcess]:
    """Bound to every interface (as in a container), no token."""
    with serve("--host", "0.0.0.0", "--journal") as running:
        yield running


def own(server: ServerProcess) -> Dict[str, str]:
    return {"Host": f"{HOST}:{server.port}"}


# -- web pages --------------------------------------------------------------


def test_a_foreign_origin_cannot_read_the_journal_and_its_credentials(server):
    call(server, "GET", "/bearer", {"Authorization": "Bearer user-secret", "Cookie": "session=abc123"})
    refused = call(server, "GET", "/__mockbin/requests", {"Origin": EVIL})
    assert is_refusal(refused, 403, "admin-cross-origin")
    assert b"user-secret" not in refused.body and b"abc123" not in refused.body
    assert EVIL in refused.json()["detail"]
    # The same read without an Origin (a test, curl) sees them: the journal is worth guarding.
    allowed = call(server, "GET", "/__mockbin/requests")
    assert allowed.status == 200 and b"user-secret" in allowed.body and b"abc123" in allowed.body


def test_a_foreign_origin_cannot_reset_seed_or_clear(server):
    assert call(server, "PUT", "/guarded/item", {"Content-Type": "application/json"}, b'{"keep": 1}').status == 201
    evil = {"Origin": EVIL, "Content-Type": "text/plain"}  # a "simple" request: no preflight
    assert is_refusal(call(server, "POST", "/__mockbin/reset", evil, b"x"), 403, "admin-cross-origin")
    seed = b'{"items": {}, "counters": {}}'
    assert is_refusal(call(server, "PUT", "/__mockbin/store", evil, seed), 403, "admin-cross-origin")
    assert is_refusal(call(server, "DELETE", "/__mockbin/store", evil), 403, "admin-cross-origin")
    assert is_refusal(call(server, "DELETE", "/__mockbin/requests", evil), 403, "admin-cross-origin")
    assert call(server, "GET", "/guarded/item").body == b'{"keep": 1}'


def test_a_preflight_to_the_admin_api_fails_while_httpbin_routes_keep_cors(server):
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
    assert is_refusal(call(server, "OPTIONS", "/__mockbin/store", preflight), 403, "admin-cross-origin")
    httpbin = call(server, "OPTIONS", "/anything", preflight)
    assert httpbin.status == 200
    assert httpbin.header("Access-Control-Allow-Origin") == EVIL
    assert httpbin.header("Access-Control-Allow-Credentials") == "true"
    assert call(server, "GET", "/get", {"Origin": EVIL}).header("Access-Control-Allow-Origin") == EVIL


@pytest.mark.parametrize("method, path", ADMIN_PATHS)
def test_every_admin_path_refuses_a_foreign_origin(server, method, path):
    assert is_refusal(call(server, method, path, {"Origin": EVIL}), 403, "admin-cross-origin")


@pytest.mark.parametrize("site", ["cross-site", "same-site", "same-origin"])
def test_a_request_made_by_a_page_is_refused_whatever_its_site(server, site):
    """Same-origin too: /base64 and /response-headers serve attacker-chosen HTML on this origin."""
    answer = call(server, "GET", "/__mockbin/requests", {"Sec-Fetch-Site": site, "Origin": f"http://{HOST}:{server.port}"})
    assert is_refusal(answer, 403, "admin-cross-origin")
    assert site in answer.json()["detail"]


@pytest.mark.parametrize(
    "origin",
    ["null", "http://127.0.0.1:1", "https://127.0.0.1:{port}", "http://localhost:{port}", "http://127.0.0.1:{port}.evil.example"],
)
def test_an_origin_that_differs_in_any_part_is_foreign(server, origin):
    answer = call(server, "GET", "/__mockbin/requests", {"Origin": origin.format(port=server.port)})
    assert is_refusal(answer, 403, "admin-cross-origin")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, a test, a script
        {"Origin": "http://127.0.0.1:{port}"},  # this origin (an older browser without Fetch Metadata)
        {"Origin": "HTTP://127.0.0.1:{port}"},
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},  # the user typed the URL
    ],
)
def test_scripts_this_origin_and_the_address_bar_are_answered_without_cors(server, headers):
    headers = {name: value.format(port=server.port) for name, value in headers.items()}
    answer = call(server, "GET", "/__mockbin/requests", headers)
    assert answer.status == 200 and answer.cors == []
    options = call(server, "OPTIONS", "/__mockbin/requests", headers)
    assert options.status == 200 and options.cors == []


def test_a_same_origin_post_resets(server):
    call(server, "GET", "/get")
    origin = {"Origin": f"http://{HOST}:{server.port}", "Content-Type": "text/plain"}
    assert call(server, "POST", "/__mockbin/reset", origin, b"").status == 200
    assert call(server, "GET", "/__mockbin/requests").json() == []


# -- Host (DNS rebinding) ---------------------------------------------------


@pytest.mark.parametrize("host", ["attacker.example:{port}", "attacker.example", "localhost.attacker.example", "10.0.0.5:{port}", "0.0.0.0:{port}"])
def test_a_rebinding_host_is_refused_on_a_loopback_bind(server, host):
    host = host.format(port=server.port)
    answer = call(server, "GET", "/__mockbin/requests", {"Host": host})
    assert is_refusal(answer, 403, "admin-host")
    assert "--admin-hosts" in answer.json()["detail"]
    assert call(server, "GET", "/get", {"Host": host}).status == 200  # httpbin routes answer any Host


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "localhost.", "app.localhost:{port}", "127.1.2.3", "[::1]:{port}", "[::ffff:127.0.0.1]"]
)
def test_loopback_names_and_addresses_are_answered(server, host):
    assert call(server, "GET", "/__mockbin/requests", {"Host": host.format(port=server.port)}).status == 200


def test_admin_hosts_adds_names_to_a_loopback_bind():
    with serve("--journal", "--admin-hosts", "mockbin.test,*.dev.test") as running:
        assert call(running, "GET", "/__mockbin/requests", {"Host": f"mockbin.test:{running.port}"}).status == 200
        assert call(running, "GET", "/__mockbin/requests", {"Host": "api.dev.test"}).status == 200
        assert call(running, "GET", "/__mockbin/requests", {"Host": "localhost"}).status == 200
        for host in ("other.test", "dev.test", "mockbin.test.evil.example"):
            assert is_refusal(call(running, "GET", "/__mockbin/requests", {"Host": host}), 403, "admin-host")


def test_a_non_loopback_bind_answers_any_host_but_still_no_page(exposed):
    """A sidecar is reached as http://mockbin:8080: its Host is the service name."""
    assert call(exposed, "GET", "/__mockbin/requests", {"Host": "mockbin:8080"}).status == 200
    assert call(exposed, "POST", "/__mockbin/reset", {"Host": "mockbin:8080"}).status == 200
    refused = call(exposed, "GET", "/__mockbin/requests", {"Host": "mockbin:8080", "Origin": EVIL})
    assert is_refusal(refused, 403, "admin-cross-origin")


# -- the start-up warning ---------------------------------------------------


def test_a_non_loopback_bind_without_a_token_warns_once_saying_how_to_set_one(exposed):
    # The port listens before gunicorn starts; once a worker answers, the arbiter has logged.
    assert call(exposed, "GET", "/__mockbin/health").status == 200
    lines = [line for line in exposed.output().splitlines() if WARNING in line]
    assert len(lines) == 1 and "[WARNING]" in lines[0] and "0.0.0.0" in lines[0], exposed.output()


def test_no_warning_with_a_token_or_on_loopback(server):
    with serve("--host", "0.0.0.0", "--admin-token", TOKEN) as running:
        assert call(running, "GET", "/__mockbin/health").status == 200
        output = running.output()
    assert "takes no token" not in output and TOKEN not in output
    assert call(server, "GET", "/__mockbin/health").status == 200
    assert "takes no token" not in server.output()


# -- the token --------------------------------------------------------------


@pytest.mark.parametrize("method, path", [(m, p) for m, p in ADMIN_PATHS if not p.endswith("/health")])
def test_without_the_token_every_admin_request_but_health_gets_401(token_server, method, path):
    answer = call(token_server, method, path)
    assert is_refusal(answer, 401, "admin-token")
    assert answer.header("WWW-Authenticate") == 'Bearer realm="mockbin"'
    assert "--admin-token" in answer.json()["detail"] and TOKEN not in answer.body.decode()


def test_a_wrong_token_gets_401_invalid_token(token_server):
    for value in ("Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN):
        answer = call(token_server, "GET", "/__mockbin/requests", {"Authorization": value})
        assert is_refusal(answer, 401, "admin-token"), value
        if value.startswith("Bearer"):
            assert answer.header("WWW-Authenticate") == 'Bearer realm="mockbin", error="invalid_token"'


def test_the_token_opens_the_admin_api_and_health_needs_none(token_server):
    assert call(token_server, "GET", "/__mockbin/health").json()["status"] == "ok"
    call(token_server, "PUT", "/tok/item", {"Content-Type": "application/json"}, b"{}")
    assert is_refusal(call(token_server, "POST", "/__mockbin/reset"), 401, "admin-token")
    assert call(token_server, "GET", "/tok/item").status == 200  # the refused reset changed nothing
    for scheme in ("Bearer", "bearer"):
        answer = call(token_server, "GET", "/__mockbin/store", {"Authorization": f"{scheme} {TOKEN}"})
        assert answer.status == 200 and "/tok/item" in answer.json()["items"]
    assert call(token_server, "POST", "/__mockbin/reset", {"Authorization": f"Bearer {TOKEN}"}).status == 200
    assert call(token_server, "GET", "/tok/item").status == 404


def test_the_token_does_not_let_a_web_page_in(token_server):
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": EVIL}
    assert is_refusal(call(token_server, "GET", "/__mockbin/requests", headers), 403, "admin-cross-origin")


def test_the_handle_sends_the_token_given_or_from_the_environment(token_server, monkeypatch):
    monkeypatch.delenv("MOCKBIN_ADMIN_TOKEN", raising=False)
    call(token_server, "GET", "/get?via=handle")
    handle = Mockbin(token_server.url, token=TOKEN)
    handle.assert_requested("GET", "/get", args={"via": "handle"})
    handle.store["/tok/handle"] = {"a": 1}
    assert handle.store["/tok/handle"] == {"a": 1}
    with pytest.raises(AdminError, match=r"answered 401: .*--admin-token.*set MOCKBIN_ADMIN_TOKEN"):
        Mockbin(token_server.url).requests
    monkeypatch.setenv("MOCKBIN_ADMIN_TOKEN", TOKEN)
    handle = Mockbin(token_server.url)
    handle.reset()
    assert handle.requests == [] and "/tok/handle" not in handle.store
    with pytest.raises(AdminError, match="401"):
        Mockbin(token_server.url, token="").reset()  # "": no token, whatever the environment says


# -- the compose file ---------------------------------------------------------


def test_compose_gives_the_sidecar_and_its_client_the_same_token():
    from ruamel.yaml import YAML

    services = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())["services"]
    server, client = services["mockbin"]["environment"], services["tests"]["environment"]
    assert server["MOCKBIN_ADMIN_TOKEN"] and server["MOCKBIN_ADMIN_TOKEN"] == client["MOCKBIN_ADMIN_TOKEN"]


def test_a_token_no_header_can_carry_stops_start_up_without_being_echoed():
    import subprocess
    import sys

    bad = "has space-é"
    result = subprocess.run([sys.executable, "-m", "mockbin", "serve", "--admin-token", bad],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--admin-token (MOCKBIN_ADMIN_TOKEN)" in result.stderr and bad not in result.stderr
