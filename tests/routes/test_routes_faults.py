"""The /fault/* routes over real sockets, under every engine: what the wire carries, what clients raise.

Each fault is checked twice: at the byte level with a raw socket (a reset,
a clean close, the exact broken framing) and through requests/urllib3, whose
exception is the one a user's retry code meets -- the table in
docs/faults.md.  After each fault the server must go on serving: the worker
survived and no connection was reused.  Under an engine without a socket
(the in-process test client here) every route answers 501 ``engine-cannot``.
"""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest
import requests
import urllib3

from support.differential import Shape, call_wsgi
from support.rawhttp import build_request

FAULTS = ("connection-reset", "empty-response", "malformed-chunk", "random-data-then-close", "truncated-body", "hang")


def raw(engine, target: str, method: str = "GET", body: bytes = b"", timeout: float = 10.0) -> bytes:
    """Send one request, read until the server closes; ConnectionResetError propagates."""
    headers = [("Host", "x")] + ([("Content-Length", str(len(body)))] if body else [])
    with socket.create_connection(("127.0.0.1", engine.port), timeout=timeout) as sock:
        sock.sendall(build_request(method, target, headers, body or None))
        data = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                return data
            data += piece


def inner(exc: BaseException) -> BaseException:
    """The innermost exception of requests' wrapping (requests -> urllib3 -> http.client/socket)."""
    while exc.args and isinstance(exc.args[-1], BaseException):
        exc = exc.args[-1]
    return exc


def still_serving(engine) -> None:
    answer = requests.get(engine.url + "/get", timeout=10)
    assert answer.status_code == 200
    assert "Traceback" not in engine.output()


# -- on the wire ----------------------------------------------------------------


def test_connection_reset_is_a_tcp_reset(engine):
    with pytest.raises(ConnectionResetError):
        raw(engine, "/fault/connection-reset")
    still_serving(engine)


def test_empty_response_closes_without_a_byte(engine):
    assert raw(engine, "/fault/empty-response", "POST", b'{"order": 1}') == b""
    still_serving(engine)


def test_malformed_chunk_sends_a_valid_head_then_a_broken_chunk(engine):
    data = raw(engine, "/fault/malformed-chunk")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Transfer-Encoding: chunked" in lines and b"Connection: close" in lines
    assert not any(line.lower().startswith(b"content-length") for line in lines)
    size_line, _, rest = body.partition(b"\r\n")
    size = int(size_line, 16)
    chunk, rest = rest[:size], rest[size:]
    assert chunk and rest.startswith(b"\r\nzz")  # a chunk-size line that is not hexadecimal
    assert rest.endswith(b"\r\n") and rest.count(b"\r\n") == 2  # then nothing: the connection closed
    still_serving(engine)


def test_random_data_is_not_http_and_repeats_with_a_seed(engine):
    first = raw(engine, "/fault/random-data-then-close?size=300&seed=7")
    second = raw(engine, "/fault/random-data-then-close?size=300&seed=7")
    other = raw(engine, "/fault/random-data-then-close?size=300&seed=8")
    assert len(first) == 300 and first == second and other != first
    assert not first.startswith(b"HTTP/")
    assert len(raw(engine, "/fault/random-data-then-close")) == 1024
    still_serving(engine)


def test_truncated_body_promises_more_than_it_sends(engine):
    data = raw(engine, "/fault/truncated-body")
    head, _, body = data.partition(b"\r\n\r\n")
    declared = int(next(line for line in head.split(b"\r\n") if line.startswith(b"Content-Length:")).split(b":")[1])
    assert 0 < len(body) < declared
    assert body.startswith(b"{")
    with pytest.raises(ValueError):
        json.loads(body)  # the first half of a JSON document
    still_serving(engine)


def test_hang_sends_nothing_then_closes(engine):
    start = time.monotonic()
    assert raw(engine, "/fault/hang?duration=0.5", "POST", b"x" * 1000) == b""
    assert time.monotonic() - start >= 0.45  # a lower bound only: it cannot end early
    still_serving(engine)


def test_hang_without_duration_lasts_max_duration(engine):
    from support.engines import MAX_DURATION

    start = time.monotonic()
    assert raw(engine, "/fault/hang", timeout=MAX_DURATION + 10) == b""
    assert time.monotonic() - start >= MAX_DURATION - 0.1


def test_hang_ends_when_the_client_leaves(engine):
    with socket.create_connection(("127.0.0.1", engine.port), timeout=10) as sock:
        sock.sendall(build_request("GET", "/fault/hang", [("Host", "x")]))
        time.sleep(0.2)
    # Even the one-request-at-a-time sync worker is free again well before --max-duration.
    start = time.monotonic()
    still_serving(engine)
    assert time.monotonic() - start < 2.5


# -- what clients raise (docs/faults.md) ----------------------------------------


def test_requests_errors(engine):
    expected = {
        "connection-reset": (requests.exceptions.ConnectionError, ConnectionResetError),
        "empty-response": (requests.exceptions.ConnectionError, http.client.RemoteDisconnected),
        "malformed-chunk": (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.InvalidChunkLength),
        "random-data-then-close": (requests.exceptions.ConnectionError, http.client.BadStatusLine),
        "truncated-body": (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.IncompleteRead),
    }
    for kind, (outer, cause) in expected.items():
        with pytest.raises(outer) as caught:
            requests.post(f"{engine.url}/fault/{kind}", json={"order": 1}, timeout=10)
        assert isinstance(inner(caught.value), cause), (kind, repr(caught.value))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{engine.url}/fault/hang?duration=2", timeout=0.3)
    still_serving(engine)


def test_urllib3_errors(engine):
    pool = urllib3.PoolManager(retries=False)
    with pytest.raises(urllib3.exceptions.ProtocolError) as caught:
        pool.request("GET", f"{engine.url}/fault/connection-reset")
    assert isinstance(caught.value.args[1], ConnectionResetError)
    with pytest.raises(urllib3.exceptions.ProtocolError) as caught:
        pool.request("GET", f"{engine.url}/fault/empty-response")
    assert isinstance(caught.value.args[1], http.client.RemoteDisconnected)
    with pytest.raises(urllib3.exceptions.ProtocolError) as caught:
        pool.request("GET", f"{engine.url}/fault/truncated-body")
    assert isinstance(caught.value.args[1], http.client.IncompleteRead)


def test_every_method_and_a_session_survive(engine):
    session = requests.Session()
    assert session.get(engine.url + "/get").status_code == 200
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        with pytest.raises(requests.exceptions.ConnectionError):
            session.request(method, engine.url + "/fault/empty-response", data=b"abc")
    assert session.get(engine.url + "/get").status_code == 200  # a fresh connection


def test_journal_records_the_faulted_request(engine):
    from mockbin.testing.client import Mockbin

    handle = Mockbin(engine.url)
    handle.clear_requests()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(engine.url + "/fault/connection-reset", json={"a": 1})
    (entry,) = handle.matching("POST", "/fault/connection-reset")
    assert entry.json() == {"a": 1} and entry.status is None  # no answer was given


# -- parameters and engines without a socket --------------------------------------


@pytest.mark.parametrize("target, parameter", [
    ("/fault/random-data-then-close?size=0", "size"),
    ("/fault/random-data-then-close?size=lots", "size"),
    ("/fault/random-data-then-close?seed=x", "seed"),
    ("/fault/hang?duration=soon", "duration"),
])
def test_bad_parameters_are_400(target, parameter, mockbin_app):
    answer = call_wsgi(mockbin_app, Shape("x", "GET", target))
    assert answer.status_line.startswith("400")
    assert json.loads(answer.body)["parameter"] == parameter


def test_limits_apply(low_app):
    from support.servers import LOW_DURATION, LOW_SIZE

    too_long = call_wsgi(low_app, Shape("x", "GET", f"/fault/hang?duration={float(LOW_DURATION) + 1}"))
    assert json.loads(too_long.body)["setting"] == "--max-duration"
    too_big = call_wsgi(low_app, Shape("x", "GET", f"/fault/random-data-then-close?size={int(LOW_SIZE) + 1}"))
    assert json.loads(too_big.body)["setting"] == "--max-generated-size"


@pytest.mark.parametrize("kind", FAULTS)
def test_no_socket_no_fault_but_a_501(kind, mockbin_app):
    answer = call_wsgi(mockbin_app, Shape("x", "GET", f"/fault/{kind}"))
    assert answer.status_line.startswith("501")
    assert dict(answer.headers)["Content-Type"] == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["type"] == "urn:mockbin:problem:engine-cannot"
    assert f"/fault/{kind}" in problem["detail"]


def test_http2_gets_a_501_too(mockbin_app):
    """Over HTTP/2 the socket carries other streams: writing to it would break them."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    left, right = socket.socketpair()
    with left, right:
        environ = EnvironBuilder("/fault/connection-reset").get_environ()
        environ.update({"gunicorn.socket": left, "SERVER_PROTOCOL": "HTTP/2", "HTTP_VERSION": "2"})
        body, status, _ = run_wsgi_app(mockbin_app, environ, buffered=True)
        assert status.startswith("501") and b"HTTP/2" in b"".join(body)
        right.setblocking(False)
        with pytest.raises(BlockingIOError):
            right.recv(1)  # nothing was written to the connection


def test_faults_over_tls(mockbin_secure, mockbin_ca_bundle):
    """Over TLS the same faults; Python's ssl reports the reset as an unexpected EOF (docs/faults.md)."""
    expected = {
        "connection-reset": (requests.exceptions.ConnectionError, http.client.RemoteDisconnected),
        "empty-response": (requests.exceptions.ConnectionError, http.client.RemoteDisconnected),
        "malformed-chunk": (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.InvalidChunkLength),
        "truncated-body": (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.IncompleteRead),
    }
    for kind, (outer, cause) in expected.items():
        with pytest.raises(outer) as caught:
            requests.get(f"{mockbin_secure}/fault/{kind}", verify=mockbin_ca_bundle, timeout=10)
        assert isinstance(inner(caught.value), cause), (kind, repr(caught.value))
    assert requests.get(f"{mockbin_secure}/get", verify=mockbin_ca_bundle, timeout=10).status_code == 200
