"""The request shapes of the echo differential suite (tests/test_echo_differential.py).

Every body kind, query and header variation, proxy header, HEAD, OPTIONS and
405 that a client of /get, /post, /put, /patch, /delete or /anything may
send.  Each shape is sent to mockbin and to the httpbin 0.10.4 oracle.
"""

from __future__ import annotations

import gzip
from typing import List, Optional, Sequence, Tuple

from .differential import Shape

FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Content-Type", "application/json")
BOUNDARY = "mockbin-boundary-7MA4YWxkTrZu0gW"
MULTIPART = ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")


def multipart(parts: Sequence[Tuple[str, Optional[str], Optional[str], bytes]], boundary: str = BOUNDARY) -> bytes:
    """(field, filename or None, part Content-Type or None, content) -> a multipart body."""
    out = b""
    for name, filename, ctype, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if ctype is not None:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"k": ' * depth + b"null" + b"}" * depth


GZIPPED = gzip.compress(b'{"a": 1}', mtime=0)


def body_shapes() -> List[Shape]:
    """Every body kind, sent to POST /post."""
    bodies = [
        # (id, headers, body)
        ("none", (), None),
        ("empty-with-length", (), b""),
        ("empty-form", (FORM,), b""),
        ("form-simple", (FORM,), b"a=1&b=2"),
        ("form-repeated-unicode", (FORM,), b"a=1&a=2&name=caf%C3%A9&empty="),
        ("form-plus-space-percent", (FORM,), b"q=a+b%20c&x=%2B&bad=%ZZ&lone=%&nul=%00"),
        ("form-no-equals-empty-key", (FORM,), b"flag&=v&&k=1"),
        ("form-semicolon", (FORM,), b"a=1;b=2"),
        ("form-invalid-utf8", (FORM,), b"a=\xff\xfe&b=2"),
        ("form-raw-utf8", (FORM,), "name=Grüße".encode()),
        ("form-charset-param", (("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),), b"a=%C3%A9"),
        ("form-uppercase-type", (("Content-Type", "Application/X-WWW-Form-Urlencoded"),), b"a=1"),
        ("form-many-fields", (FORM,), "&".join(f"f{i}={i}" for i in range(200)).encode()),
        ("multipart-text-fields", (MULTIPART,), multipart([("a", None, None, b"1"), ("b", None, None, b"two")])),
        ("multipart-repeated-fields", (MULTIPART,), multipart([("f", None, None, b"v1"), ("f", None, None, b"v2"), ("f", None, None, b"v3")])),
        ("multipart-text-file", (MULTIPART,), multipart([("text", "a.txt", "text/plain", b"hello\nworld")])),
        ("multipart-binary-file-typed", (MULTIPART,), multipart([("bin", "b.bin", "image/png", b"\x89PNG\x00\xff")])),
        ("multipart-binary-file-untyped", (MULTIPART,), multipart([("bin", "b.bin", None, b"\xa5\xc6")])),
        ("multipart-binary-file-type-params", (MULTIPART,), multipart([("t", "t.txt", "text/plain; charset=utf-8", b"\xff\xfe")])),
        ("multipart-same-field-two-files", (MULTIPART,), multipart([("same", "d1.txt", "text/plain", b"first"), ("same", "d2.txt", "text/plain", b"second")])),
        ("multipart-empty-filename", (MULTIPART,), multipart([("f", "", None, b"content")])),
        ("multipart-empty-file", (MULTIPART,), multipart([("f", "e.txt", "text/plain", b"")])),
        ("multipart-utf8-file", (MULTIPART,), multipart([("f", "u.txt", "text/plain", "Grüße".encode())])),
        ("multipart-non-utf8-field", (MULTIPART,), multipart([("f", None, None, b"\xff\xfeab")])),
        ("multipart-mixed", (MULTIPART,), multipart([("field", None, None, b"v1"), ("field", None, None, b"v2"), ("text", "a.txt", "text/plain", b"hello"), ("bin", "b.bin", "application/octet-stream", b"\x00\x01\x02\xff")])),
        ("multipart-no-boundary", (("Content-Type", "multipart/form-data"),), b'{"not": "parsed as form"}'),
        ("multipart-wrong-boundary", (("Content-Type", "multipart/form-data; boundary=other"),), multipart([("a", None, None, b"1")])),
        ("multipart-quoted-boundary", (("Content-Type", f'multipart/form-data; boundary="{BOUNDARY}"'),), multipart([("a", None, None, b"1")])),
        ("json-object", (JSON,), b'{"z": 1, "a": [1.50, "\xc3\xa9"], "n": null}'),
        ("json-array", (JSON,), b"[1, 2, 3]"),
        ("json-string", (JSON,), b'"just a string"'),
        ("json-number", (JSON,), b"42"),
        ("json-true", (JSON,), b"true"),
        ("json-null", (JSON,), b"null"),
        ("json-empty-object", (JSON,), b"{}"),
        ("json-empty-containers", (JSON,), b'[{}, [], {"a": []}]'),
        ("json-invalid-truncated", (JSON,), b'{"a": 1,'),
        ("json-invalid-trailing-comma", (JSON,), b"[1, 2,]"),
        ("json-invalid-single-quotes", (JSON,), b"{'a': 1}"),
        ("json-invalid-raw-tab", (JSON,), b'"a\tb"'),
        ("json-nested-64", (JSON,), nested(64)),
        ("json-nested-objects-100", (JSON,), nested_objects(100)),
        ("json-unicode", (JSON,), '{"é": "ü", "emoji": "😀", "cjk": "漢字", "ctl": "\\u0001\\u007f\\u2028"}'.encode()),
        ("json-escapes", (JSON,), b'{"s": "quote\\" backslash\\\\ slash\\/ \\b\\f\\n\\r\\t"}'),
        ("json-lone-surrogate", (JSON,), b'["\\ud800", "\\udfff"]'),
        ("json-big-numbers", (JSON,), b"[123456789012345678901234567890, -98765432109876543210, 1e400, -1e400, 2.50, 1e3, 1E16, 1e-7, -0, -0.0, 0.1]"),
        ("json-nan-infinity", (JSON,), b"[NaN, Infinity, -Infinity]"),
        ("json-duplicate-keys", (JSON,), b'{"a": 1, "a": 2}'),
        ("json-key-order", (JSON,), b'{"b": 1, "a": 2, "B": 3, "10": 4, "9": 5, "": 6, "a1": 7}'),
        ("json-bom", (JSON,), b'\xef\xbb\xbf{"a": 1}'),
        ("json-whitespace-only", (JSON,), b"  \n\t "),
        ("json-surrounding-whitespace", (JSON,), b'  {"a": 1}\n'),
        ("json-as-text-plain", (("Content-Type", "text/plain"),), b"[1, 2]"),
        ("json-without-content-type", (), b'{"a": {"b": [true, false, null]}}'),
        ("json-with-charset", (("Content-Type", "application/json; charset=utf-8"),), b'{"a": "\xc3\xa9"}'),
        ("text-plain", (("Content-Type", "text/plain"),), b"hello world"),
        ("text-control-chars", (("Content-Type", "text/plain"),), b"nul\x00del\x7fbell\x07"),
        ("text-multiline", (("Content-Type", "text/plain"),), b"line1\nline2\r\nline3"),
        ("non-utf8-bytes", (("Content-Type", "application/octet-stream"),), b"\x01\x02\x03\x81\x82\x83"),
        ("non-utf8-as-png", (("Content-Type", "image/png"),), b"\xff\xfe"),
        ("latin1-text", (("Content-Type", "text/plain; charset=latin-1"),), b"caf\xe9"),
        ("gzip-encoded", (JSON, ("Content-Encoding", "gzip")), GZIPPED),
        ("large-text-100k", (("Content-Type", "text/plain"),), b"0123456789" * 10_000),
        ("large-binary-64k", (("Content-Type", "application/octet-stream"),), bytes(range(256)) * 256),
    ]
    return [Shape(f"post-{name}", "POST", "/post", tuple(headers), body) for name, headers, body in bodies]


def chunked_shapes() -> List[Shape]:
    """Chunked request bodies: gunicorn de-chunks them for both servers."""
    return [
        Shape("chunked-json", "POST", "/post", (JSON,), chunks=(b'{"chunked"', b": true}"), socket_only=True),
        Shape("chunked-form", "POST", "/post", (FORM,), chunks=(b"a=1&", b"a=2&b=%C3%A9"), socket_only=True),
        Shape("chunked-multipart", "POST", "/post", (MULTIPART,), chunks=(multipart([("f", "a.txt", "text/plain", b"chunked file")]),), socket_only=True),
        Shape("chunked-binary", "PUT", "/put", (("Content-Type", "application/octet-stream"),), chunks=(b"\x00\xff", b"\xfe"), socket_only=True),
        Shape("chunked-empty", "POST", "/post", (JSON,), chunks=(), socket_only=True),
        Shape("chunked-many-small", "PATCH", "/patch", (("Content-Type", "text/plain"),), chunks=tuple(b"%d," % i for i in range(100)), socket_only=True),
        Shape("chunked-anything", "POST", "/anything/up", (JSON,), chunks=(b"[1,", b"2]"), socket_only=True),
    ]


def undechunked_shapes() -> List[Shape]:
    """A chunked request under a WSGI server that does not de-chunk: httpbin's 501, on any route."""
    te = ("Transfer-Encoding", "chunked")
    return [
        Shape(f"undechunked-{method.lower()}{path.replace('/', '-')}", method, path, (te,), body, auto_length=False, in_process_only=True)
        for method, path, body in (("POST", "/post", b"abc"), ("GET", "/get", None), ("OPTIONS", "/put", None), ("GET", "/nope", None), ("PUT", "/anything/x", b"1"))
    ] + [Shape("undechunked-case-insensitive", "POST", "/post", (("Transfer-Encoding", "Chunked"),), b"x", auto_length=False, in_process_only=True)]


def method_shapes() -> List[Shape]:
    """Each echo endpoint with its methods, bodies on every body method, HEAD, OPTIONS, 405."""
    shapes = [
        Shape("get-plain", "GET", "/get"),
        Shape("get-with-body-ignored", "GET", "/get", (JSON,), b'{"ignored": true}'),
        Shape("put-json", "PUT", "/put", (JSON,), b'{"put": [1, 2]}'),
        Shape("put-form", "PUT", "/put", (FORM,), b"a=1&a=2"),
        Shape("put-text-json", "PUT", "/put", (("Content-Type", "text/plain"),), b"[1, 2]"),
        Shape("put-empty", "PUT", "/put"),
        Shape("patch-json", "PATCH", "/patch", (JSON,), b'{"op": "x"}'),
        Shape("patch-multipart", "PATCH", "/patch", (MULTIPART,), multipart([("a", None, None, b"1"), ("f", "f.txt", None, b"file")])),
        Shape("delete-plain", "DELETE", "/delete"),
        Shape("delete-form", "DELETE", "/delete", (FORM,), b"a=1"),
        Shape("delete-json", "DELETE", "/delete", (JSON,), b"[null]"),
        Shape("anything-get", "GET", "/anything"),
        Shape("anything-post-json", "POST", "/anything", (JSON,), b'{"a": 1}'),
        Shape("anything-put-form", "PUT", "/anything", (FORM,), b"x=1"),
        Shape("anything-patch", "PATCH", "/anything/p", (("Content-Type", "text/plain"),), b"patch"),
        Shape("anything-delete", "DELETE", "/anything/d"),
        Shape("anything-trace", "TRACE", "/anything/foo/bar?x=1"),
        Shape("anything-get-get-with-form", "GET", "/anything", (FORM,), b"a=1"),
        Shape("anything-deep-path", "GET", "/anything/a/b/c/d/e/f"),
        Shape("anything-path-trailing-slash", "GET", "/anything/a/"),
        Shape("anything-path-dots", "GET", "/anything/a/../b/./c"),
        Shape("anything-path-encoded-dots", "GET", "/anything/%2e%2e/x"),
        Shape("anything-path-space", "GET", "/anything/foo%20bar"),
        Shape("anything-path-unicode", "GET", "/anything/%C3%A9t%C3%A9"),
        Shape("anything-path-encoded-slash", "GET", "/anything/a%2Fb"),
        Shape("anything-path-encoded-question", "GET", "/anything/a%3Fb"),
        Shape("anything-path-encoded-hash", "GET", "/anything/a%23b"),
        Shape("anything-path-mixed", "GET", "/anything/foo%20bar/%C3%A9/a%2Fb;p?x=1"),
        Shape("anything-path-plus-semicolon", "GET", "/anything/a+b;c=d"),
        Shape("anything-path-percent", "GET", "/anything/100%25"),
        Shape("anything-double-slash-redirect", "GET", "/anything//x"),
        Shape("anything-trailing-slash-404", "GET", "/anything/"),
        Shape("get-trailing-slash-404", "GET", "/get/"),
        Shape("unknown-path-404", "GET", "/does-not-exist"),
        Shape("unknown-path-404-post", "POST", "/nope", (JSON,), b"{}"),
        Shape("head-get", "HEAD", "/get"),
        Shape("head-get-query", "HEAD", "/get?a=1&b=2"),
        Shape("head-anything", "HEAD", "/anything/x?y=1"),
        Shape("head-post-405", "HEAD", "/post"),
        Shape("options-get", "OPTIONS", "/get"),
        Shape("options-post", "OPTIONS", "/post"),
        Shape("options-anything", "OPTIONS", "/anything/x"),
        Shape("options-preflight", "OPTIONS", "/put", (("Origin", "https://app.example"), ("Access-Control-Request-Method", "PUT"), ("Access-Control-Request-Headers", "X-Token, Content-Type"))),
        Shape("options-preflight-empty-request-headers", "OPTIONS", "/post", (("Origin", "null"), ("Access-Control-Request-Headers", ""))),
        Shape("options-404", "OPTIONS", "/nope"),
        Shape("options-star", "OPTIONS", "*"),
        Shape("method-405-get-on-post", "GET", "/post"),
        Shape("method-405-post-on-get", "POST", "/get", (FORM,), b"x=1"),
        Shape("method-405-put-on-post", "PUT", "/post"),
        Shape("method-405-delete-on-patch", "DELETE", "/patch"),
        Shape("method-405-trace-on-get", "TRACE", "/get"),
        Shape("method-405-unknown", "FOO", "/get"),
        Shape("method-405-propfind-anything", "PROPFIND", "/anything"),
        Shape("http10-get", "GET", "/get", version="HTTP/1.0"),
        Shape("http10-no-host", "GET", "/get", version="HTTP/1.0", host=None),
        Shape("http11-no-host", "GET", "/anything", host=None),
    ]
    return shapes


def query_shapes() -> List[Shape]:
    queries = [
        ("repeated-unicode", "b=2&a=1&a=3&e=%C3%A9"),
        ("flag-and-empty", "flag&empty=&=v"),
        ("semicolon-not-separator", "a=1;b=2"),
        ("plus-and-space", "sp=a%20b+c&plus=%2B"),
        ("invalid-percent", "x=%FF%FE&y=%&z=%zz"),
        ("nul", "n=%00"),
        ("reserved-chars", "x=%3C%3E%22%7B%7D%7C%5C%5E%60%27!$()*,;:@/?a=%41%7E%25%26%3D%23%2F%3F"),
        ("raw-unsafe-chars", 'x=<>"{}|\\^`'),
        ("lowercase-hex", "a=%3d%2b&b=%c3%a9"),
        ("unicode-values", "q=%C3%A9t%C3%A9&x=%E2%82%AC"),
        ("empty-query", ""),
        ("many-keys", "&".join(f"k{i}=v{i}" for i in range(50))),
        ("same-key-many", "&".join("k=%d" % i for i in range(20))),
        ("case-sensitive-keys", "a=1&A=2"),
        ("double-ampersand", "a=1&&b=2&"),
        ("equals-in-value", "a=b=c"),
        ("show-env", "show_env=1"),
        ("show-env-no-value", "show_env"),
    ]
    shapes = [Shape(f"query-get-{name}", "GET", f"/get?{query}") for name, query in queries]
    shapes += [
        Shape("query-post-with-form", "POST", "/post?q=x&q=y", (FORM,), b"a=1"),
        Shape("query-anything", "DELETE", "/anything/q?x=1&x=2&y=%C3%A9"),
    ]
    return shapes


def header_shapes() -> List[Shape]:
    variants = [
        ("custom-digits", (("x-custom-header123abc", "v"),)),
        ("digit-words", (("x-3d-thing", "v"), ("dnt", "1"), ("te", "trailers"))),
        ("uppercase-name", (("COOKIE", "a=1"),)),
        ("duplicates-joined", (("X-Dup", "one"), ("X-Dup", "two"), ("X-Dup", "three"))),
        ("latin1-value", (("X-Latin", b"caf\xe9"),)),
        ("utf8-value", (("X-Utf8", "café".encode()),)),
        ("empty-value", (("X-Empty", ""),)),
        ("spaces-trimmed", (("X-Spaces", "  padded  "),)),
        ("underscore-dropped", (("X_Under_Score", "hidden"), ("X-Visible", "yes"))),
        ("origin", (("Origin", "https://app.example"),)),
        ("origin-null", (("Origin", "null"),)),
        ("user-agent-accept", (("User-Agent", "demo/1.0"), ("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate"))),
        ("connection-close", (("Connection", "close"),)),
        ("connection-keep-alive", (("Connection", "keep-alive"),)),
        ("authorization", (("Authorization", "Bearer abc.def"),)),
        ("many-headers", tuple((f"X-H{i}", str(i)) for i in range(40))),
        ("content-type-on-get", (("Content-Type", "application/json"),)),
        ("content-length-zero-get", (("Content-Length", "0"),)),
        ("www-authenticate-casing", (("www-authenticate", "x"), ("x-real-ip-like", "y"))),
        ("long-value", (("X-Long", "v" * 4000),)),
    ]
    return [Shape(f"header-{name}", "GET", "/get", headers) for name, headers in variants]


def proxy_shapes() -> List[Shape]:
    variants = [
        ("xff", (("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),), ""),
        ("xff-empty", (("X-Forwarded-For", ""),), ""),
        ("xff-garbage", (("X-Forwarded-For", "not an ip"),), ""),
        ("xff-duplicate-lines", (("X-Forwarded-For", "1.1.1.1, 2.2.2.2"), ("X-Forwarded-For", "3.3.3.3")), ""),
        ("xfp-https", (("X-Forwarded-Proto", "https"),), ""),
        ("xfp-foo", (("X-Forwarded-Proto", "foo"),), ""),
        ("xfprotocol-ssl", (("X-Forwarded-Protocol", "ssl"),), ""),
        ("xfssl-on", (("X-Forwarded-Ssl", "on"),), ""),
        ("xfssl-upper-on", (("X-Forwarded-Ssl", "ON"),), ""),
        ("xfhost-ignored", (("X-Forwarded-Host", "other.example"),), ""),
        ("xfport", (("X-Forwarded-Port", "8443"),), ""),
        ("via-real-ip", (("Via", "1.1 proxy"), ("X-Real-Ip", "198.51.100.2"), ("X-Request-Id", "abc")), ""),
        ("heroku-headers", (("X-Request-Start", "t=1"), ("X-Heroku-Queue-Depth", "0"), ("Connect-Time", "1"), ("Total-Route-Time", "2"), ("X-Varnish", "1")), ""),
        ("all-shown-with-show-env", (("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"), ("Via", "1.1 p"), ("X-Real-Ip", "1.2.3.4")), "?show_env=1"),
        ("forwarded-rfc7239-ignored", (("Forwarded", "for=192.0.2.60;proto=https"),), ""),
    ]
    shapes = [Shape(f"proxy-get-{name}", "GET", f"/get{query}", headers) for name, headers, query in variants]
    shapes += [
        Shape("proxy-post-xff-xfp", "POST", "/post", (("X-Forwarded-For", "192.0.2.1"), ("X-Forwarded-Proto", "https"), JSON), b"{}"),
        Shape("proxy-anything-xfp-and-host-80", "GET", "/anything", (("X-Forwarded-Proto", "https"),), host="h.example:80"),
    ]
    return shapes


def host_shapes() -> List[Shape]:
    hosts = [
        ("mixed-case-port-80", "Example.COM:80"),
        ("port-443-on-http", "example.com:443"),
        ("punycode", "xn--n3h.net"),
        ("ipv6", "[::1]:8000"),
        ("bad-port", "example.com:abc"),
        ("space", "a b"),
        ("empty", ""),
        ("plain-name", "mockbin.test"),
    ]
    return [Shape(f"host-{name}", "GET", "/get?x=1", host=value) for name, value in hosts]


def large_body_shapes() -> List[Shape]:
    """Bodies and files past echo.LARGE (64 KiB), which mockbin echoes while sending (LargeText,
    EncodedLater): every kind of text and bytes, base64 quanta and UTF-8 sequences cut at the
    piece boundary (768 KiB), through the fast lane (/post) and Flask (/anything, /delay)."""
    text = ("Grüße, café 😀 日本 \"quoted\" \\ \t tab\n" * 6000).encode()
    binary = bytes((i * 7919 + 13) % 256 for i in range(150_000))
    step = 3 * 256 * 1024
    bodies = [
        ("text-mixed", "text/plain", text),
        ("text-cut-at-piece", "text/plain", b"a" * (step - 1) + "é".encode() + b"z" * 10),
        ("binary", "application/octet-stream", binary),
        ("binary-plus-one", "application/octet-stream", binary + b"\x01"),
        ("binary-plus-two", "image/png", binary + b"\x01\x02"),
        ("utf8-broken-at-end", "text/plain", b"x" * 100_000 + b"\xe2\x82"),
        ("json-array", "application/json", b"[" + b"1.5, -2, true, null, " * 20_000 + b'"end"]'),
        ("json-object", "application/json", b"{" + b", ".join(b'"k%d": [%d, {"v": "s%d"}]' % (i, i, i) for i in range(5_000)) + b"}"),
        ("json-long-string", "application/json", b'"' + b"\\u00e9 " * 40_000 + b'"'),
        ("json-like-text", "application/json", b"[INFO] " + b"a, b: c, " * 20_000),
    ]
    shapes = []
    for name, media, body in bodies:
        for method, path in (("POST", "/post"), ("PUT", "/anything/large")):
            slug = f"large-{name}-{method.lower()}{path.replace('/', '-')}"
            shapes.append(Shape(slug, method, path, (("Content-Type", media),), body))
    files = multipart([("text", "t.txt", "text/plain", text), ("bin", "b.bin", None, binary), ("small", None, None, b"v")])
    shapes += [
        Shape("large-multipart-post", "POST", "/post", (MULTIPART,), files),
        Shape("large-multipart-anything", "POST", "/anything", (MULTIPART,), files),
        Shape("large-text-delay", "POST", "/delay/0", (("Content-Type", "text/plain"),), text),
        Shape("large-chunked-text", "POST", "/post", (("Content-Type", "text/plain"),), chunks=(text[:70_000], text[70_000:]), socket_only=True),
        Shape("large-chunked-json", "PATCH", "/patch", (JSON,), chunks=(b"[" + b"0, " * 40_000, b"1]"), socket_only=True),
    ]
    return shapes


def all_shapes() -> List[Shape]:
    shapes = body_shapes() + large_body_shapes() + chunked_shapes() + undechunked_shapes() + method_shapes() + query_shapes() + header_shapes() + proxy_shapes() + host_shapes()
    # The same bodies through the other body methods and /anything.
    for shape in body_shapes()[::3]:
        for method, path in (("PUT", "/put"), ("PATCH", "/patch"), ("DELETE", "/delete"), ("POST", "/anything/body")):
            shapes.append(Shape(shape.id.replace("post-", f"{method.lower()}{path.replace('/', '-')}-", 1), method, path, shape.headers, shape.body))
    ids = [shape.id for shape in shapes]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates
    return shapes
