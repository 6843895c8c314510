"""mockbin under granian (``--server granian``): the same settings, HTTP/2, and what differs.

The differential suites already run every request shape against mockbin
under granian (``test_over_granian`` in each); here are the settings that
must mean the same under both servers, HTTP/2 seen by real HTTP/2 clients,
and one test for each of the three differences docs/compatibility.md lists.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, Iterator, List

import pytest
import requests

from support.compare import GRANIAN_REASONS, GRANIAN_SHAPES
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

pytest.importorskip("granian", reason="granian (the extra fast) is not installed")


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    env.update(extra)
    return env


def granian(port: int, *extra: str) -> ServerProcess:
    return ServerProcess(mockbin_argv(port, "--server", "granian", *extra), port, env=clean_env())


@pytest.fixture(scope="module")
def h2c() -> Iterator[ServerProcess]:
    port = free_port()
    with granian(port, "--http2") as server:
        yield server


def raw(port: int, request: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


# -- start-up -------------------------------------------------------------------


def test_without_the_extra_it_is_one_line_naming_the_extra() -> None:
    code = "import sys; sys.modules['granian'] = None; from mockbin.serving.cli import main; main(['serve', '--server', 'granian'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=clean_env())
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "mockbin: error: --server granian needs granian, the extra fast: pip install '.[fast]' in the mockbin clone"
    )


def test_env_var_chooses_the_server() -> None:
    port = free_port()
    env = clean_env(MOCKBIN_SERVER="granian", MOCKBIN_PORT=str(port))
    with ServerProcess([sys.executable, "-m", "mockbin", "serve"], port, env=env) as server:
        assert "Starting granian" in server.output() or requests.get(f"{server.url}/get", timeout=10).ok
        assert requests.get(f"{server.url}/get", timeout=10).json()["url"] == f"{server.url}/get"


def test_what_granian_cannot_do_is_refused_at_start() -> None:
    result = subprocess.run(
        mockbin_argv(free_port(), "--server", "granian", "--timeout", "5"),
        capture_output=True, text=True, timeout=60, env=clean_env(),
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--timeout" in result.stderr and "watchdog" in result.stderr


def test_busy_port_is_the_same_one_line_as_under_gunicorn() -> None:
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            mockbin_argv(port, "--server", "granian"), capture_output=True, text=True, timeout=60, env=clean_env()
        )
    assert result.returncode == 2
    assert result.stderr.strip() == f"mockbin: error: cannot listen on 127.0.0.1:{port}: address already in use"


# -- settings mean the same ---------------------------------------------------------


def test_prefix_stateful_store_and_journal_under_granian() -> None:
    port = free_port()
    with granian(port, "--prefix", "/bin", "--stateful", "--journal", "--workers", "1", "--threads", "4") as server:
        base = f"{server.url}/bin"
        put = requests.put(f"{base}/notes/1", json={"a": 1}, timeout=10)
        assert put.status_code == 201
        assert requests.get(f"{base}/notes/1", timeout=10).json() == {"a": 1}
        assert requests.get(f"{base}/get", timeout=10).json()["url"] == f"{base}/get"
        assert requests.get(f"{server.url}/get", timeout=10).status_code == 404
        journal = requests.get(f"{base}/__mockbin/requests", timeout=10).json()
        assert any(str(entry.get("path", "")).endswith("/notes/1") for entry in journal), journal


def test_process_environment_never_reads_as_request_headers() -> None:
    """granian starts each request's environ from the worker's environment: none of it reaches an echo."""
    port = free_port()
    env = clean_env(HTTP_X_FROM_PROCESS="leak", CONTENT_TYPE="text/leak")
    with ServerProcess(mockbin_argv(port, "--server", "granian", "--workers", "2"), port, env=env) as server:
        for _ in range(4):  # both workers, most likely
            echoed = requests.get(f"{server.url}/get", timeout=10).json()
            assert sorted(echoed["headers"]) == ["Accept", "Accept-Encoding", "Connection", "Host", "User-Agent"]


def test_granian_copies_an_empty_process_environment_and_the_real_one_stays() -> None:
    """The worker's environment is held back from granian's copy (a speed matter), not taken away."""
    from mockbin.serving.granian import _EmptyOnFirstCopy

    real = os.environ
    os.environ = _EmptyOnFirstCopy(real)  # type: ignore[assignment]
    try:
        assert os.environ["PATH"] == real["PATH"] and os.getenv("PATH") == real["PATH"]
        os.environ["MOCKBIN_TEST_HELD"] = "1"
        assert real["MOCKBIN_TEST_HELD"] == "1"
        del os.environ["MOCKBIN_TEST_HELD"]
        assert dict(os.environ) == {}  # granian's copy
        assert os.environ is real and dict(os.environ)["PATH"] == real["PATH"]  # everything after it
    finally:
        os.environ = real


def test_sqlite_store_shared_by_two_granian_workers(tmp_path) -> None:
    port = free_port()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with granian(port, "--stateful", "--store", store, "--workers", "2") as server:
        for number in range(20):
            assert requests.put(f"{server.url}/items/{number}", data=b"x", timeout=10).status_code == 201
        listing = requests.get(f"{server.url}/items", timeout=10)
        assert listing.headers["X-Total-Count"] == "20"


def test_text_access_line_is_gunicorns_combined_format() -> None:
    from mockbin.serving.logs import combined_line

    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": "/post?a=1", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "agent/1", "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz", "HTTP_REFERER": "http://r/",
    }
    line = combined_line(environ, "201 Created", 2)
    assert line.startswith("127.0.0.1 - user [")
    assert line.endswith('] "POST /post?a=1 HTTP/1.1" 201 2 "http://r/" "agent/1"')


def test_logs_go_where_gunicorns_go() -> None:
    """Access lines on stdout (text or JSON, one per request), server messages on stderr."""
    for log_format in ("text", "json"):
        port = free_port()
        with subprocess.Popen(
            [sys.executable, "-m", "mockbin", "serve", "--server", "granian", "--port", str(port), "--log-format", log_format],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), start_new_session=True,
        ) as process:
            try:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        requests.post(f"http://{HOST}:{port}/post?q=1", data=b"secret-body", timeout=5)
                        break
                    except requests.ConnectionError:
                        assert time.monotonic() < deadline
                        time.sleep(0.1)
            finally:
                os.kill(process.pid, signal.SIGTERM)
                out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert b"secret-body" not in out + err
        lines = out.decode().strip().splitlines()
        assert len(lines) == 1, out
        if log_format == "json":
            record = json.loads(lines[0])
            assert (record["method"], record["path"], record["query"], record["status"]) == ("POST", "/post", "q=1", 200)
        else:
            assert '"POST /post?q=1 HTTP/1.1" 200 ' in lines[0]
        assert b"Starting granian" in err


def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0() -> None:
    port = free_port()
    server = granian(port, "--graceful-timeout", "20").start()
    try:
        sock = socket.create_connection((HOST, port), timeout=10)
        sock.sendall(b"GET /delay/2 HTTP/1.1\r\nHost: mockbin\r\nConnection: close\r\n\r\n")
        time.sleep(0.5)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGTERM)
        refused = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not refused:
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                time.sleep(0.05)
            except ConnectionRefusedError:
                refused = True
            except OSError:
                time.sleep(0.05)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        assert refused, "the port still accepted connections after SIGTERM"
        assert server.process.wait(15) == 0
    finally:
        server.stop()


# -- HTTP/2 -----------------------------------------------------------------------


def test_h2c_prior_knowledge_echo_with_httpx(h2c: ServerProcess) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    with httpx.Client(http1=False, http2=True) as client:
        answer = client.get(f"{h2c.url}/anything?x=1", headers={"X-Trace": "t1"})
    assert answer.http_version == "HTTP/2"
    body = answer.json()
    assert body["url"] == f"{h2c.url}/anything?x=1"
    assert body["headers"]["Host"] == f"{HOST}:{h2c.port}"  # from :authority
    assert body["headers"]["X-Trace"] == "t1"
    assert not any(name.startswith(":") for name in body["headers"])  # no pseudo-headers


def test_h2_over_tls_by_alpn_with_httpx(tmp_path) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    port = free_port()
    ca_file = tmp_path / "ca.pem"
    with granian(port, "--http2", "--tls-self-signed", "--tls-ca-file", str(ca_file)):
        import ssl

        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(ca_file))) as client:
            answer = client.post(f"https://localhost:{port}/post", json={"a": 1})
    assert answer.http_version == "HTTP/2"
    body = answer.json()
    assert body["url"] == f"https://localhost:{port}/post"
    assert body["json"] == {"a": 1}
    assert body["headers"]["Host"] == f"localhost:{port}"


def test_http1_clients_still_served_with_http2_on(h2c: ServerProcess) -> None:
    answer = requests.get(f"{h2c.url}/get", timeout=10)
    assert answer.raw.version == 11 and answer.json()["url"] == f"{h2c.url}/get"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_http2(h2c: ServerProcess) -> None:
    features = subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout
    if "HTTP2" not in features:
        pytest.skip("this curl was built without HTTP/2 (nghttp2)")
    result = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "-w", "\\n%{http_version}", f"{h2c.url}/headers"],
        capture_output=True, text=True, timeout=20,
    )
    body, _, version = result.stdout.rpartition("\n")
    assert version == "2"
    assert json.loads(body)["headers"]["Host"] == f"{HOST}:{h2c.port}"


# -- the three differences (docs/compatibility.md) -----------------------------------


@pytest.fixture(scope="module")
def plain() -> Iterator[ServerProcess]:
    port = free_port()
    with granian(port) as server:
        yield server


def test_difference_non_ascii_header_values_arrive_empty(plain: ServerProcess) -> None:
    answer = raw(plain.port, b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\nConnection: close\r\n\r\n")
    assert b'"X-Latin": ""' in answer


def test_difference_request_heads_granian_reads_its_own_way(plain: ServerProcess) -> None:
    answer = raw(plain.port, b"GET /headers HTTP/1.1\r\nHost: x\r\nX_Under: 1\r\nConnection: close\r\n\r\n")
    assert b'"X-Under": "1"' in answer  # gunicorn drops names with underscores
    answer = raw(plain.port, b"GET /cookies HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n")
    assert b'"b": "2"' in answer  # gunicorn joins the two with "," (a = "1,b=2")
    answer = raw(plain.port, b"GET /get?x=<> HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_difference_response_heads_granian_writes_its_own_way(plain: ServerProcess) -> None:
    answer = raw(plain.port, b"GET /status/102 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 501 ")  # gunicorn writes a final 102; granian cannot
    assert b"urn:mockbin:problem:engine-cannot" in answer
    answer = raw(
        plain.port, b"GET /response-headers?A=1&Content-Type=text/plain&A=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    head = answer.split(b"\r\n\r\n", 1)[0].lower().split(b"\r\n")
    names = [line.split(b":", 1)[0] for line in head[1:]]
    assert names.index(b"a") + 1 == len(names) - names[::-1].index(b"a") - 1  # the two A lines side by side


def test_every_granian_difference_belongs_to_one_of_three_reasons() -> None:
    assert len(GRANIAN_REASONS) <= 3
    assert set(GRANIAN_SHAPES.values()) <= set(GRANIAN_REASONS)
