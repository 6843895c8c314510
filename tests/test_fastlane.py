"""The fast lane answers like Flask would and leaves nothing behind."""

from __future__ import annotations

import gc
import warnings

from support.echo_shapes import MULTIPART, multipart
from support.differential import Shape, call_wsgi


def test_multipart_upload_leaves_no_open_temp_file(mockbin_app):
    # Werkzeug spools file parts over 500 kB to a temporary file; the lane must close it.
    big = b"\x00\xff" * 400_000
    shape = Shape("big-upload", "POST", "/post", (MULTIPART,), multipart([("f", "big.bin", None, big)]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = call_wsgi(mockbin_app, shape)
        gc.collect()
    assert answer.status_line == "200 OK"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_lane_and_flask_give_the_same_bytes(mockbin_app):
    # /anything is in the lane; /anything/x goes through Flask: same echo apart from the URL.
    lane = call_wsgi(mockbin_app, Shape("lane", "PATCH", "/anything", (("Content-Type", "application/json"),), b"[1]"))
    flask = call_wsgi(mockbin_app, Shape("flask", "PATCH", "/anything/x", (("Content-Type", "application/json"),), b"[1]"))
    assert lane.headers == [(k, v if k != "Content-Length" else str(int(v) - 2)) for k, v in flask.headers]
    assert lane.body == flask.body.replace(b"/anything/x", b"/anything")


ENVIRONS = [
    {"REQUEST_METHOD": "get", "PATH_INFO": "/anything/caf\xc3\xa9", "SCRIPT_NAME": "/bin/", "QUERY_STRING": "a=1&a=2&b",
     "HTTP_HOST": "example.com:80", "REMOTE_ADDR": "10.0.0.1", "wsgi.url_scheme": "http", "HTTP_X_THING": "x",
     "SERVER_NAME": "example.com", "SERVER_PORT": "80"},
    {"REQUEST_METHOD": "POST", "PATH_INFO": "//post", "QUERY_STRING": "", "CONTENT_TYPE": "text/plain",
     "CONTENT_LENGTH": "3", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8443", "wsgi.url_scheme": "https"},
]


def test_lean_request_reads_like_werkzeugs():
    """The fast lane's request answers every question as Werkzeug's does, whichever is asked first."""
    from werkzeug.wrappers import Request

    from mockbin.fastlane import LeanRequest

    names = ["method", "scheme", "server", "root_path", "path", "query_string", "remote_addr", "url", "full_path",
             "host", "host_url", "mimetype", "content_length"]
    for environ in ENVIRONS:
        expected = Request(dict(environ), populate_request=False)
        for first in names:
            lean = LeanRequest(dict(environ))
            assert getattr(lean, first) == getattr(expected, first), first
            assert [getattr(lean, name) for name in names] == [getattr(expected, name) for name in names]
            assert lean.args == expected.args and dict(lean.headers) == dict(expected.headers)
        assert not hasattr(LeanRequest(dict(environ)), "no_such_attribute")


def test_lane_paths_are_never_admin_paths():
    """Requests for the lane's paths skip the admin guard (FastLane.ahead_of): none may be an admin path."""
    from mockbin.admin import is_admin_path
    from mockbin.fastlane import lane_table
    from mockbin.routes import route_table

    paths = {path for path, _ in lane_table(route_table())}
    assert {"/get", "/post", "/anything"} <= paths
    assert not any(is_admin_path(path) or is_admin_path("/" + path) for path in paths)
