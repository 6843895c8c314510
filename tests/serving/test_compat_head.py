"""The head granian is handed for the fast lane's answers (``compat.GunicornLike``), called in-process.

Over a socket granian trims blanks and empties non-ASCII values before the
app sees them, so these cases only show up when a layer of mockbin's own
changes a response's headers: the lane's shortcut must not skip the checks then.
"""

from __future__ import annotations

import io
import sys

from mockbin.app import create_app
from mockbin.fastlane import PLAIN_HEADERS
from mockbin.serving.compat import GunicornLike
from mockbin.settings import Settings


def granian_environ(**extra: str) -> dict:
    """A ``GET /get`` environ as granian builds it."""
    return {
        "GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "SERVER_SOFTWARE": "Granian", "wsgi.errors": sys.stderr,
        "wsgi.input_terminated": True, "wsgi.multiprocess": False, "wsgi.multithread": True,
        "wsgi.run_once": False, "wsgi.version": (1, 0), "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080", "REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "PATH_INFO": "/get",
        "QUERY_STRING": "", "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8080", "wsgi.input": io.BytesIO(b""),
        **extra,
    }


def head_of(app, environ: dict) -> list:
    heads = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: heads.append(headers)))
    assert body.startswith(b"{") and len(heads) == 1
    return heads[0]


def test_lane_answer_gets_gunicorns_head_and_leaves_no_mark():
    settings = Settings()
    environ = granian_environ()
    head = head_of(GunicornLike(create_app(settings).wsgi_app, settings), environ)
    assert [name for name, _ in head] == [
        "Server", "Date", "Connection", "Content-Type", "Content-Length",
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
    ]
    assert ("Access-Control-Allow-Origin", "*") in head and ("Connection", "keep-alive") in head
    assert PLAIN_HEADERS not in environ


def test_headers_changed_between_lane_and_adapter_are_checked_again():
    settings = Settings()
    lane = create_app(settings).wsgi_app

    def tampering(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("Connection", "upgrade"), ("X-Padded", " v\t")], exc_info)

        return lane(environ, start)

    head = head_of(GunicornLike(tampering, settings), granian_environ())
    assert [value for name, value in head if name == "Connection"] == ["keep-alive"]  # the app's is dropped
    assert ("X-Padded", "v") in head  # trimmed, as gunicorn writes it


def test_an_origin_takes_the_checked_way():
    settings = Settings()
    environ = granian_environ(HTTP_ORIGIN="http://caf\xc3\xa9.example")  # UTF-8 bytes, as WSGI carries them
    head = head_of(GunicornLike(create_app(settings).wsgi_app, settings), environ)
    assert ("Access-Control-Allow-Origin", "http://caf\u00e9.example") in head  # handed to granian decoded
