"""Conditional requests (RFC 9110 section 13) on every method, and 428 with --require-if-match."""

from __future__ import annotations

import email.utils
import time

import pytest

from support.stateful import is_problem

MERGE = {"Content-Type": "application/merge-patch+json"}


def stored(live, body=b'{"v": 1}'):
    path = live.unique() + "/item"
    response = live.put(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201
    return path, response.headers["ETag"]


def http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


# -- GET / HEAD ---------------------------------------------------------------------


def test_if_none_match_gives_304(live):
    path, etag = stored(live)
    for method in ("GET", "HEAD"):
        response = live.request(method, path, headers={"If-None-Match": etag})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["ETag"] == etag
    weak = live.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304  # If-None-Match uses the weak comparison
    assert live.get(path, headers={"If-None-Match": "*"}).status_code == 304
    assert live.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since(live):
    path, _ = stored(live)
    assert live.get(path, headers={"If-Modified-Since": http_date(60)}).status_code == 304
    assert live.get(path, headers={"If-Modified-Since": http_date(-3600)}).status_code == 200
    assert live.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(live):
    path, _ = stored(live)
    response = live.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": http_date(60)})
    assert response.status_code == 200


def test_if_match_on_get(live):
    path, etag = stored(live)
    assert live.get(path, headers={"If-Match": etag}).status_code == 200
    assert is_problem(live.get(path, headers={"If-Match": '"other"'}), 412, "precondition-failed")


def test_collection_etag_and_304(live):
    collection = live.unique()
    live.post(collection, json={})
    etag = live.get(collection).headers["ETag"]
    assert live.get(collection, headers={"If-None-Match": etag}).status_code == 304
    live.post(collection, json={})
    assert live.get(collection, headers={"If-None-Match": etag}).status_code == 200


def test_preconditions_are_ignored_for_a_missing_item_get(live):
    # RFC 9110 13.2.1: the answer would be 404 anyway.
    assert live.get(live.unique() + "/x", headers={"If-Match": '"a"'}).status_code == 404


# -- writes ------------------------------------------------------------------------


def test_if_match_guards_put(live):
    path, etag = stored(live)
    ok = live.put(path, data=b'{"v": 2}', headers={"If-Match": etag})
    assert ok.status_code == 200
    stale = live.put(path, data=b'{"v": 3}', headers={"If-Match": etag})
    assert is_problem(stale, 412, "precondition-failed")
    assert stale.headers["ETag"] == ok.headers["ETag"]  # the current tag, to retry with
    assert live.get(path).content == b'{"v": 2}'


def test_if_match_uses_the_strong_comparison(live):
    path, etag = stored(live)
    assert is_problem(
        live.put(path, data=b"x", headers={"If-Match": f"W/{etag}"}), 412, "precondition-failed"
    )
    assert live.put(path, data=b"x", headers={"If-Match": f'"nope", {etag}'}).status_code == 200


def test_if_match_star(live):
    path = live.unique() + "/star"
    assert is_problem(live.put(path, data=b"x", headers={"If-Match": "*"}), 412, "precondition-failed")
    assert live.get(path).status_code == 404
    live.put(path, data=b"x")
    assert live.put(path, data=b"y", headers={"If-Match": "*"}).status_code == 200


def test_if_none_match_star_means_create_only(live):
    path = live.unique() + "/once"
    assert live.put(path, data=b"first", headers={"If-None-Match": "*"}).status_code == 201
    second = live.put(path, data=b"second", headers={"If-None-Match": "*"})
    assert is_problem(second, 412, "precondition-failed")
    assert live.get(path).content == b"first"


def test_if_unmodified_since(live):
    path, _ = stored(live)
    assert is_problem(
        live.put(path, data=b"x", headers={"If-Unmodified-Since": http_date(-3600)}),
        412,
        "precondition-failed",
    )
    assert live.put(path, data=b"y", headers={"If-Unmodified-Since": http_date(60)}).status_code == 200
    # If-Match takes precedence over If-Unmodified-Since.
    etag = live.get(path).headers["ETag"]
    both = live.put(path, data=b"z", headers={"If-Match": etag, "If-Unmodified-Since": http_date(-3600)})
    assert both.status_code == 200


def test_if_match_guards_patch_and_delete(live):
    path, etag = stored(live)
    assert is_problem(
        live.patch(path, data=b'{"v": 9}', headers={**MERGE, "If-Match": '"old"'}), 412, "precondition-failed"
    )
    assert is_problem(live.delete(path, headers={"If-Match": '"old"'}), 412, "precondition-failed")
    assert live.get(path).json() == {"v": 1}
    patched = live.patch(path, data=b'{"v": 2}', headers={**MERGE, "If-Match": etag})
    assert patched.status_code == 200
    assert live.delete(path, headers={"If-Match": patched.headers["ETag"]}).status_code == 204


def test_delete_of_a_missing_item_ignores_preconditions(live):
    assert is_problem(live.delete(live.unique() + "/x", headers={"If-Match": '"a"'}), 404, "not-found")


def test_post_preconditions_apply_to_the_collection(live):
    collection = live.unique()
    assert live.post(collection, json={}, headers={"If-None-Match": "*"}).status_code == 201
    again = live.post(collection, json={}, headers={"If-None-Match": "*"})
    assert is_problem(again, 412, "precondition-failed")
    assert live.post(collection, json={}, headers={"If-Match": "*"}).status_code == 201
    assert live.get(collection).headers["X-Total-Count"] == "2"


# -- --require-if-match (strict server) ------------------------------------------------


def test_require_if_match_turns_unconditional_writes_into_428(strict):
    path = "/store/doc"
    assert strict.put(path, json={"v": 1}).status_code == 201  # creating needs no tag
    etag = strict.get(path).headers["ETag"]
    for method, kwargs in (
        ("PUT", {"json": {"v": 2}}),
        ("PATCH", {"data": b'{"v": 2}', "headers": MERGE}),
        ("DELETE", {}),
    ):
        response = strict.request(method, path, **kwargs)
        assert is_problem(response, 428, "precondition-required"), method
        assert "If-Match" in response.json()["detail"]
    assert strict.get(path).json() == {"v": 1}
    assert strict.put(path, json={"v": 2}, headers={"If-Match": etag}).status_code == 200


def test_require_if_match_still_reports_failed_preconditions_first(strict):
    strict.put("/store/doc", json={"v": 1})
    response = strict.put("/store/doc", json={"v": 2}, headers={"If-None-Match": "*"})
    assert is_problem(response, 412, "precondition-failed")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_require_if_match_leaves_reads_alone(strict, method):
    strict.put("/store/doc", json={"v": 1})
    assert strict.request(method, "/store/doc").status_code == 200
