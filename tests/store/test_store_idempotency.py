"""Idempotency-Key on POST: replay, 422 on reuse, 409 while in flight, expiry, 400 when invalid."""

from __future__ import annotations

import socket
import time
import uuid

import pytest

from support.rawhttp import build_request
from support.servers import HOST
from support.stateful import is_problem


def new_key() -> str:
    return f'"{uuid.uuid4()}"'


def test_retry_replays_the_first_response(live):
    collection = live.unique()
    key = new_key()
    first = live.post(collection, json={"amount": 10}, headers={"Idempotency-Key": key})
    retry = live.post(collection, json={"amount": 10}, headers={"Idempotency-Key": key})
    assert first.status_code == retry.status_code == 201
    for name in ("Location", "Content-Location", "ETag", "Last-Modified", "Content-Type"):
        assert retry.headers[name] == first.headers[name], name
    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert live.get(collection).headers["X-Total-Count"] == "1"


def test_replay_returns_the_original_even_after_a_change(live):
    collection = live.unique()
    key = new_key()
    first = live.post(collection, json={"n": 1}, headers={"Idempotency-Key": key, "Prefer": "return=minimal"})
    live.put(first.headers["Location"], json={"changed": True})
    retry = live.post(collection, json={"n": 1}, headers={"Idempotency-Key": key})
    assert retry.status_code == 201 and retry.content == b""
    assert retry.headers["ETag"] == first.headers["ETag"]


def test_unquoted_keys_are_accepted(live):
    collection = live.unique()
    key = uuid.uuid4().hex
    live.post(collection, data=b"x", headers={"Idempotency-Key": key})
    retry = live.post(collection, data=b"x", headers={"Idempotency-Key": key})
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (
        live.post(collection, data=b"x", headers={"Idempotency-Key": f'"{key}"'}).headers["Location"]
        == retry.headers["Location"]
    )


@pytest.mark.parametrize("change", ["body", "content-type", "path"])
def test_same_key_for_a_different_request_is_422(live, change):
    collection = live.unique()
    key = new_key()
    live.post(collection, data=b"one", headers={"Idempotency-Key": key, "Content-Type": "text/plain"})
    body, content_type, target = b"one", "text/plain", collection
    if change == "body":
        body = b"two"
    elif change == "content-type":
        content_type = "application/octet-stream"
    else:
        target = live.unique()
    response = live.post(target, data=body, headers={"Idempotency-Key": key, "Content-Type": content_type})
    assert is_problem(response, 422, "idempotency-key-reused")
    assert live.get(collection).headers["X-Total-Count"] == "1"


@pytest.mark.parametrize("value", ['""', '"' + "k" * 256 + '"', "a b", '"unterminated', "caf\u00e9", "a,b"])
def test_invalid_keys_are_400(live, value):
    collection = live.unique()
    response = live.post(collection, data=b"x", headers={"Idempotency-Key": value.encode("utf-8")})
    assert is_problem(response, 400, "idempotency-key-invalid")
    assert live.get(collection).status_code == 404


def test_a_retry_while_the_first_is_in_flight_is_409(live):
    body = b'{"slow": true}'
    # The first request has claimed its key once a worker runs it; a retry sent
    # before that merely wins the race, so try again with more head start.
    for head_start in (0.1, 0.5, 1.5):
        collection, key = live.unique(), new_key()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        head = build_request(
            "POST",
            collection,
            [("Host", f"{HOST}:{live.port}"), *headers.items(), ("Content-Length", str(len(body)))],
        )
        with socket.create_connection((HOST, live.port), timeout=30) as slow:
            slow.sendall(head + body[:5])  # the first request is being processed, its body half sent
            time.sleep(head_start)
            concurrent = live.post(collection, data=body, headers=headers)
            slow.sendall(body[5:])
            reply = b""
            while b"\r\n\r\n" not in reply:
                reply += slow.recv(65536)
        if concurrent.status_code == 409:
            break
    assert is_problem(concurrent, 409, "idempotency-key-in-flight")
    assert reply.startswith(b"HTTP/1.1 201")
    retry = live.post(collection, data=body, headers=headers)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert live.get(collection).headers["X-Total-Count"] == "1"


def test_a_failed_request_does_not_burn_its_key(live):
    collection = live.unique()
    live.post(collection, json={})
    key = new_key()
    refused = live.post(collection, json={"x": 1}, headers={"Idempotency-Key": key, "If-None-Match": "*"})
    assert is_problem(refused, 412, "precondition-failed")
    accepted = live.post(collection, json={"x": 1}, headers={"Idempotency-Key": key})
    assert accepted.status_code == 201 and "Idempotent-Replayed" not in accepted.headers


def test_keys_expire(strict):
    key = new_key()
    first = strict.post("/store/c", data=b"x", headers={"Idempotency-Key": key})
    assert (
        strict.post("/store/c", data=b"x", headers={"Idempotency-Key": key}).headers["Idempotent-Replayed"]
        == "true"
    )
    time.sleep(1.3)  # the strict server keeps keys for 1 second
    again = strict.post("/store/c", data=b"x", headers={"Idempotency-Key": key})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.headers["Location"] != first.headers["Location"]


def test_required_key(strict):
    assert is_problem(strict.post("/store/c", data=b"x"), 400, "idempotency-key-required")
    assert strict.get("/store/c").status_code == 404
    assert strict.post("/store/c", data=b"x", headers={"Idempotency-Key": new_key()}).status_code == 201
