"""--max-body-size over real sockets: 413 problem+json, bounded reads, server keeps serving."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from support.rawhttp import build_request, read_response
from support.servers import ServerProcess, free_port, mockbin_argv

LIMIT = 1024


@pytest.fixture(scope="module", params=["gevent", "gthread", "sync"])
def small_limit_server(request):
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--max-body-size", "1KiB", "--worker-class", request.param), port) as server:
        yield server


def assert_413_problem(response):
    assert response.status_line == "HTTP/1.1 413 REQUEST ENTITY TOO LARGE"
    assert response.header("Content-Type") == "application/problem+json"
    assert response.header("Access-Control-Allow-Origin") == "*"
    problem = json.loads(response.body)
    assert problem["status"] == 413
    assert problem["limit"] == LIMIT
    assert "--max-body-size" in problem["detail"] and "MOCKBIN_MAX_BODY_SIZE" in problem["detail"]
    assert str(LIMIT) in problem["detail"]


def assert_still_serving(server):
    answer = requests.post(server.url + "/post", data=b"x" * LIMIT, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["data"] == "x" * LIMIT


def test_body_at_the_limit_is_accepted(small_limit_server):
    assert_still_serving(small_limit_server)


def test_declared_body_over_the_limit_is_refused_before_it_is_sent(small_limit_server):
    # Only the head is sent: the 413 must come without waiting for 10 MB of body.
    head = build_request("POST", "/post", [("Host", "x"), ("Content-Length", str(10_000_000))])
    with socket.create_connection(("127.0.0.1", small_limit_server.port), timeout=10) as sock:
        sock.sendall(head)
        response, _ = read_response(sock, "POST")
    assert_413_problem(response)
    assert_still_serving(small_limit_server)


def test_declared_body_one_byte_over(small_limit_server):
    answer = requests.post(small_limit_server.url + "/anything", data=b"x" * (LIMIT + 1), timeout=10)
    assert answer.status_code == 413
    assert answer.json()["limit"] == LIMIT


def test_chunked_body_over_the_limit_is_cut_off(small_limit_server):
    # Stream far more than the limit; the answer arrives while we are still sending,
    # which shows the server stopped reading near the limit.
    head = build_request("POST", "/post", [("Host", "x"), ("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")])
    chunk = b"%x\r\n%s\r\n" % (512, b"y" * 512)
    with socket.create_connection(("127.0.0.1", small_limit_server.port), timeout=10) as sock:
        sock.sendall(head)
        sent = 0
        response = None
        sock.settimeout(0.05)
        deadline = time.monotonic() + 10
        while response is None and time.monotonic() < deadline:
            try:
                sock.sendall(chunk)
                sent += 512
            except OSError:
                pass  # the server closed its side after answering
            try:
                data = sock.recv(65536, socket.MSG_PEEK)
            except (socket.timeout, BlockingIOError):
                continue
            if data:
                sock.settimeout(10)
                response, _ = read_response(sock, "POST")
    assert response is not None, "no answer to an endless chunked body"
    assert_413_problem(response)
    assert sent < 50 * 1024 * 1024
    assert_still_serving(small_limit_server)


def test_chunked_body_under_the_limit_is_echoed(small_limit_server):
    def chunks():
        yield b"a" * 300
        yield b"b" * 300

    answer = requests.post(small_limit_server.url + "/post", data=chunks(), timeout=10)
    assert answer.status_code == 200
    assert answer.json()["data"] == "a" * 300 + "b" * 300
    assert answer.json()["headers"]["Transfer-Encoding"] == "chunked"


def test_limit_applies_to_every_route_that_reads_a_body(small_limit_server):
    for method, path in (("PUT", "/put"), ("PATCH", "/patch"), ("DELETE", "/delete"), ("POST", "/anything/x")):
        answer = requests.request(method, small_limit_server.url + path, data=b"z" * 5000, timeout=10)
        assert answer.status_code == 413, (method, path)
        assert answer.headers["Content-Type"] == "application/problem+json"


def test_default_limit_is_100_mib():
    from mockbin.settings import Settings

    assert Settings().max_body_size == 100 * 1024 * 1024
