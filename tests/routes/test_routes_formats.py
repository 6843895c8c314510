"""Response formats (/json, /html, /xml, /encoding/utf8, /robots.txt, /deny, /gzip, /deflate, /brotli).

Each request is sent to mockbin and to the httpbin 0.10.4 oracle, in-process
and over real sockets (both under gunicorn).  Data routes must match byte
for byte; mockbin's own documents must match in status and headers and be
valid documents of their type sharing no text with httpbin's; compressed
routes must match once decoded (and, in-process, byte for byte where the
encoder is deterministic).
"""

from __future__ import annotations

import brotlicffi
import pytest

from support.compare import differential_tests
from support.differential import Shape, assert_same, call_socket, call_wsgi
from support.owncontent import assert_same_but_body, assert_same_decoded, assert_valid, header, shared_lines

PREFLIGHT = (
    ("Origin", "https://app.example"),
    ("Access-Control-Request-Method", "GET"),
    ("Access-Control-Request-Headers", "X-Token"),
)
OWN_PATHS = ("/html", "/xml", "/encoding/utf8", "/deny")
COMPRESSED_PATHS = ("/gzip", "/deflate", "/brotli")

EXACT = [
    Shape("json-get", "GET", "/json"),
    Shape("json-head", "HEAD", "/json"),
    Shape("json-query-ignored", "GET", "/json?slideshow=no&a=1"),
    Shape("json-origin", "GET", "/json", (("Origin", "null"),)),
    Shape("json-http10", "GET", "/json", version="HTTP/1.0"),
    Shape("json-post-405", "POST", "/json", body=b"{}"),
    Shape("json-trailing-slash-404", "GET", "/json/"),
    Shape("robots-get", "GET", "/robots.txt"),
    Shape("robots-head", "HEAD", "/robots.txt"),
    Shape("robots-origin", "GET", "/robots.txt", (("Origin", "https://a.example"),)),
    Shape("robots-post-405", "POST", "/robots.txt"),
    Shape("encoding-other-404", "GET", "/encoding/utf16"),
    Shape("brotli-post-405", "POST", "/brotli", body=b"x"),
    Shape("deflate-put-405", "PUT", "/deflate"),
    Shape("gzip-delete-405", "DELETE", "/gzip"),
]
EXACT += [Shape(f"options{p.replace('/', '-')}", "OPTIONS", p) for p in ("/json", "/robots.txt") + OWN_PATHS + COMPRESSED_PATHS]
EXACT += [Shape(f"preflight{p.replace('/', '-')}", "OPTIONS", p, PREFLIGHT) for p in ("/json", "/html", "/gzip")]
EXACT += [Shape(f"post-405{p.replace('/', '-')}", "POST", p) for p in OWN_PATHS]

OWN = [Shape(f"get{p.replace('/', '-')}", "GET", p) for p in OWN_PATHS]
OWN += [Shape(f"head{p.replace('/', '-')}", "HEAD", p) for p in OWN_PATHS]
OWN += [
    Shape("html-origin", "GET", "/html", (("Origin", "https://a.example"),)),
    Shape("xml-query", "GET", "/xml?format=json"),
    Shape("utf8-http10", "GET", "/encoding/utf8", version="HTTP/1.0"),
]

COMPRESSED = []
for path in COMPRESSED_PATHS:
    name = path.strip("/")
    COMPRESSED += [
        Shape(f"{name}-get", "GET", path),
        Shape(f"{name}-head", "HEAD", path),
        Shape(f"{name}-headers", "GET", path, (("User-Agent", "client/1.0"), ("X-Custom", "café"))),
        Shape(f"{name}-accept-identity", "GET", path, (("Accept-Encoding", "identity"),)),
        Shape(f"{name}-proxy-hidden", "GET", path, (("X-Forwarded-For", "10.0.0.1"), ("Via", "1.1 proxy"))),
        Shape(f"{name}-show-env", "GET", path + "?show_env=1", (("X-Forwarded-For", "10.0.0.1"), ("Via", "1.1 proxy"))),
    ]
COMPRESSED += [
    Shape("gzip-form-body", "GET", "/gzip", (("Content-Type", "application/x-www-form-urlencoded"),), b"a=1"),
    Shape("brotli-large-header", "GET", "/brotli", (("X-Big", "b" * 6000),)),
    Shape("deflate-origin", "GET", "/deflate", (("Origin", "https://a.example"),)),
]

ALL = EXACT + OWN + COMPRESSED


def test_enough_distinct_cases():
    assert len({shape.id for shape in ALL}) == len(ALL) >= 60


def check_own(oracle, mine, ports) -> None:
    assert_same_but_body(oracle, mine, ports)
    if mine.body:
        assert_valid(header(mine, "Content-Type"), mine.body)
        assert mine.body != oracle.body
        assert shared_lines(mine.body, oracle.body) == []


test_exact_in_process, test_exact_over_sockets, test_exact_over_granian = differential_tests(EXACT)


test_own_document_in_process, test_own_document_over_sockets, test_own_document_over_granian = differential_tests(OWN, check=check_own)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", COMPRESSED, ids=lambda s: s.id)
def test_compressed_in_process(shape, oracle_app, mockbin_app):
    expected, actual = call_wsgi(oracle_app, shape), call_wsgi(mockbin_app, shape)
    assert_same_decoded(expected, actual, ())
    coding = header(actual, "Content-Encoding")
    if coding == "deflate":  # the same zlib call: the very same bytes and length
        assert_same(expected, actual, ())
    elif coding == "gzip":  # the same too, but for the 4-byte timestamp
        assert header(actual, "Content-Length") == header(expected, "Content-Length")
        assert actual.body[:4] + actual.body[8:] == expected.body[:4] + expected.body[8:]


@pytest.mark.oracle
@pytest.mark.parametrize("shape", COMPRESSED, ids=lambda s: s.id)
def test_compressed_over_sockets(shape, live_pair):
    oracle, mine = live_pair
    ports = (str(oracle.port), str(mine.port))
    assert_same_decoded(call_socket(oracle.port, shape), call_socket(mine.port, shape), ports)


def test_compressed_bodies_decode_without_help(mockbin_app):
    """A client's own decoder reads each body; gzip carries a current timestamp as httpbin's does."""
    import gzip
    import time
    import zlib

    client = mockbin_app.test_client()
    gzipped = client.get("/gzip").data
    assert gzipped[:3] == b"\x1f\x8b\x08" and gzipped[9] == 255  # OS byte: unknown
    assert abs(int.from_bytes(gzipped[4:8], "little") - time.time()) < 60
    assert b'"gzipped": true' in gzip.decompress(gzipped)
    deflated = client.get("/deflate").data
    assert deflated[:2] == b"\x78\x9c" and b'"deflated": true' in zlib.decompress(deflated)
    assert b'"brotli": true' in brotlicffi.decompress(client.get("/brotli").data)


def test_head_lengths_are_those_of_the_encoded_head_answer(mockbin_app):
    """HEAD reports the encoded length of the body computed with method HEAD, as httpbin does."""
    client = mockbin_app.test_client()
    for path in COMPRESSED_PATHS:
        get, head = client.get(path), client.head(path)
        assert head.data == b""
        # "HEAD" is one character longer than "GET" in the encoded JSON.
        assert abs(int(head.headers["Content-Length"]) - len(get.data)) <= 2


def test_json_is_httpbin_slideshow(mockbin_app):
    body = mockbin_app.test_client().get("/json").get_json()
    assert body["slideshow"]["title"] == "Sample Slide Show"
    assert [s["title"] for s in body["slideshow"]["slides"]] == ["Wake up to WonderWidgets!", "Overview"]


def test_utf8_page_covers_every_encoded_length(mockbin_app):
    text = mockbin_app.test_client().get("/encoding/utf8").data.decode("utf-8")
    assert {len(ch.encode("utf-8")) for ch in text} == {1, 2, 3, 4}
    assert "\u0301" in text  # a combining mark
    assert any("\u0590" <= ch <= "\u06ff" for ch in text)  # right-to-left scripts


@pytest.mark.oracle
def test_brotli_is_stored_not_compressed(oracle_app, mockbin_app):
    """mockbin's brotli stream stores the JSON as is: a few bytes longer than it, still decodable."""
    shape = Shape("brotli", "GET", "/brotli")
    expected, actual = call_wsgi(oracle_app, shape), call_wsgi(mockbin_app, shape)
    decoded = brotlicffi.decompress(actual.body)
    assert decoded == brotlicffi.decompress(expected.body)
    assert decoded in actual.body and len(actual.body) - len(decoded) <= 8
    assert len(actual.body) > len(expected.body)


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 1 << 20, (1 << 20) + 1, (1 << 24) + 5])
def test_brotli_encoder_round_trips(size):
    """Every size boundary of the encoder (4, 5, 6 length nibbles; a second meta-block) decodes back."""
    from mockbin.routes.compression import brotli

    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    assert brotlicffi.decompress(brotli(data)) == data
