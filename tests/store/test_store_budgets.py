"""The stateful mode within its budgets, on every backend.

JSON Patch operations and results (``--store-patch-max-operations``,
``--max-json-values``, ``--store-max-depth``), answers given before a body
is read, the POSTed bytes stored as sent (the id written into them),
idempotency records that count and go with their item, and truncated bodies
that store nothing.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid

import pytest

from support.rawhttp import read_response
from support.servers import HOST
from support.stateful import is_problem

JSON = {"Content-Type": "application/json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}


def stored(live, body: bytes, headers=JSON) -> str:
    path = live.unique("doc")
    assert live.put(path, data=body, headers=headers).status_code == 201
    return path


# -- JSON Patch budgets --------------------------------------------------------------


def test_a_copy_chain_is_refused_while_the_document_is_small(live):
    path = stored(live, b'["0123456789abcdef"]')
    chain = [{"op": "copy", "from": "", "path": "/-"}] * 40  # doubles the document 40 times
    began = time.monotonic()
    refused = live.patch(path, json=chain, headers=JSON_PATCH)
    assert time.monotonic() - began < 20  # liveness only: building it would take hours
    assert is_problem(refused, 413, "json-too-large")
    assert "--max-json-values" in refused.json()["detail"]
    assert live.get(path).content == b'["0123456789abcdef"]'


def test_too_many_operations_is_413(live):
    path = stored(live, b'{"a": 1}')
    operations = [{"op": "test", "path": "/a", "value": 1}] * 1001  # the default allows 1000
    refused = live.patch(path, json=operations, headers=JSON_PATCH)
    assert is_problem(refused, 413, "patch-too-large")
    assert refused.json()["limit"] == 1000 and "--store-patch-max-operations" in refused.json()["detail"]
    assert live.patch(path, json=operations[:1000], headers=JSON_PATCH).status_code == 200


@pytest.mark.parametrize("headers, patch", [
    (JSON_PATCH, b'[{"op": "add", "path": "/x", "value": 1}]'),
    (MERGE, b'{"x": 1}'),
], ids=["json-patch", "merge-patch"])
def test_patching_a_document_nested_past_the_depth_limit_is_413(live, headers, patch):
    deep = b'{"k": ' + b"[" * 600 + b"1" + b"]" * 600 + b"}"  # PUT stores any bytes
    path = stored(live, deep)
    refused = live.patch(path, data=patch, headers=headers)
    assert is_problem(refused, 413, "json-too-deep")
    assert "--store-max-depth" in refused.json()["detail"]
    assert live.get(path).content == deep


def test_a_patch_document_nested_past_the_limit_is_413(live):
    path = stored(live, b'{"a": 1}')
    deep_value = b"[" * 150 + b"]" * 150
    refused = live.patch(path, data=b'[{"op": "add", "path": "/d", "value": ' + deep_value + b"}]", headers=JSON_PATCH)
    assert is_problem(refused, 413, "json-too-deep")


def test_a_result_nested_past_the_limit_is_refused_before_it_is_built(live):
    path = stored(live, b'{"n": {}}')
    deepening = [{"op": "add", "path": "/n" * (level + 1), "value": {}} for level in range(1, 120)]
    refused = live.patch(path, json=deepening, headers=JSON_PATCH)
    assert is_problem(refused, 413, "json-too-deep")
    assert live.get(path).json() == {"n": {}}


def test_documents_up_to_the_limits_still_patch(live):
    value = {}
    for _ in range(98):
        value = {"n": value}
    path = stored(live, json.dumps({"n": value}).encode())  # 100 levels with the root: the default limit
    answer = live.patch(path, json=[{"op": "copy", "from": "/n", "path": "/m"}], headers=JSON_PATCH)
    assert answer.status_code == 200
    assert live.patch(path, json={"m": None}, headers=MERGE).status_code == 200


# -- answers before the body ------------------------------------------------------------------


def send_head_only(live, method: str, target: str, *headers: str) -> bytes:
    """Send a head announcing 10 MB and no byte of the body; return the first line of the answer."""
    head = [f"{method} {live.mount}{target} HTTP/1.1", f"Host: {HOST}:{live.port}", "Content-Length: 10000000", *headers]
    with socket.create_connection((HOST, live.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        response, _ = read_response(sock, method)
    return response.status_line.encode()


def test_patch_to_nothing_is_404_before_its_body_is_read(live):
    status = send_head_only(live, "PATCH", live.unique() + "/1", "Content-Type: application/json")
    assert status.startswith(b"HTTP/1.1 404")


def test_conditional_put_to_nothing_is_412_before_its_body_is_read(live):
    status = send_head_only(live, "PUT", live.unique(), 'If-Match: "abc"', "Content-Type: application/json")
    assert status.startswith(b"HTTP/1.1 412")


def test_conditional_post_is_412_before_its_body_is_read(live):
    status = send_head_only(live, "POST", live.unique(), 'If-Match: "abc"', "Content-Type: application/json")
    assert status.startswith(b"HTTP/1.1 412")


# -- the bytes POSTed are the bytes stored -----------------------------------------------------


@pytest.mark.parametrize("sent, kept", [
    (b'{"name": "a"}', b'{"id": 1, "name": "a"}'),
    (b'{}', b'{"id": 1}'),
    (b'  {\n    "name" :  "b",\n    "n": 1.50\n}\n', b'  {"id": 1, \n    "name" :  "b",\n    "n": 1.50\n}\n'),
    ('{"é": "ü", "id": "x"}'.encode(), '{"é": "ü", "id": 1}'.encode()),
    (b'{"id": {"nested": [1, 2]}, "b": {"id": 7}}', b'{"id": 1, "b": {"id": 7}}'),
    (b'{"id": 5, "id": 6}', b'{"id": 1, "id": 1}'),
    (b'[1, 2]', b'[1, 2]'),
    (b'{"not": json}', b'{"not": json}'),
], ids=["added", "empty", "formatting-kept", "non-ascii-replaced", "only-top-level", "duplicates", "array", "invalid"])
def test_post_stores_what_was_sent_with_the_id_written_in(live, sent, kept):
    collection = live.unique()
    created = live.post(collection, data=sent, headers=JSON)
    assert created.status_code == 201 and created.headers["Location"].endswith(f"{collection}/1")
    assert live.get(f"{collection}/1").content == kept


def test_post_of_a_json_object_past_the_budget_is_413(live):
    body = b'{"v": [' + b"0, " * 1_000_001 + b"0]}"
    refused = live.post(live.unique(), data=body, headers=JSON)
    assert is_problem(refused, 413, "json-too-large")


# -- idempotency records: counted, and gone with their item --------------------------------


def test_a_key_whose_item_was_deleted_is_a_new_request(live):
    collection = live.unique()
    key = f'"{uuid.uuid4()}"'
    first = live.post(collection, data=b"one", headers={"Idempotency-Key": key})
    assert live.delete(first.headers["Location"]).status_code == 204
    again = live.post(collection, data=b"one", headers={"Idempotency-Key": key})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.headers["Location"] != first.headers["Location"]


def test_records_count_against_the_byte_limit_and_are_freed_with_their_item(strict):
    # The strict server holds 4 KiB (and wants If-Match on DELETE); a keyed POST stores the
    # body and a copy of it in its record.
    body = b"r" * 1500
    first = strict.post("/store/r", data=body, headers={"Idempotency-Key": '"k1"'})
    assert first.status_code == 201
    refused = strict.post("/store/r", data=body, headers={"Idempotency-Key": '"k2"'})
    assert is_problem(refused, 507, "store-full")
    assert strict.delete(first.headers["Location"][len(strict.mount):], headers={"If-Match": first.headers["ETag"]}).status_code == 204
    assert strict.post("/store/r", data=body, headers={"Idempotency-Key": '"k2"'}).status_code == 201


def test_many_keyed_posts_of_deleted_items_never_fill_the_store(strict):
    for n in range(12):  # 12 x (1.5 KiB + its record) = 3x the 4 KiB limit, each freed by its DELETE
        created = strict.post("/store/d", data=b"d" * 1500, headers={"Idempotency-Key": f'"d{n}"'})
        assert created.status_code == 201, created.text
        deleted = strict.delete(created.headers["Location"][len(strict.mount):], headers={"If-Match": created.headers["ETag"]})
        assert deleted.status_code == 204


# -- a truncated body stores nothing --------------------------------------------------------------


@pytest.mark.parametrize("method, target", [("PUT", "/cut/item"), ("POST", "/cut")])
def test_a_truncated_body_stores_nothing(live, method, target):
    path = live.unique() + target
    with socket.create_connection((HOST, live.port), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 100\r\n\r\n{\"a\":".encode())
        sock.shutdown(socket.SHUT_WR)
        response, _ = read_response(sock, method)
    assert response.status == 400
    assert json.loads(response.body)["type"] == "urn:mockbin:problem:incomplete-body"
    assert not [p for p in live.export()["items"] if p.startswith(path.rsplit("/", 1)[0] if method == "PUT" else path)]


def test_a_deep_document_is_exported_as_bytes(live):
    deep = b"[" * 900 + b"]" * 900  # parseable, but deeper than an export may write
    path = stored(live, deep)
    exported = live.export()["items"][path]
    assert "body" not in exported and base64.b64decode(exported["body_base64"]) == deep
