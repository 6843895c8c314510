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
