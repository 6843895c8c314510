"""PATCH: RFC 7396 merge patch, RFC 6902 JSON Patch, and RFC 5789's error statuses."""

from __future__ import annotations

import json

import pytest

from support.stateful import is_problem

MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
ACCEPT_PATCH = "application/merge-patch+json, application/json-patch+json, application/json"


def stored(live, document):
    path = live.unique() + "/doc"
    assert live.put(path, json=document).status_code == 201
    return path


def unchanged(live, path, before):
    got = live.get(path)
    assert got.headers["ETag"] == before.headers["ETag"]
    assert got.content == before.content
    return True


def test_merge_patch(live):
    path = stored(live, {"title": "a", "author": {"name": "x", "email": "e"}, "tags": [1, 2], "drop": 1})
    patch = {"title": "b", "author": {"email": None, "url": "u"}, "tags": [3], "drop": None}
    response = live.patch(path, data=json.dumps(patch), headers=MERGE)
    assert response.status_code == 200
    expected = {"title": "b", "author": {"name": "x", "url": "u"}, "tags": [3]}
    assert response.json() == expected
    assert response.headers["Content-Location"] == path
    got = live.get(path)
    assert got.json() == expected
    assert got.headers["ETag"] == response.headers["ETag"]
    assert got.headers["Content-Type"] == "application/json"


def test_merge_patch_with_a_non_object_replaces_the_document(live):
    path = stored(live, {"a": 1})
    assert live.patch(path, data=b"[1, 2]", headers=MERGE).json() == [1, 2]


def test_plain_json_is_a_merge_patch(live):
    path = stored(live, {"a": 1, "b": 2})
    response = live.patch(path, data=b'{"b": null, "c": 3}', headers={"Content-Type": "application/json"})
    assert response.json() == {"a": 1, "c": 3}


def test_json_patch_operations(live):
    path = stored(live, {"a": 1, "list": [1, 2], "nested": {"x": 1}})
    ops = [
        {"op": "test", "path": "/a", "value": 1},
        {"op": "add", "path": "/list/-", "value": 3},
        {"op": "replace", "path": "/a", "value": 10},
        {"op": "copy", "from": "/nested", "path": "/copied"},
        {"op": "move", "from": "/nested/x", "path": "/moved"},
        {"op": "remove", "path": "/list/0"},
    ]
    response = live.patch(path, data=json.dumps(ops), headers=JSON_PATCH)
    assert response.status_code == 200
    assert response.json() == {"a": 10, "list": [2, 3], "nested": {}, "copied": {"x": 1}, "moved": 1}
    assert live.get(path).json() == response.json()


def test_patch_prefer_minimal(live):
    path = stored(live, {"a": 1})
    response = live.patch(path, data=b'{"a": 2}', headers={**MERGE, "Prefer": "return=minimal"})
    assert response.status_code == 204
    assert response.headers["ETag"] == live.get(path).headers["ETag"]


def test_failed_test_operation_is_409_and_atomic(live):
    path = stored(live, {"a": 1})
    before = live.get(path)
    ops = [{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 99}]
    assert is_problem(live.patch(path, data=json.dumps(ops), headers=JSON_PATCH), 409, "patch-conflict")
    assert unchanged(live, path, before)


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/missing", "value": 1}],
        [{"op": "add", "path": "/no/such/parent", "value": 1}],
        [{"op": "move", "from": "/missing", "path": "/b"}],
        [{"op": "add", "path": "/a/child", "value": 1}],
    ],
    ids=["remove-missing", "replace-missing", "add-under-missing", "move-missing", "add-under-scalar"],
)
def test_patch_that_does_not_apply_is_409(live, ops):
    path = stored(live, {"a": 1})
    before = live.get(path)
    assert is_problem(live.patch(path, data=json.dumps(ops), headers=JSON_PATCH), 409, "patch-conflict")
    assert unchanged(live, path, before)


@pytest.mark.parametrize(
    "headers, body",
    [
        (MERGE, b'{"a": '),
        (JSON_PATCH, b"[{"),
        ({"Content-Type": "application/json"}, b"not json"),
        (MERGE, b'{"a": NaN}'),
        (MERGE, b"\xff\xfe"),
        (JSON_PATCH, b'{"op": "add"}'),
        (JSON_PATCH, b'[{"op": "frobnicate", "path": "/a"}]'),
        (JSON_PATCH, b'[{"op": "add", "path": "/a"}]'),
        (JSON_PATCH, b'[{"op": "add", "value": 1}]'),
        (JSON_PATCH, b'[{"op": "add", "path": "a", "value": 1}]'),
        (JSON_PATCH, b'[{"op": "move", "path": "/a"}]'),
        (JSON_PATCH, b"[1]"),
    ],
    ids=[
        "merge-invalid-json",
        "json-patch-invalid-json",
        "plain-json-invalid",
        "nan",
        "not-utf8",
        "not-an-array",
        "unknown-op",
        "add-without-value",
        "without-path",
        "pointer-without-slash",
        "move-without-from",
        "operation-not-object",
    ],
)
def test_malformed_patch_is_400(live, headers, body):
    path = stored(live, {"a": 1})
    before = live.get(path)
    assert is_problem(live.patch(path, data=body, headers=headers), 400, "malformed-patch")
    assert unchanged(live, path, before)


def test_removing_the_whole_document_is_422(live):
    path = stored(live, {"a": 1})
    before = live.get(path)
    ops = [{"op": "remove", "path": ""}]
    assert is_problem(live.patch(path, data=json.dumps(ops), headers=JSON_PATCH), 422, "patch-result-invalid")
    assert unchanged(live, path, before)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_unsupported_patch_media_type_is_415(live, content_type):
    path = stored(live, {"a": 1})
    before = live.get(path)
    headers = {"Content-Type": content_type} if content_type else {}
    response = live.patch(path, data=b'{"a": 2}', headers=headers)
    assert is_problem(response, 415, "unsupported-patch-format")
    assert response.headers["Accept-Patch"] == ACCEPT_PATCH
    assert unchanged(live, path, before)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"plain", "text/plain"),
        (b"\x89PNG", "image/png"),
        (b'{"a": 1}', "text/plain"),
        (b'{"broken', "application/json"),
    ],
    ids=["text", "binary", "json-bytes-text-type", "invalid-json-bytes"],
)
def test_patch_on_a_non_json_item_is_415(live, body, content_type):
    path = live.unique() + "/item"
    live.put(path, data=body, headers={"Content-Type": content_type})
    before = live.get(path)
    response = live.patch(path, data=b'{"a": 2}', headers=MERGE)
    assert is_problem(response, 415, "not-json")
    assert response.headers["Accept-Patch"] == ACCEPT_PATCH
    assert unchanged(live, path, before)


def test_patch_missing_item_is_404(live):
    path = live.unique() + "/missing"
    assert is_problem(live.patch(path, data=b'{"a": 1}', headers=MERGE), 404, "not-found")
    assert live.get(path).status_code == 404


def test_patch_keeps_the_item_content_type(live):
    path = live.unique() + "/typed"
    live.put(path, data=b'{"a": 1}', headers={"Content-Type": "application/vnd.api+json"})
    response = live.patch(path, data=b'{"b": 2}', headers=MERGE)
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert live.get(path).json() == {"a": 1, "b": 2}
