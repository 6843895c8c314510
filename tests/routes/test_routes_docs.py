"""The landing page, /forms/post and /openapi.json.

The landing page and the form are mockbin's own pages: against the oracle
they must agree in status and headers, and be valid HTML sharing no text
with httpbin's.  Beyond that, the landing page must list every route of the
route table with working links and reference nothing outside the server, and
the OpenAPI document must validate as OpenAPI 3.1 and name every rule the
app serves -- for any route table, not just today's.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from typing import List, Tuple
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate
from werkzeug.exceptions import MethodNotAllowed, NotFound

from mockbin import create_app
from mockbin.catalog import openapi_path
from mockbin.routes import route_table
from mockbin.settings import Settings
from support.compare import differential_tests
from support.differential import Shape, call_socket, call_wsgi
from support.owncontent import assert_same_but_body, assert_valid, header, shared_lines
from support.rawhttp import build_request, exchange
from support.servers import ServerProcess, free_port, mockbin_argv

OWN = [
    Shape("landing-get", "GET", "/"),
    Shape("landing-head", "HEAD", "/"),
    Shape("landing-query", "GET", "/?a=1"),
    Shape("landing-origin", "GET", "/", (("Origin", "https://a.example"),)),
    Shape("form-get", "GET", "/forms/post"),
    Shape("form-head", "HEAD", "/forms/post"),
    Shape("form-http10", "GET", "/forms/post", version="HTTP/1.0"),
]
EXACT = [
    Shape("landing-options", "OPTIONS", "/"),
    Shape("landing-preflight", "OPTIONS", "/", (("Origin", "x"), ("Access-Control-Request-Headers", "A"))),
    Shape("landing-post-405", "POST", "/", body=b"a=1"),
    Shape("form-options", "OPTIONS", "/forms/post"),
    Shape("form-post-405", "POST", "/forms/post"),
    Shape("forms-404", "GET", "/forms"),
    Shape("forms-get-404", "GET", "/forms/get"),
]

# Attributes that make a browser fetch or navigate to a URL.
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "poster", "data", "background", "xlink:href", "ping", "manifest", "cite", "longdesc"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)|@import\s+['\"]([^'\"]+)", re.IGNORECASE)


class References(HTMLParser):
    """Every URL a page makes a browser load or follow, plus the tags used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: List[str] = []
        self.links: List[str] = []
        self.tags: List[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                urls = [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
                self.urls.extend(urls)
                if tag == "a" and name == "href":
                    self.links.append(value)
            if name == "style" and value:
                self.urls.extend(a or b for a, b in CSS_URL.findall(value))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(a or b for a, b in CSS_URL.findall(data))


def references(html: bytes) -> References:
    parser = References()
    parser.feed(html.decode("utf-8"))
    parser.close()
    return parser


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//") and (url.startswith("/") or url.startswith("#"))


@pytest.fixture(scope="module")
def prefixed_app():
    return create_app(Settings(prefix="/httpbin"))


# -- against the oracle -------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("shape", OWN, ids=lambda s: s.id)
def test_own_page_in_process(shape, oracle_app, mockbin_app):
    expected, actual = call_wsgi(oracle_app, shape), call_wsgi(mockbin_app, shape)
    assert_same_but_body(expected, actual, ())
    if actual.body:
        assert_valid(header(actual, "Content-Type"), actual.body)
        assert shared_lines(actual.body, expected.body) == []


@pytest.mark.oracle
@pytest.mark.parametrize("shape", OWN, ids=lambda s: s.id)
def test_own_page_over_sockets(shape, live_pair):
    oracle, mine = live_pair
    ports = (str(oracle.port), str(mine.port))
    assert_same_but_body(call_socket(oracle.port, shape), call_socket(mine.port, shape), ports)


test_exact_in_process, test_exact_over_sockets, test_exact_over_granian = differential_tests(EXACT)


# -- the landing page ---------------------------------------------------------


@pytest.mark.parametrize("app_name", ["mockbin_app", "prefixed_app"])
def test_landing_page_references_nothing_outside_the_server(app_name, request):
    app = request.getfixturevalue(app_name)
    page = references(app.test_client().get("/httpbin/" if app_name == "prefixed_app" else "/").data)
    assert page.links, "the page has no links at all"
    outside = [url for url in page.urls if not is_local(url)]
    assert outside == []
    assert "script" not in page.tags and "iframe" not in page.tags


def test_landing_page_lists_every_route_of_the_table(mockbin_app):
    html = mockbin_app.test_client().get("/").data.decode("utf-8")
    page = references(html.encode("utf-8"))
    for route in route_table():
        escaped = route.rule.replace("<", "&lt;").replace(">", "&gt;")
        assert f">{escaped}<" in html, route.rule
        assert route.summary and escape(route.summary) in html, route.rule
        link = route.example or (None if "<" in route.rule else route.rule)
        if link:
            assert link in page.links, route.rule
    sections = [m for m in re.findall(r'<h2 id="([^"]+)"', html)]
    expected_order = list(dict.fromkeys(route.section for route in route_table()))
    assert sections[: len(expected_order)] == expected_order


@pytest.mark.parametrize("app_name, root", [("mockbin_app", ""), ("prefixed_app", "/httpbin")])
def test_every_landing_link_reaches_a_served_route(app_name, root, request):
    """Links are checked against the router, not fetched: some routes sleep or stream."""
    app = request.getfixturevalue(app_name)
    page = references(app.test_client().get(root + "/").data)
    adapter = app.url_map.bind("localhost")
    for link in page.links:
        path = urlsplit(link).path
        assert path.startswith(root + "/"), link
        try:
            adapter.match(path[len(root):], method="GET")
        except MethodNotAllowed:
            pass  # a POST-only route: it exists
        except NotFound:
            pytest.fail(f"{link} is not served")


def test_landing_page_over_a_socket_with_a_prefix():
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--prefix", "/mock", "--workers", "1", "--worker-class", "sync"), port):
        def get(path: str):
            raw = build_request("GET", path, [("Host", f"127.0.0.1:{port}")])
            return exchange("127.0.0.1", port, raw, "GET")

        landing = get("/mock/")
        assert landing.status == 200
        page = references(landing.body)
        assert page.links and all(link.startswith("/mock/") for link in page.links)
        assert "/mock/openapi.json" in page.links
        form = references(get("/mock/forms/post").body)
        assert form.urls == ["/mock/post"]
        spec = get("/mock/openapi.json")
        assert b'"url": "/mock"' in spec.body
        assert get("/").status == 404


# -- /forms/post ----------------------------------------------------------------


def test_form_posts_httpbins_field_names_to_post(mockbin_app):
    html = mockbin_app.test_client().get("/forms/post").data.decode("utf-8")
    assert re.search(r'<form action="/post" method="post"', html)
    names = set(re.findall(r'name="([^"]+)"', html))
    assert names == {"custname", "custtel", "custemail", "size", "topping", "delivery", "comments"}


# -- /openapi.json --------------------------------------------------------------


def served_rules(app) -> dict:
    """OpenAPI path -> the methods the URL map serves there, automatic ones aside."""
    served: dict = {}
    for rule in app.url_map.iter_rules():
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        served.setdefault(openapi_path(rule.rule), set()).update(methods)
    return served


def operations(spec: dict) -> dict:
    verbs = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {path: {k for k in item if k in verbs} for path, item in spec["paths"].items()}


def test_openapi_validates_and_names_every_served_route(mockbin_app):
    answer = mockbin_app.test_client().get("/openapi.json")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    spec = answer.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert operations(spec) == served_rules(mockbin_app)
    tags = {tag["name"] for tag in spec["tags"]}
    for item in spec["paths"].values():
        for verb, operation in item.items():
            if verb != "parameters":
                assert operation["summary"], operation["operationId"]
                assert set(operation["tags"]) <= tags


def test_openapi_documents_path_variables(mockbin_app):
    spec = mockbin_app.test_client().get("/openapi.json").get_json()
    (parameter,) = spec["paths"]["/anything/{path}"]["parameters"]
    assert parameter["in"] == "path" and parameter["required"] is True
    assert parameter["schema"] == {"type": "string"} and parameter["example"] == "foo/bar"
    assert spec["servers"] == [{"url": "/"}]


def test_openapi_follows_any_route_table():
    """Werkzeug converters of every kind become typed OpenAPI parameters."""
    app = create_app(Settings())

    def probe(**values):
        """A probe route for this test."""
        return {}

    app.add_url_rule("/probe/<int:n>/<path:rest>", "probe.deep", probe)
    app.add_url_rule("/probe/<name>/<any(red, blue):colour>/<float:ratio>", "probe.mixed", probe, methods=["PUT", "TRACE"])
    with app.app_context():
        from mockbin.catalog.openapi import document

        spec = document(app)
    validate(spec)
    assert operations(spec) == served_rules(app)
    deep = {p["name"]: p["schema"] for p in spec["paths"]["/probe/{n}/{rest}"]["parameters"]}
    assert deep == {"n": {"type": "integer", "minimum": 0}, "rest": {"type": "string"}}
    mixed = spec["paths"]["/probe/{name}/{colour}/{ratio}"]
    assert {p["name"]: p["schema"]["type"] for p in mixed["parameters"]} == {"name": "string", "colour": "string", "ratio": "number"}
    assert [p for p in mixed["parameters"] if p["name"] == "colour"][0]["schema"]["enum"] == ["red", "blue"]
    assert set(mixed) == {"parameters", "put", "trace"}
    assert mixed["put"]["summary"] == "A probe route for this test." and mixed["put"]["tags"] == ["probe"]


def test_openapi_over_sockets_validates(live_pair):
    _, mine = live_pair
    raw = build_request("GET", "/openapi.json", [("Host", f"127.0.0.1:{mine.port}")])
    answer = exchange("127.0.0.1", mine.port, raw, "GET")
    assert answer.status == 200
    import json

    validate(json.loads(answer.body))


# -- deviations listed in docs/compatibility.md ----------------------------------


@pytest.mark.oracle
def test_no_static_favicon(oracle_app, mockbin_app):
    shape = Shape("favicon", "GET", "/static/favicon.ico")
    assert call_wsgi(oracle_app, shape).status_line == "200 OK"
    assert call_wsgi(mockbin_app, shape).status_line == "404 NOT FOUND"
    assert "favicon" not in mockbin_app.test_client().get("/").data.decode()


@pytest.mark.oracle
@pytest.mark.parametrize("path", ["/openapi.json", "/hostname", "/version", "/dump/request"])
def test_added_routes_are_404_in_httpbin(path, oracle_app, mockbin_app):
    shape = Shape("added", "GET", path)
    assert call_wsgi(oracle_app, shape).status_line == "404 NOT FOUND"
    assert call_wsgi(mockbin_app, shape).status_line == "200 OK"
