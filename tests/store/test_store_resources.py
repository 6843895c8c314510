"""PUT stores, POST appends, GET reads, DELETE removes: over real sockets, on every backend.

Each test uses its own fresh paths (``live.unique()``), so the tests share
one server per backend without seeing each other's data.
"""

from __future__ import annotations

import email.utils
import re

import pytest

from support.stateful import is_problem

JSON = {"Content-Type": "application/json"}
ETAG = re.compile(r'"[0-9a-f]{32}"')


# -- PUT ----------------------------------------------------------------------------


def test_put_creates_then_replaces(live):
    path = live.unique() + "/42"
    created = live.put(path, data=b'{"title": "first"}', headers=JSON)
    assert created.status_code == 201
    assert created.content == b'{"title": "first"}'
    assert created.headers["Content-Type"] == "application/json"
    assert created.headers["Content-Location"] == path
    assert ETAG.fullmatch(created.headers["ETag"])
    assert email.utils.parsedate_to_datetime(created.headers["Last-Modified"])

    replaced = live.put(path, data=b'{"title": "second"}', headers=JSON)
    assert replaced.status_code == 200
    assert replaced.content == b'{"title": "second"}'
    assert replaced.headers["ETag"] != created.headers["ETag"]

    got = live.get(path)
    assert got.status_code == 200
    assert got.content == b'{"title": "second"}'
    assert got.headers["ETag"] == replaced.headers["ETag"]
    assert got.headers["Last-Modified"] == replaced.headers["Last-Modified"]


def test_put_is_idempotent(live):
    path = live.unique() + "/x"
    first = live.put(path, data=b"same", headers={"Content-Type": "text/plain"})
    second = live.put(path, data=b"same", headers={"Content-Type": "text/plain"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.headers["ETag"] == second.headers["ETag"]
    assert live.get(path).content == b"same"


def test_put_stores_bytes_and_type_verbatim(live):
    path = live.unique() + "/blob"
    body = bytes(range(256)) * 3
    assert live.put(path, data=body, headers={"Content-Type": "image/png"}).status_code == 201
    got = live.get(path)
    assert got.content == body
    assert got.headers["Content-Type"] == "image/png"

    spaced = b'{ "a" :1 ,\n "b":[ 1,2 ] }\n'
    live.put(path, data=spaced, headers={"Content-Type": "application/json; charset=utf-8"})
    got = live.get(path)
    assert got.content == spaced
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"


def test_put_without_content_type_is_octet_stream(live):
    path = live.unique() + "/raw"
    live.put(path, data=b"\x00\x01")
    assert live.get(path).headers["Content-Type"] == "application/octet-stream"


def test_put_prefer_minimal(live):
    path = live.unique() + "/m"
    created = live.put(path, data=b"a", headers={"Prefer": "return=minimal"})
    assert created.status_code == 201  # RFC 9110: creation is always 201
    assert created.content == b""
    assert created.headers["Preference-Applied"] == "return=minimal"
    assert ETAG.fullmatch(created.headers["ETag"])
    replaced = live.put(path, data=b"b", headers={"Prefer": "return=minimal"})
    assert replaced.status_code == 204
    assert replaced.content == b""
    assert replaced.headers["ETag"] == live.get(path).headers["ETag"]


def test_put_with_content_range_is_refused(live):
    path = live.unique() + "/r"
    response = live.put(path, data=b"abc", headers={"Content-Range": "bytes 0-2/10"})
    assert is_problem(response, 400, "content-range")
    assert live.get(path).status_code == 404


# -- POST ---------------------------------------------------------------------------


def test_post_appends_with_sequential_ids(live):
    collection = live.unique("articles")
    locations = []
    for title in ("a", "b", "c"):
        response = live.post(collection, json={"title": title})
        assert response.status_code == 201
        assert response.headers["Location"] == response.headers["Content-Location"]
        locations.append(response.headers["Location"])
    assert locations == [f"{collection}/1", f"{collection}/2", f"{collection}/3"]
    got = live.get(f"{collection}/2")
    assert got.json() == {"id": 2, "title": "b"}
    assert got.headers["Content-Type"] == "application/json"


def test_post_answers_with_the_stored_representation(live):
    collection = live.unique()
    created = live.post(collection, data=b'{"n": 1}', headers=JSON)
    assert created.content == b'{"id": 1, "n": 1}'
    got = live.get(created.headers["Location"])
    assert got.content == created.content
    assert got.headers["ETag"] == created.headers["ETag"]


def test_post_id_replaces_a_client_id_in_place(live):
    collection = live.unique()
    created = live.post(collection, data=b'{"name": "x", "id": "mine"}', headers=JSON)
    assert created.content == b'{"name": "x", "id": 1}'


def test_ids_are_never_reused_after_delete(live):
    collection = live.unique()
    live.post(collection, json={})
    second = live.post(collection, json={}).headers["Location"]
    assert live.delete(second).status_code == 204
    assert live.post(collection, json={}).headers["Location"] == f"{collection}/3"


def test_ids_skip_names_taken_by_put(live):
    collection = live.unique()
    live.put(f"{collection}/1", data=b"taken")
    assert live.post(collection, json={}).headers["Location"] == f"{collection}/2"
    assert live.get(f"{collection}/1").content == b"taken"


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"plain text", "text/plain"),
        (b"[1, 2]", "application/json"),
        (b'{"broken": ', "application/json"),
        (b'{"a": 1}', "text/plain"),
        (b"\xff\xfe", "application/octet-stream"),
    ],
    ids=["text", "json-array", "invalid-json", "json-as-text", "binary"],
)
def test_post_stores_other_bodies_verbatim(live, body, content_type):
    collection = live.unique()
    created = live.post(collection, data=body, headers={"Content-Type": content_type})
    assert created.status_code == 201
    got = live.get(created.headers["Location"])
    assert got.content == body
    assert got.headers["Content-Type"] == content_type


def test_post_prefer_minimal(live):
    collection = live.unique()
    response = live.post(collection, json={"a": 1}, headers={"Prefer": "return=minimal"})
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["Location"] == f"{collection}/1"
    assert response.headers["Preference-Applied"] == "return=minimal"
    assert live.get(f"{collection}/1").json() == {"id": 1, "a": 1}


def test_post_to_nested_collections(live):
    base = live.unique()
    live.put(f"{base}/7", json={"name": "parent"})
    comment = live.post(f"{base}/7/comments", json={"text": "hi"})
    assert comment.headers["Location"] == f"{base}/7/comments/1"
    assert live.get(f"{base}/7").json() == {"name": "parent"}


# -- GET / HEAD ---------------------------------------------------------------------


def test_get_missing_is_404_problem(live):
    assert is_problem(live.get(live.unique() + "/nothing"), 404, "not-found")


def test_head_matches_get_without_body(live):
    path = live.unique() + "/h"
    live.put(path, data=b"hello", headers={"Content-Type": "text/plain"})
    got, head = live.get(path), live.request("HEAD", path)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
        assert head.headers[name] == got.headers[name]


def test_collection_lists_members_in_creation_order(live):
    collection = live.unique()
    live.put(f"{collection}/z", json={"put": True})
    live.post(collection, json={"n": 1})
    live.post(collection, data=b"text", headers={"Content-Type": "text/plain"})
    live.post(collection, json={"n": 3})
    response = live.get(collection)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Total-Count"] == "4"
    assert response.json() == [
        {"put": True},
        {"id": 1, "n": 1},
        {"href": f"{collection}/2", "content_type": "text/plain", "size": 4},
        {"id": 3, "n": 3},
    ]
    assert ETAG.fullmatch(response.headers["ETag"])
    head = live.request("HEAD", collection)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["X-Total-Count"] == "4"


def test_collection_lists_direct_members_only(live):
    base = live.unique()
    live.put(f"{base}/a", json=1)
    live.put(f"{base}/a/deeper", json=2)
    assert live.get(base).json() == [1]
    assert live.get(f"{base}/a").json() == 1  # an item wins over its own children
    assert live.get(f"{base}/a/deeper").json() == 2


def test_pagination_with_page_and_per_page(live):
    collection = live.unique()
    for n in range(1, 8):
        live.post(collection, json={"n": n})
    page = live.get(collection, params={"_page": 2, "_per_page": 3})
    assert [m["n"] for m in page.json()] == [4, 5, 6]
    assert page.headers["X-Total-Count"] == "7"
    links = page.headers["Link"]
    assert f'<{collection}?_page=1&_per_page=3>; rel="first"' in links
    assert f'<{collection}?_page=1&_per_page=3>; rel="prev"' in links
    assert f'<{collection}?_page=3&_per_page=3>; rel="next"' in links
    assert f'<{collection}?_page=3&_per_page=3>; rel="last"' in links
    last = live.get(collection, params={"_page": 3, "_per_page": 3})
    assert [m["n"] for m in last.json()] == [7]
    assert 'rel="next"' not in last.headers["Link"]
    assert live.get(collection, params={"_page": 9, "_per_page": 3}).json() == []
    assert [m["n"] for m in live.get(collection, params={"_page": 1}).json()] == list(range(1, 8))


def test_pagination_with_limit_and_offset(live):
    collection = live.unique()
    for n in range(1, 6):
        live.post(collection, json={"n": n})
    page = live.get(collection, params={"offset": 1, "limit": 2})
    assert [m["n"] for m in page.json()] == [2, 3]
    assert f'<{collection}?offset=3&limit=2>; rel="next"' in page.headers["Link"]
    assert page.headers["X-Total-Count"] == "5"
    assert live.get(collection, params={"limit": 0}).json() == []


@pytest.mark.parametrize(
    "query",
    ["_page=0", "_page=x", "_per_page=0", "limit=-1", "offset=1.5", "_page=1&limit=2", "limit=100000"],
)
def test_bad_pagination_is_400(live, query):
    collection = live.unique()
    live.post(collection, json={})
    assert is_problem(live.get(f"{collection}?{query}"), 400, "bad-pagination")


def test_empty_collection_after_deletes_still_lists(live):
    collection = live.unique()
    location = live.post(collection, json={}).headers["Location"]
    live.delete(location)
    response = live.get(collection)
    assert (response.status_code, response.json(), response.headers["X-Total-Count"]) == (200, [], "0")


def test_path_with_only_a_put_child_removed_is_404(live):
    base = live.unique()
    live.put(f"{base}/only", data=b"x")
    assert live.get(base).status_code == 200
    live.delete(f"{base}/only")
    assert is_problem(live.get(base), 404, "not-found")


def test_trailing_slash_names_the_same_resource(live):
    collection = live.unique()
    created = live.post(collection + "/", json={"a": 1})
    assert created.headers["Location"] == f"{collection}/1"
    assert live.get(f"{collection}/1/").json() == {"id": 1, "a": 1}


def test_unicode_paths(live):
    path = live.unique() + "/caf\u00e9"
    assert live.put(path, data=b"x").status_code == 201
    assert live.get(path).content == b"x"
    assert live.get(live.unique()).status_code == 404


# -- DELETE ---------------------------------------------------------------------------


def test_delete_then_404(live):
    path = live.unique() + "/d"
    live.put(path, data=b"x")
    first = live.delete(path)
    assert first.status_code == 204 and first.content == b""
    assert is_problem(live.delete(path), 404, "not-found")
    assert live.get(path).status_code == 404


def test_delete_with_return_representation(live):
    path = live.unique() + "/d"
    live.put(path, data=b"gone", headers={"Content-Type": "text/plain"})
    response = live.delete(path, headers={"Prefer": "return=representation"})
    assert response.status_code == 200
    assert response.content == b"gone"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Preference-Applied"] == "return=representation"


def test_delete_of_a_collection_path_without_item_is_404(live):
    collection = live.unique()
    live.post(collection, json={})
    assert is_problem(live.delete(collection), 404, "not-found")
    assert live.get(f"{collection}/1").status_code == 200


# -- routing: httpbin keeps its routes --------------------------------------------------


def test_httpbin_routes_keep_their_behaviour(live):
    put_get = live.put("/get", data=b"x")
    assert put_get.status_code == 405
    assert sorted(m.strip() for m in put_get.headers["Allow"].split(",")) == ["GET", "HEAD", "OPTIONS"]
    assert put_get.headers["Content-Type"].startswith("text/html")
    echoed = live.put("/put", json={"a": 1})
    assert echoed.status_code == 200 and echoed.json()["json"] == {"a": 1}
    assert live.post("/post", data=b"x").json()["data"] == "x"
    assert live.patch("/patch", data=b"y").json()["data"] == "y"
    assert live.put("/anything/x", data=b"z").json()["method"] == "PUT"
    assert live.get("/get/").status_code == 404  # httpbin's 404 page, not a resource
    assert live.get("/get/").headers["Content-Type"].startswith("text/html")
    assert live.get("/__mockbin/nothing").status_code == 404


def test_options_and_cors_preflight_on_resource_paths(live):
    path = live.unique() + "/x"
    response = live.request(
        "OPTIONS",
        path,
        headers={
            "Origin": "http://app.test",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "If-Match",
        },
    )
    assert response.status_code == 200
    assert "PATCH" in response.headers["Allow"] and "PUT" in response.headers["Allow"]
    assert "application/json-patch+json" in response.headers["Accept-Patch"]
    assert response.headers["Access-Control-Allow-Origin"] == "http://app.test"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "If-Match"
    stored = live.put(path, data=b"x", headers={"Origin": "http://app.test"})
    assert stored.headers["Access-Control-Allow-Origin"] == "http://app.test"
    assert "ETag" in stored.headers["Access-Control-Expose-Headers"]


def test_other_methods_are_405_with_allow(live):
    response = live.request("TRACE", live.unique())
    assert is_problem(response, 405, "method-not-allowed")
    assert response.headers["Allow"] == "GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS"


# -- bad input: precise 4xx, nothing changed ---------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/BASE/../escape",
        "/BASE/./here",
        "/BASE/%2e%2e/escape",
        "/BASE/a%2Fb",
        "/BASE/a%2fb",
        "/BASE//double",
        "/BASE/nul%00",
        "/BASE/bad%ff",
    ],
    ids=[
        "dotdot",
        "dot",
        "encoded-dotdot",
        "encoded-slash",
        "encoded-slash-lower",
        "empty-segment",
        "nul",
        "not-utf8",
    ],
)
def test_bad_paths_are_400_and_store_nothing(live, target):
    base = live.unique()
    for method in ("PUT", "POST", "GET", "DELETE"):
        response = live.raw(
            method, target.replace("/BASE", base), body=b"x" if method in ("PUT", "POST") else None
        )
        assert response.status == 400, (method, response.status_line, response.body)
        assert response.header("Content-Type") == "application/problem+json"
        assert b"urn:mockbin:problem:bad-path" in response.body
    exported = live.export()["items"]
    assert not [path for path in exported if path.startswith(base) or "escape" in path]


def test_oversized_bodies_are_413_and_store_nothing(strict):
    path = "/store/big"
    response = strict.put(path, data=b"x" * (8 * 1024 + 1))
    assert is_problem(response, 413, "body-too-large")
    chunked = strict.put(path, data=iter([b"x" * 5000, b"y" * 5000]))  # no Content-Length: chunked
    assert is_problem(chunked, 413, "body-too-large")
    assert strict.get(path, headers={"If-Match": "*"}).status_code == 404
    assert strict.export()["items"] == {}
