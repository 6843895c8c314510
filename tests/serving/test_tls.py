"""HTTPS from the command line, under both servers.

Users rely on: a certificate they bring being served as it is; a self-signed
one that curl and Python trust through the CA file mockbin prints; the
health check finding that CA by itself; and every mistake with the files
being one line and exit status 2 before anything listens.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import requests
import trustme

from mockbin.serving.tls import names_for
from support.servers import HOST, ServerProcess, free_port, mockbin_argv

SERVERS = ["gunicorn", pytest.param("granian", marks=pytest.mark.skipif(
    __import__("importlib").util.find_spec("granian") is None, reason="granian (the extra fast) is not installed"))]


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    env.update(extra)
    return env


def serve_argv(port: int, server: str, *extra: str) -> List[str]:
    return mockbin_argv(port, "--server", server, *extra)


def https_server(argv: List[str], port: int, env: Dict[str, str]) -> ServerProcess:
    """A server whose port listens; HTTPS answers are checked by the test."""
    return ServerProcess(argv, port, env=env)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pair_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    where = tmp_path_factory.mktemp("tls")
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = {"cert": where / "cert.pem", "key": where / "key.pem", "ca": where / "ca.pem"}
    leaf.cert_chain_pems[0].write_to_path(str(files["cert"]))
    leaf.private_key_pem.write_to_path(str(files["key"]))
    ca.cert_pem.write_to_path(str(files["ca"]))
    other = trustme.CA().issue_cert("127.0.0.1")
    files["other_key"] = where / "other-key.pem"
    other.private_key_pem.write_to_path(str(files["other_key"]))
    return files


@pytest.mark.parametrize("server", SERVERS)
def test_brought_certificate_is_served(server: str, pair_files: Dict[str, Path]) -> None:
    port = free_port()
    argv = serve_argv(port, server, "--tls-cert", str(pair_files["cert"]), "--tls-key", str(pair_files["key"]))
    with https_server(argv, port, clean_env()):
        answer = requests.get(f"https://{HOST}:{port}/get?x=1", verify=str(pair_files["ca"]), timeout=10)
    assert answer.status_code == 200
    assert answer.json()["url"] == f"https://{HOST}:{port}/get?x=1"


@pytest.mark.parametrize("server", SERVERS)
def test_self_signed_ca_file_is_trusted_by_curl_and_healthcheck(server: str, tmp_path: Path) -> None:
    port = free_port()
    ca_file = tmp_path / "ca.pem"
    env = clean_env(
        MOCKBIN_PORT=str(port), MOCKBIN_TLS_SELF_SIGNED="1", MOCKBIN_TLS_CA_FILE=str(ca_file), MOCKBIN_SERVER=server
    )
    with ServerProcess([sys.executable, "-m", "mockbin", "serve", "--log-level", "warning"], port, env=env) as live:
        assert ca_file.exists()
        assert str(ca_file) in live.output()  # the path is printed at start
        curl = subprocess.run(
            ["curl", "-sS", "--cacert", str(ca_file), f"https://127.0.0.1:{port}/get"],
            capture_output=True, text=True, timeout=20,
        )
        assert curl.returncode == 0, curl.stderr
        assert f'"url": "https://127.0.0.1:{port}/get"' in curl.stdout
        health = subprocess.run(
            [sys.executable, "-m", "mockbin", "healthcheck"], env=env, capture_output=True, text=True, timeout=20
        )
        assert health.returncode == 0, health.stderr
        assert f"https://127.0.0.1:{port}/__mockbin/health" in health.stdout
        # Without the CA, the same certificate is not trusted.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"https://127.0.0.1:{port}/get", timeout=10)


def test_self_signed_default_ca_path_is_per_port_and_found_by_healthcheck() -> None:
    port = free_port()
    env = clean_env(MOCKBIN_PORT=str(port), MOCKBIN_TLS_SELF_SIGNED="true")
    with ServerProcess([sys.executable, "-m", "mockbin", "serve", "--log-level", "warning"], port, env=env) as live:
        import tempfile

        expected = os.path.join(tempfile.gettempdir(), f"mockbin-ca-{port}.pem")
        assert expected in live.output()
        context = ssl.create_default_context(cafile=expected)
        import http.client

        connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
        connection.request("GET", "/get")
        assert connection.getresponse().status == 200
        health = subprocess.run([sys.executable, "-m", "mockbin", "healthcheck"], env=env, capture_output=True, text=True)
        assert health.returncode == 0, health.stderr


def test_self_signed_names_cover_loopback_and_the_bind_host() -> None:
    assert names_for("127.0.0.1") == ["localhost", "127.0.0.1", "::1"]
    assert names_for("192.0.2.7") == ["localhost", "127.0.0.1", "::1", "192.0.2.7"]
    assert names_for("Mock.Example") == ["localhost", "127.0.0.1", "::1", "mock.example"]
    import socket

    assert names_for("0.0.0.0")[-1] == socket.gethostname().lower() or socket.gethostname() in names_for("0.0.0.0")


def run_serve(*args: str, env: Dict[str, str] = None) -> subprocess.CompletedProcess:  # type: ignore[assignment]
    return subprocess.run(
        [sys.executable, "-m", "mockbin", "serve", "--port", str(free_port()), *args],
        env=env or clean_env(), capture_output=True, text=True, timeout=60,
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("server", SERVERS)
def test_bad_tls_files_are_one_line_and_exit_2(server: str, pair_files: Dict[str, Path], tmp_path: Path) -> None:
    cert, key = str(pair_files["cert"]), str(pair_files["key"])
    assert_one_line_exit_2(run_serve("--server", server, "--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", key),
                           "--tls-cert", "nope.pem", "No such file")
    assert_one_line_exit_2(run_serve("--server", server, "--tls-cert", cert, "--tls-key", str(tmp_path)),
                           "--tls-key", "Is a directory")
    assert_one_line_exit_2(run_serve("--server", server, "--tls-cert", cert, "--tls-key", str(pair_files["other_key"])),
                           "is not the key of the certificate")
    assert_one_line_exit_2(run_serve("--server", server, "--tls-cert", key, "--tls-key", key), "holds no PEM certificate")
    assert_one_line_exit_2(run_serve("--server", server, "--tls-cert", cert, "--tls-key", cert), "holds no PEM private key")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--tls-cert", "cert.pem"], ["--tls-cert (MOCKBIN_TLS_CERT) needs --tls-key"]),
        (["--tls-key", "key.pem"], ["--tls-key (MOCKBIN_TLS_KEY) needs --tls-cert"]),
        (["--tls-self-signed", "--tls-cert", "c", "--tls-key", "k"], ["choose one"]),
        (["--tls-ca-file", "ca.pem"], ["--tls-ca-file", "add --tls-self-signed"]),
        (["--http2"], ["--http2", "--server granian"]),
        (["--server", "nginx"], ["'nginx' is not a server (gunicorn, granian)"]),
        (["--worker-class", "eventlet"], ["'eventlet' is not a worker class"]),
        (["--server", "granian", "--worker-class", "sync"], ["--worker-class", "granian"]),
    ],
)
def test_contradictory_server_settings_are_one_line_and_exit_2(args: List[str], fragments: List[str]) -> None:
    assert_one_line_exit_2(run_serve(*args), *fragments)


def test_unwritable_ca_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert_one_line_exit_2(
        run_serve("--tls-self-signed", "--tls-ca-file", str(tmp_path / "missing-dir" / "ca.pem")),
        "cannot write the CA file",
    )
