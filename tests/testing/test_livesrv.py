"""The in-process server the pytest fixtures use, over real sockets.

These are the properties pytest-httpbin's server lacked and clients test
for: keep-alive, chunked uploads, streamed downloads, concurrency, TLS with a
CA the client can trust, and a stop that leaves no thread or socket behind.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest
import requests

from mockbin import create_app
from mockbin.testing.livesrv import LiveServer
from mockbin.settings import Settings
from support.rawhttp import read_response

STREAM_PARTS = 5
STREAM_PAUSE = 0.1


def streaming(app):
    """mockbin, plus /slow-stream: a body in parts with pauses (a download that streams)."""

    def wrapped(environ, start_response):
        if environ["PATH_INFO"] != "/slow-stream":
            return app(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])

        def parts():
            for index in range(STREAM_PARTS):
                yield b"part %d\n" % index
                time.sleep(STREAM_PAUSE)

        return parts()

    return wrapped


@pytest.fixture(scope="module")
def app():
    return create_app(Settings(journal=True))


@pytest.fixture(scope="module")
def server(app) -> Iterator[LiveServer]:
    with LiveServer(streaming(app)) as live:
        yield live


@pytest.fixture
def journal(app, server):
    """The journal, emptied: which client port each request came from proves connection reuse."""
    requests.post(server.url + "/__mockbin/reset").raise_for_status()

    def entries():
        return requests.get(server.url + "/__mockbin/requests").json()

    return entries


def test_session_reuses_one_connection(server, journal):
    with requests.Session() as session:
        for index in range(5):
            response = session.get(server.url + "/get", params={"i": index})
            assert response.status_code == 200
            assert "close" not in response.headers.get("Connection", "")
    ports = {entry["remote_port"] for entry in journal()}
    assert len(journal()) == 5 and len(ports) == 1, ports


def test_unread_request_body_is_drained_and_connection_kept(server, journal):
    with requests.Session() as session:
        session.get(server.url + "/get", data=b"ignored body " * 1000)
        assert session.get(server.url + "/get").json()["url"].endswith("/get")
    assert len({entry["remote_port"] for entry in journal()}) == 1


def test_connection_close_is_honoured(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response, rest = read_response(sock, "GET")
        assert response.status == 200 and response.header("Connection") == "close"
        assert rest == b"" and sock.recv(1) == b""  # the server hung up


def test_http10_client_gets_close_delimited_answer(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /slow-stream HTTP/1.0\r\nHost: x\r\n\r\n")
        response, _ = read_response(sock, "GET")  # no length, no chunks: reads to the close
    assert response.header("Transfer-Encoding") is None
    assert response.body == b"".join(b"part %d\n" % i for i in range(STREAM_PARTS))


def test_chunked_upload(server):
    def body():
        for index in range(4):
            yield b"chunk-%d;" % index

    response = requests.post(server.url + "/post", data=body(), headers={"Content-Type": "text/plain"})
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.json()["data"] == "chunk-0;chunk-1;chunk-2;chunk-3;"


def test_streamed_download_arrives_in_parts(server):
    started = time.monotonic()
    with requests.get(server.url + "/slow-stream", stream=True) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        lines = response.iter_lines()
        assert next(lines) == b"part 0"
        first = time.monotonic() - started
        rest = list(lines)
    total = time.monotonic() - started
    assert rest == [b"part %d" % i for i in range(1, STREAM_PARTS)]
    # The first part is read before the server has produced the last one.
    assert first < total - STREAM_PAUSE * (STREAM_PARTS - 2)


def test_sixteen_threads_at_once(server, journal):
    barrier = threading.Barrier(16)

    def call(index: int) -> dict:
        barrier.wait(5)
        with requests.Session() as session:
            return session.post(server.url + "/post", json={"thread": index}).json()["json"]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(call, range(16)))
    assert answers == [{"thread": i} for i in range(16)]
    assert len({entry["remote_port"] for entry in journal()}) == 16


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server_context, str(bundle)


def test_https_post_verified_by_requests_and_urllib(app, tls):
    server_context, bundle = tls
    with LiveServer(app, ssl_context=server_context) as live:
        response = requests.post(live.url + "/post", json={"secure": True}, verify=bundle)
        assert response.json()["json"] == {"secure": True}
        assert response.json()["url"].startswith("https://")
        request = urllib.request.Request(
            live.url + "/post", data=b"from urllib", headers={"Content-Type": "text/plain"}, method="POST"
        )
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=bundle)) as answer:
            assert b'"data": "from urllib"' in answer.read()
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(live.url + "/get")  # the system store does not know the session CA


def test_stalled_tls_handshake_does_not_block_others(app, tls):
    server_context, bundle = tls
    with LiveServer(app, ssl_context=server_context) as live:
        with socket.create_connection((live.host, live.port)):  # says nothing
            assert requests.get(live.url + "/get", verify=bundle, timeout=5).status_code == 200


def test_stop_closes_idle_connections_and_joins_threads(app):
    before = set(threading.enumerate())
    live = LiveServer(app).start()
    idle = socket.create_connection((live.host, live.port), timeout=5)
    idle.sendall(b"GET /get HTTP/1.1\r\nHost: x\r\n\r\n")
    read_response(idle, "GET")  # the connection now waits, kept alive, for a next request
    live.stop()
    try:
        assert idle.recv(1) == b""  # closed by the server
    finally:
        idle.close()
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError):
        socket.create_connection((live.host, live.port), timeout=1).close()


def test_busy_port_is_an_os_error_not_an_exit(app):
    with LiveServer(app) as live:
        with pytest.raises(OSError):
            LiveServer(app, port=live.port)


def test_unframeable_body_closes_the_connection(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n0123456789")
        response, _ = read_response(sock, "POST")
        assert response.header("Connection") == "close"
        assert sock.recv(1) == b""


def test_head_keeps_the_connection(server, journal):
    with requests.Session() as session:
        assert session.head(server.url + "/get").status_code == 200
        assert session.get(server.url + "/get").status_code == 200
    assert len({entry["remote_port"] for entry in journal()}) == 1
