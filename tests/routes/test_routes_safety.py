"""Reflected content: exact httpbin by default, inert text with ``--safe-responses`` (docs/security.md).

``/base64/<value>`` and ``/response-headers?Content-Type=...`` serve what the
client chose, HTML included, on mockbin's origin.  By default that stays
httpbin's behaviour, byte for byte; with ``--safe-responses`` those answers
(and ``/dump/request``, and stored HTML in the stateful mode) are
``text/plain`` with ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import base64
from typing import Iterator

import pytest
import requests

from support.differential import Shape, assert_same, call_socket
from support.servers import ServerProcess, free_port, mockbin_argv

SCRIPT = "<script>alert(document.domain)</script>"
ENCODED = base64.urlsafe_b64encode(SCRIPT.encode()).decode()
REFLECTING = [
    Shape("base64-script", "GET", f"/base64/{ENCODED}"),
    Shape("base64-bad", "GET", "/base64/not*base64"),
    Shape("response-headers-html", "GET", "/response-headers?Content-Type=text/html&x=%3Cscript%3E"),
    Shape("response-headers-svg", "GET", "/response-headers?content-type=image/svg%2Bxml&x=1"),
    Shape("response-headers-plain", "GET", "/response-headers?x=%3Cscript%3E"),
]
NOSNIFF = "X-Content-Type-Options"


@pytest.mark.parametrize("shape", REFLECTING, ids=lambda shape: shape.id)
def test_by_default_the_reflecting_routes_answer_exactly_as_httpbin(live_pair, shape):
    oracle, mine = live_pair
    theirs, ours = call_socket(oracle.port, shape), call_socket(mine.port, shape)
    assert_same(theirs, ours, [str(oracle.port), str(mine.port)])
    assert ours.header(NOSNIFF) is None


def test_by_default_base64_serves_the_decoded_script_as_html(live_pair):
    _, mine = live_pair
    answer = requests.get(f"{mine.url}/base64/{ENCODED}")
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8" and answer.text == SCRIPT


@pytest.fixture(scope="module")
def safe() -> Iterator[ServerProcess]:
    port = free_port()
    argv = mockbin_argv(port, "--workers", "1", "--safe-responses", "--stateful")
    with ServerProcess(argv, port) as server:
        yield server


def test_safe_base64_is_plain_text_with_nosniff(safe):
    answer = requests.get(f"{safe.url}/base64/{ENCODED}")
    assert answer.status_code == 200 and answer.content == SCRIPT.encode()
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers[NOSNIFF] == "nosniff"


@pytest.mark.parametrize("asked", ["Content-Type=text/html", "content-type=text/html&Content-Type=image/svg%2Bxml"])
def test_safe_response_headers_replace_the_asked_type_and_list_what_is_sent(safe, asked):
    answer = requests.get(f"{safe.url}/response-headers?{asked}&{NOSNIFF}=off&x=%3Cscript%3E")
    assert answer.status_code == 200
    assert answer.raw.headers.getlist("Content-Type") == ["text/plain; charset=utf-8"]
    assert answer.raw.headers.getlist(NOSNIFF) == ["nosniff"]
    assert answer.json() == {
        "Content-Length": answer.headers["Content-Length"],
        "Content-Type": "text/plain; charset=utf-8",
        NOSNIFF: "nosniff",
        "x": "<script>",
    }
    assert int(answer.headers["Content-Length"]) == len(answer.content)


def test_safe_response_headers_without_a_content_type_stay_json(safe):
    answer = requests.get(f"{safe.url}/response-headers?X-Custom=1")
    assert answer.headers["Content-Type"] == "application/json" and answer.json()["X-Custom"] == "1"
    assert NOSNIFF not in answer.headers


def test_safe_dump_request_adds_nosniff(safe):
    answer = requests.post(f"{safe.url}/dump/request", data=b"<html><script>x</script>")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8" and answer.headers[NOSNIFF] == "nosniff"
    assert answer.content.endswith(b"<html><script>x</script>")


def test_safe_store_serves_stored_html_as_text_and_json_as_json(safe):
    html = requests.put(f"{safe.url}/pages/x", data=SCRIPT, headers={"Content-Type": "text/html"})
    assert html.status_code == 201 and html.headers["Content-Type"] == "text/plain; charset=utf-8"
    answer = requests.get(f"{safe.url}/pages/x")
    assert answer.content == SCRIPT.encode() and answer.headers[NOSNIFF] == "nosniff"
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    svg = requests.put(f"{safe.url}/pages/y", data=b"<svg/>", headers={"Content-Type": "image/svg+xml"})
    assert requests.get(svg.url).headers["Content-Type"] == "text/plain; charset=utf-8"
    requests.put(f"{safe.url}/pages/z", json={"a": 1})
    answer = requests.get(f"{safe.url}/pages/z")
    assert answer.headers["Content-Type"] == "application/json" and answer.json() == {"a": 1}
    assert answer.headers[NOSNIFF] == "nosniff"
    # The store keeps what was sent: the export still says text/html.
    exported = requests.get(f"{safe.url}/__mockbin/store").json()
    assert exported["items"]["/pages/x"]["content_type"] == "text/html"


def test_helper_leaves_responses_alone_unless_safe_responses_is_on():
    from werkzeug.wrappers import Response

    from mockbin.routes.safety import is_active_type, safe_reflection
    from mockbin.settings import ENVIRON_KEY, Settings

    off = {ENVIRON_KEY: Settings()}
    on = {ENVIRON_KEY: Settings(safe_responses=True)}
    response = safe_reflection(Response(b"<b>", content_type="text/html"), off)
    assert response.headers["Content-Type"] == "text/html" and NOSNIFF not in response.headers
    binary = safe_reflection(Response(b"\xff<b>", content_type="application/x-anything"), on)
    assert binary.headers["Content-Type"] == "text/plain" and binary.headers[NOSNIFF] == "nosniff"
    latin = safe_reflection(Response(b"caf\xe9", content_type="text/html; charset=iso-8859-1"), on)
    assert latin.headers["Content-Type"] == "text/plain; charset=iso-8859-1"
    assert [t for t in ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "", "multipart/x-mixed-replace")
            if not is_active_type(t)] == []
    assert [t for t in ("application/json", "text/plain", "image/png", "application/octet-stream") if is_active_type(t)] == []
