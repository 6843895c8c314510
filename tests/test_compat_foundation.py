"""Deliberate deviations from httpbin 0.10.4 in the echo endpoints (docs/compatibility.md)."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from werkzeug.serving import make_server

from support.differential import Shape, call_wsgi
from support.servers import HOST


@pytest.fixture
def werkzeug_server():
    """Serve an app with Werkzeug's threaded server (what the pytest plugin builds on)."""
    servers = []

    def serve(app):
        server = make_server(HOST, 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://{HOST}:{server.server_port}"

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_chunked_body_under_werkzeug_server(werkzeug_server, oracle_app, mockbin_app):
    def body():
        yield b'{"chunked": '
        yield b"true}"

    theirs = requests.post(werkzeug_server(oracle_app) + "/post", data=body(), timeout=10)
    ours = requests.post(werkzeug_server(mockbin_app) + "/post", data=body(), timeout=10)
    assert theirs.status_code == 501
    assert ours.status_code == 200
    assert ours.json()["json"] == {"chunked": True}
    assert ours.json()["headers"]["Transfer-Encoding"] == "chunked"


@pytest.mark.parametrize("depth", [1200, 5000])
def test_very_deep_json_is_not_a_500(depth, oracle_app, mockbin_app):
    raw = b"[" * depth + b"1" + b"]" * depth
    shape = Shape("deep", "POST", "/post", (("Content-Type", "application/json"),), raw)
    theirs = call_wsgi(oracle_app, shape)
    ours = call_wsgi(mockbin_app, shape)
    assert theirs.status_line.startswith("500")
    assert ours.status_line == "200 OK"
    echoed = ours.body.decode("ascii")
    assert json.loads(echoed)["data"] == raw.decode()
    parsed_json = echoed.split('"json": ', 1)[1]
    assert parsed_json.startswith("null") or parsed_json.startswith("[\n    [")
