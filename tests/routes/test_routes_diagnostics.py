"""Diagnostics (go-httpbin's extras): /hostname, /version and /dump/request.

httpbin has none of these (the oracle answers 404), so they are specified
here: over real sockets for what a client sees, in-process for settings.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

import mockbin
from mockbin import create_app
from mockbin.settings import Settings, SettingsError
from support.differential import Shape, call_wsgi
from support.rawhttp import build_request, exchange
from support.servers import ServerProcess, free_port, mockbin_argv


def send(port: int, raw: bytes, method: str = "GET"):
    return exchange("127.0.0.1", port, raw, method)


# -- /hostname and /version -------------------------------------------------------


def test_hostname_is_a_placeholder_by_default(live_pair):
    _, mine = live_pair
    answer = send(mine.port, build_request("GET", "/hostname", [("Host", "x")]))
    assert answer.status == 200 and answer.header("Content-Type") == "application/json"
    assert answer.body == b'{\n  "hostname": "mockbin"\n}\n'


def test_hostname_exposed_by_flag_over_a_socket():
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--expose-hostname", "--workers", "1"), port):
        answer = send(port, build_request("GET", "/hostname", [("Host", "x")]))
    assert json.loads(answer.body) == {"hostname": socket.gethostname()}


@pytest.mark.parametrize("value, exposed", [("1", True), ("true", True), ("off", False), ("0", False)])
def test_hostname_exposed_by_environment(value, exposed):
    app = create_app(Settings.from_env({"MOCKBIN_EXPOSE_HOSTNAME": value}))
    expected = socket.gethostname() if exposed else "mockbin"
    assert app.test_client().get("/hostname").get_json() == {"hostname": expected}


def test_bad_expose_hostname_values_are_refused():
    with pytest.raises(SettingsError, match="MOCKBIN_EXPOSE_HOSTNAME"):
        Settings.from_env({"MOCKBIN_EXPOSE_HOSTNAME": "maybe"})
    done = subprocess.run(
        [sys.executable, "-m", "mockbin", "serve", "--expose-hostname=maybe"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "--expose-hostname" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_version_names_the_running_mockbin(live_pair):
    _, mine = live_pair
    answer = send(mine.port, build_request("GET", "/version", [("Host", "x")]))
    assert answer.status == 200
    assert answer.body == ('{\n  "version": "%s"\n}\n' % mockbin.__version__).encode()


# -- /dump/request ---------------------------------------------------------------


def test_dump_reproduces_request_line_headers_and_body(live_pair):
    _, mine = live_pair
    body = b"a=1&b=caf\xc3\xa9"
    raw = build_request(
        "POST", "/dump/request?q=a%20b&x=1",
        [("Host", "example.test"), ("user-agent", "probe/2"), ("X-Trace", "t1"),
         ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(len(body)))],
        body,
    )
    answer = send(mine.port, raw, "POST")
    assert answer.status == 200
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"
    assert answer.body == (
        b"POST /dump/request?q=a%20b&x=1 HTTP/1.1\r\n"
        b"Host: example.test\r\n"
        b"User-Agent: probe/2\r\n"
        b"X-Trace: t1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 11\r\n"
        b"\r\n" + body
    )


def test_dump_of_a_chunked_request_is_chunked_again(live_pair):
    _, mine = live_pair
    raw = build_request("PUT", "/dump/request", [("Host", "h"), ("Transfer-Encoding", "chunked")], chunks=(b"hello ", b"world"))
    answer = send(mine.port, raw, "PUT")
    assert answer.body == b"PUT /dump/request HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"


def test_dump_keeps_http10_and_binary_bodies(live_pair):
    _, mine = live_pair
    body = bytes(range(256))
    raw = build_request("DELETE", "/dump/request", [("Host", "h"), ("Content-Length", "256")], body, version="HTTP/1.0")
    answer = send(mine.port, raw, "DELETE")
    assert answer.status_line.startswith("HTTP/1.0 200")
    assert answer.body.startswith(b"DELETE /dump/request HTTP/1.0\r\nHost: h\r\n")
    assert answer.body.endswith(b"\r\n\r\n" + body)


@pytest.mark.parametrize("method", ["GET", "PATCH", "TRACE"])
def test_dump_answers_any_method(method, mockbin_app):
    answer = call_wsgi(mockbin_app, Shape("dump", method, "/dump/request"))
    assert answer.status_line == "200 OK"
    assert answer.body.startswith(f"{method} /dump/request HTTP/1.1\r\nHost: 127.0.0.1:54321\r\n".encode())


def test_dump_honours_exclude_headers_and_prefix():
    app = create_app(Settings(exclude_headers=("X-Secret-*",), prefix="/mock"))
    shape = Shape("dump", "GET", "/mock/dump/request", (("X-Secret-Token", "s"), ("X-Public", "p")))
    answer = call_wsgi(app, shape)
    assert answer.body == b"GET /mock/dump/request HTTP/1.1\r\nHost: 127.0.0.1:54321\r\nX-Public: p\r\n\r\n"


def test_dump_respects_the_body_limit():
    app = create_app(Settings(max_body_size=10))
    answer = call_wsgi(app, Shape("dump", "POST", "/dump/request", body=b"x" * 11))
    assert answer.status_line.startswith("413")
    assert ("Content-Type", "application/problem+json") in answer.headers
