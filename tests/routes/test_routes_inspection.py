"""/headers, /ip and /user-agent answer exactly as httpbin 0.10.4 does.

Each shape goes to both apps in-process and to both servers over sockets
(gunicorn, one sync worker each); status line, headers in order and body
must be identical modulo host:port, Date and Allow order.
"""

from __future__ import annotations


from support.compare import differential_tests
from support.differential import Shape

UA = ("User-Agent", "curl/8.5.0")

SHAPES = [
    Shape("headers-plain", "GET", "/headers"),
    Shape("headers-several", "GET", "/headers", (UA, ("Accept", "*/*"), ("X-Custom-Header123abc", "v"))),
    Shape("headers-duplicate-joined", "GET", "/headers", (("X-Dup", "a"), ("X-Dup", "b"))),
    Shape("headers-latin1-value", "GET", "/headers", (("X-Latin", b"caf\xe9"),)),
    Shape("headers-proxy-hidden", "GET", "/headers", (("X-Forwarded-For", "10.0.0.1"), ("Via", "1.1 proxy"), ("X-Request-Id", "abc"))),
    Shape("headers-proxy-show-env", "GET", "/headers?show_env=1", (("X-Forwarded-For", "10.0.0.1"), ("Via", "1.1 proxy"))),
    Shape("headers-show-env-empty", "GET", "/headers?show_env", (("X-Real-Ip", "10.0.0.2"),)),
    Shape("headers-no-host", "GET", "/headers", host=None, version="HTTP/1.0"),
    Shape("headers-head", "HEAD", "/headers", (UA,)),
    Shape("headers-options", "OPTIONS", "/headers", (("Origin", "https://app.example"), ("Access-Control-Request-Headers", "X-Token"))),
    Shape("headers-post-405", "POST", "/headers", body=b"x"),
    Shape("headers-origin-cors", "GET", "/headers", (("Origin", "null"),)),
    Shape("headers-body-content-type", "GET", "/headers", (("Content-Type", "text/plain"),), body=b"abc"),
    Shape("ip-plain", "GET", "/ip"),
    Shape("ip-forwarded", "GET", "/ip", (("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),)),
    Shape("ip-forwarded-empty", "GET", "/ip", (("X-Forwarded-For", ""),)),
    Shape("ip-head", "HEAD", "/ip"),
    Shape("ip-put-405", "PUT", "/ip"),
    Shape("ip-trailing-slash-404", "GET", "/ip/"),
    Shape("user-agent-present", "GET", "/user-agent", (UA,)),
    Shape("user-agent-absent", "GET", "/user-agent"),
    Shape("user-agent-empty", "GET", "/user-agent", (("User-Agent", ""),)),
    Shape("user-agent-unicode-escaped", "GET", "/user-agent", (("User-Agent", b"Mozilla/5.0 \xe9\"quote\""),)),
    Shape("user-agent-duplicate", "GET", "/user-agent", (("User-Agent", "a"), ("User-Agent", "b"))),
    Shape("user-agent-query-ignored", "GET", "/user-agent?show_env=1", (UA,)),
    Shape("user-agent-options", "OPTIONS", "/user-agent"),
]


test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES)
