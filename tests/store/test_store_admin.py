"""The admin store API: export, seed, clear, reset, health (the pytest plugin's contract)."""

from __future__ import annotations

import base64

import pytest

from support.stateful import is_problem


def test_export_format(live):
    live.delete("/__mockbin/store")
    live.post("/ex/articles", json={"title": "a"})
    live.put("/ex/logo", data=b"\x89PNG\x00", headers={"Content-Type": "image/png"})
    live.put("/ex/text", data=b"hello", headers={"Content-Type": "text/plain"})
    response = live.get("/__mockbin/store")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "items": {
            "/ex/articles/1": {"content_type": "application/json", "body": {"id": 1, "title": "a"}},
            "/ex/logo": {
                "content_type": "image/png",
                "body_base64": base64.b64encode(b"\x89PNG\x00").decode(),
            },
            "/ex/text": {"content_type": "text/plain", "body_base64": base64.b64encode(b"hello").decode()},
        },
        "counters": {"/ex/articles": 1},
    }


def test_seed_replaces_everything(live):
    live.put("/old/item", data=b"old")
    seed = {
        "items": {
            "/seeded/articles/1": {"content_type": "application/json", "body": {"id": 1, "title": "t"}},
            "/seeded/bin": {
                "content_type": "application/octet-stream",
                "body_base64": base64.b64encode(b"\x00\xff").decode(),
            },
        },
        "counters": {"/seeded/articles": 5},
    }
    assert live.put("/__mockbin/store", json=seed).status_code == 204
    assert live.get("/old/item").status_code == 404
    assert live.get("/seeded/articles/1").json() == {"id": 1, "title": "t"}
    assert live.get("/seeded/bin").content == b"\x00\xff"
    assert live.get("/seeded/articles").json() == [{"id": 1, "title": "t"}]
    assert live.post("/seeded/articles", json={}).headers["Location"] == "/seeded/articles/6"
    exported = live.export()
    assert exported["counters"] == {"/seeded/articles": 6}
    assert exported["items"]["/seeded/bin"] == seed["items"]["/seeded/bin"]


def test_export_then_seed_round_trips(live):
    live.put("/rt/a", json={"x": [1, 2]})
    live.post("/rt/list", data=b"text", headers={"Content-Type": "text/plain"})
    document = live.export()
    live.delete("/__mockbin/store")
    assert live.put("/__mockbin/store", json=document).status_code == 204
    assert live.export() == document


def test_export_lists_items_in_creation_order_and_seeding_keeps_it(live):
    live.delete("/__mockbin/store")
    for _ in range(12):
        live.post("/order/list", json={})
    live.put("/order/list/a", data=b"put last")
    exported = live.get("/__mockbin/store").text
    assert list(live.export()["items"]) == [f"/order/list/{n}" for n in range(1, 13)] + ["/order/list/a"]
    live.delete("/__mockbin/store")
    assert live.put("/__mockbin/store", data=exported, headers={"Content-Type": "application/json"}).status_code == 204
    members = live.get("/order/list").json()
    assert [m["id"] for m in members[:12]] == list(range(1, 13))
    assert members[12]["href"] == "/order/list/a"


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[]",
        b'{"items": [], "counters": {}}',
        b'{"items": {}, "extra": 1}',
        b'{"items": {"relative": {"content_type": "text/plain", "body": 1}}}',
        b'{"items": {"/a/../b": {"content_type": "text/plain", "body": 1}}}',
        b'{"items": {"/get": {"content_type": "text/plain", "body": 1}}}',
        b'{"items": {"/__mockbin/x": {"content_type": "text/plain", "body": 1}}}',
        b'{"items": {"/a/": {"content_type": "text/plain", "body": 1}}}',
        b'{"items": {"/a": {"body": 1}}}',
        b'{"items": {"/a": {"content_type": "text/plain"}}}',
        b'{"items": {"/a": {"content_type": "text/plain", "body": 1, "body_base64": ""}}}',
        b'{"items": {"/a": {"content_type": "text/plain", "body_base64": "***"}}}',
        b'{"items": {"/a": {"content_type": "text/plain", "body": 1, "etag": "x"}}}',
        b'{"items": {}, "counters": {"/a": -1}}',
        b'{"items": {}, "counters": {"/a": "3"}}',
        b'{"items": {}, "counters": {"/a": true}}',
    ],
    ids=[
        "not-json",
        "array",
        "items-not-object",
        "unknown-member",
        "relative-path",
        "dot-segment",
        "httpbin-route",
        "admin-path",
        "trailing-slash",
        "no-content-type",
        "no-body",
        "two-bodies",
        "bad-base64",
        "unknown-item-member",
        "negative-counter",
        "string-counter",
        "bool-counter",
    ],
)
def test_bad_seed_documents_are_400_and_change_nothing(live, document):
    live.put("/kept/item", data=b"kept")
    before = live.export()
    response = live.put("/__mockbin/store", data=document, headers={"Content-Type": "application/json"})
    assert is_problem(response, 400, "bad-store-document")
    assert live.export() == before


def test_delete_store_clears_items_and_counters(live):
    live.post("/cleared/list", json={})
    assert live.delete("/__mockbin/store").status_code == 204
    assert live.export() == {"items": {}, "counters": {}}
    assert live.post("/cleared/list", json={}).headers["Location"] == "/cleared/list/1"


def test_reset_clears_the_store_and_idempotency_keys(live):
    live.post("/reset/list", json={}, headers={"Idempotency-Key": '"reset-key"'})
    assert live.post("/__mockbin/reset").status_code == 200
    assert live.export() == {"items": {}, "counters": {}}
    again = live.post("/reset/list", json={}, headers={"Idempotency-Key": '"reset-key"'})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


def test_health_names_the_backend(live):
    body = live.get("/__mockbin/health").json()
    assert body["status"] == "ok"
    assert body["store"] == live.backend
