"""The strict server: limits (507), page size, --store-prefix under --prefix, no id injection."""

from __future__ import annotations

import uuid

from support.stateful import is_problem


def key() -> dict:
    return {"Idempotency-Key": f'"{uuid.uuid4()}"'}  # the strict server requires one on POST


def test_item_limit_is_507_and_keeps_everything(strict):
    for n in range(6):
        assert strict.put(f"/store/items/{n}", data=b"x").status_code == 201
    before = strict.export()
    full_put = strict.put("/store/items/6", data=b"x")
    assert is_problem(full_put, 507, "store-full")
    assert "--store-max-items" in full_put.json()["detail"]
    assert is_problem(strict.post("/store/items", data=b"x", headers=key()), 507, "store-full")
    assert strict.export() == before
    etag = strict.get("/store/items/0").headers["ETag"]
    assert strict.put("/store/items/0", data=b"replaced", headers={"If-Match": etag}).status_code == 200
    strict.delete("/store/items/1", headers={"If-Match": strict.get("/store/items/1").headers["ETag"]})
    assert strict.put("/store/items/6", data=b"x").status_code == 201


def test_byte_limit_is_507_and_keeps_everything(strict):
    assert strict.put("/store/a", data=b"a" * 3000).status_code == 201
    too_much = strict.put("/store/b", data=b"b" * 2000)
    assert is_problem(too_much, 507, "store-full")
    assert "--store-max-bytes" in too_much.json()["detail"]
    assert strict.get("/store/b").status_code == 404
    etag = strict.get("/store/a").headers["ETag"]
    assert is_problem(strict.put("/store/a", data=b"c" * 5000, headers={"If-Match": etag}), 507, "store-full")
    assert strict.get("/store/a").content == b"a" * 3000
    # Replacing with something smaller frees room.
    assert strict.put("/store/a", data=b"small", headers={"If-Match": etag}).status_code == 200
    assert strict.put("/store/b", data=b"b" * 2000).status_code == 201


def test_patch_past_the_byte_limit_is_507(strict):
    strict.put("/store/doc", json={"a": "x"}, headers={"Content-Type": "application/json"})
    strict.put("/store/filler", data=b"f" * 4000)
    etag = strict.get("/store/doc").headers["ETag"]
    response = strict.patch(
        "/store/doc",
        data=b'{"b": "' + b"y" * 200 + b'"}',
        headers={"Content-Type": "application/merge-patch+json", "If-Match": etag},
    )
    assert is_problem(response, 507, "store-full")
    assert strict.get("/store/doc").json() == {"a": "x"}


def test_default_page_is_the_page_limit(strict):
    for n in range(5):
        strict.post("/store/list", json={"n": n}, headers=key())
    response = strict.get("/store/list")
    assert [m["n"] for m in response.json()] == [0, 1, 2]
    assert response.headers["X-Total-Count"] == "5"
    assert '</mock/store/list?offset=3&limit=3>; rel="next"' in response.headers["Link"]
    assert is_problem(strict.get("/store/list?limit=4"), 400, "bad-pagination")
    assert is_problem(strict.get("/store/list?_per_page=4"), 400, "bad-pagination")


def test_store_prefix_under_a_mount_prefix(strict):
    created = strict.post("/store/articles", json={"a": 1}, headers=key())
    assert created.headers["Location"] == "/mock/store/articles/1"
    assert strict.get("/store/articles/1").status_code == 200
    outside = strict.put("/elsewhere/1", data=b"x")
    assert outside.status_code == 404 and outside.headers["Content-Type"].startswith("text/html")
    assert strict.get("/get").json()["url"].endswith("/mock/get")


def test_store_prefix_path_itself_is_a_collection(strict):
    created = strict.post("/store", data=b"x", headers=key())
    assert created.headers["Location"] == "/mock/store/1"


def test_id_injection_off_stores_json_verbatim(strict):
    created = strict.post(
        "/store/raw", data=b'{"a": 1}', headers={**key(), "Content-Type": "application/json"}
    )
    assert created.content == b'{"a": 1}'
    assert strict.get("/store/raw/1").content == b'{"a": 1}'


def test_seed_past_the_limits_is_507_and_changes_nothing(strict):
    strict.put("/store/keep", data=b"x")
    before = strict.export()
    seed = {"items": {f"/store/{n}": {"content_type": "text/plain", "body": "x"} for n in range(7)}}
    assert is_problem(strict.put("/__mockbin/store", json=seed), 507, "store-full")
    assert strict.export() == before
