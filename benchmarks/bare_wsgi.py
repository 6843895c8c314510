"""The floor: a WSGI app that answers a constant body, whatever the request (bench_serving.py).

It reads the request body (as an echo would) and returns 190 bytes of JSON, about
the size of mockbin's ``GET /get`` answer; what it costs per request is the server's.
"""

BODY = b'{\n  "args": {},\n  "headers": {\n    "Host": "127.0.0.1"\n  },\n  "origin": "127.0.0.1",\n  "url": "http://127.0.0.1/get"\n}\n' + b" " * 64
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    length = environ.get("CONTENT_LENGTH")
    if length:
        environ["wsgi.input"].read(int(length))
    start_response("200 OK", list(HEADERS))
    return [BODY]
