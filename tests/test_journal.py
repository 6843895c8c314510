"""The request journal: what it records, its bounds, its admin API, and that it is invisible to the app."""

from __future__ import annotations

import base64
import io

import pytest
from werkzeug.test import EnvironBuilder

from mockbin import create_app
from mockbin.settings import Settings


def make_client(**settings):
    return create_app(Settings(journal=True, **settings)).test_client()


def entries(client):
    response = client.get("/__mockbin/requests")
    assert response.status_code == 200 and response.content_type == "application/json"
    return response.get_json()


def test_records_fast_lane_and_flask_routes_with_status():
    client = make_client()
    client.get("/get?a=1&a=2&b=", headers={"X-Trace": "t1"})  # fast lane
    client.get("/no-such-route")  # Flask's 404
    first, second = entries(client)
    assert (first["method"], first["path"], first["query"], first["status"]) == ("GET", "/get", "a=1&a=2&b=", 200)
    assert first["args"] == {"a": ["1", "2"], "b": [""]}
    assert ["X-Trace", "t1"] in first["headers"]
    assert first["url"] == "http://localhost/get?a=1&a=2&b="
    assert (second["path"], second["status"]) == ("/no-such-route", 404)
    assert second["id"] > first["id"]


def test_admin_requests_are_not_recorded():
    client = make_client()
    client.get("/__mockbin/health")
    client.get("/__mockbin/requests")
    assert entries(client) == []


def test_body_is_recorded_and_still_reaches_the_app():
    client = make_client()
    answer = client.post("/post", data=b'{"k": [1, 2]}', content_type="application/json").get_json()
    assert answer["json"] == {"k": [1, 2]}
    (entry,) = entries(client)
    assert entry["body"] == '{"k": [1, 2]}'
    assert (entry["body_size"], entry["body_truncated"]) == (13, False)


def test_body_is_recorded_even_when_the_route_ignores_it():
    client = make_client()
    client.get("/get", data=b"sent anyway")
    assert entries(client)[0]["body"] == "sent anyway"


def test_body_beyond_the_cap_is_truncated_in_the_journal_only():
    client = make_client(journal_body_size=8)
    answer = client.post("/post", data=b"0123456789abcdef", content_type="text/plain").get_json()
    assert answer["data"] == "0123456789abcdef"
    (entry,) = entries(client)
    assert (entry["body"], entry["body_size"], entry["body_truncated"]) == ("01234567", 16, True)


def test_chunked_body_beyond_the_cap_reaches_the_app_whole():
    app = create_app(Settings(journal=True, journal_body_size=4))
    builder = EnvironBuilder(path="/post", method="POST", headers={"Content-Type": "text/plain"})
    environ = builder.get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(b"line one\nline two\n")
    environ["wsgi.input_terminated"] = True
    body = b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: None))
    assert b'"data": "line one\\nline two\\n"' in body
    (entry,) = entries(app.test_client())
    assert (entry["body"], entry["body_size"], entry["body_truncated"]) == ("line", 18, True)


def test_multipart_upload_parses_the_same_through_the_journal():
    plain = create_app(Settings()).test_client()
    journaled = make_client(journal_body_size=10)
    form = {"field": "value", "upload": (io.BytesIO(b"file\ncontent\n" * 50), "a.txt")}
    again = {"field": "value", "upload": (io.BytesIO(b"file\ncontent\n" * 50), "a.txt")}
    # /anything/<path> is served by Flask, which closes the uploaded files (the
    # fast lane's /post leaves them to the garbage collector: a ResourceWarning).
    expected = plain.post("/anything/upload", data=form).get_json()
    actual = journaled.post("/anything/upload", data=again).get_json()
    assert (actual["form"], actual["files"]) == (expected["form"], expected["files"])


def test_binary_body_is_base64():
    client = make_client()
    client.put("/put", data=b"\xff\x00\xfe")
    entry = entries(client)[0]
    assert "body" not in entry and base64.b64decode(entry["body_base64"]) == b"\xff\x00\xfe"


def test_oldest_entries_are_dropped_past_journal_size():
    client = make_client(journal_size=3)
    for index in range(5):
        client.get(f"/get?i={index}")
    assert [entry["query"] for entry in entries(client)] == ["i=2", "i=3", "i=4"]


def test_limit_keeps_the_newest():
    client = make_client()
    for index in range(3):
        client.get(f"/get?i={index}")
    response = client.get("/__mockbin/requests?limit=2")
    assert [entry["query"] for entry in response.get_json()] == ["i=1", "i=2"]


def test_delete_and_reset_clear_the_journal():
    client = make_client()
    client.get("/get")
    assert client.delete("/__mockbin/requests").status_code == 204
    assert entries(client) == []
    client.get("/get")
    assert client.post("/__mockbin/reset").status_code == 200
    assert entries(client) == []


def test_paths_are_relative_to_the_prefix():
    client = make_client(prefix="/bin")
    client.get("/bin/get")
    client.get("/outside")  # 404 before the journal: not mockbin's traffic
    assert [entry["path"] for entry in entries_at(client, "/bin")] == ["/get"]


def entries_at(client, prefix):
    return client.get(prefix + "/__mockbin/requests").get_json()


def test_journal_off_by_default_with_a_clear_problem():
    client = create_app(Settings()).test_client()
    response = client.get("/__mockbin/requests")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:mockbin:problem:journal-off"
    assert "--journal (or MOCKBIN_JOURNAL=1)" in problem["detail"]


def test_journal_settings_from_env():
    settings = Settings.from_env({"MOCKBIN_JOURNAL": "1", "MOCKBIN_JOURNAL_SIZE": "5", "MOCKBIN_JOURNAL_BODY_SIZE": "1KiB"})
    assert (settings.journal, settings.journal_size, settings.journal_body_size) == (True, 5, 1024)


@pytest.mark.parametrize("variable, value", [("MOCKBIN_JOURNAL_SIZE", "0"), ("MOCKBIN_JOURNAL_BODY_SIZE", "lots")])
def test_bad_journal_settings_fail_with_the_name(variable, value):
    from mockbin.settings import SettingsError

    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


# -- bounded by bytes, listed in pages ----------------------------------------


def test_journal_max_bytes_drops_the_oldest_first():
    from mockbin.journal import ENTRY_OVERHEAD

    budget = 4 * (ENTRY_OVERHEAD + 2048)
    client = make_client(journal_max_bytes=budget, journal_body_size=4096)
    for index in range(10):
        client.post(f"/post?i={index}", data=b"x" * 1500, content_type="text/plain")
    kept = entries(client)
    assert 2 <= len(kept) < 10
    assert [entry["query"] for entry in kept] == [f"i={index}" for index in range(10 - len(kept), 10)]
    journal = client.application.extensions["mockbin.journal"]
    assert journal.bytes <= budget


def test_the_newest_entry_stays_even_when_alone_it_is_over_the_bound():
    client = make_client(journal_max_bytes=0)
    client.get("/get?first")
    client.post("/post?second", data=b"body", content_type="text/plain")
    (entry,) = entries(client)
    assert (entry["query"], entry["body"]) == ("second", "body")


def test_bytes_are_given_back_by_reset():
    client = make_client()
    journal = client.application.extensions["mockbin.journal"]
    client.post("/post", data=b"x" * 1000, content_type="text/plain")
    assert journal.bytes > 1000
    client.post("/__mockbin/reset")
    assert journal.bytes == 0


def test_pages_cover_every_entry_once_and_link_to_the_next():
    from mockbin.journal import PAGE_ENTRIES

    client = make_client(journal_size=PAGE_ENTRIES * 2 + 10)
    for index in range(PAGE_ENTRIES * 2 + 5):
        client.get(f"/get?i={index}")
    seen, target, pages = [], "/__mockbin/requests", 0
    while target:
        response = client.get(target)
        page = response.get_json()
        assert len(page) <= PAGE_ENTRIES
        seen += [entry["id"] for entry in page]
        pages += 1
        link = response.headers.get("Link")
        target = link[1 : link.index(">")] if link else None
        if link:
            assert link.endswith('>; rel="next"') and target == f"/__mockbin/requests?after={page[-1]['id']}"
    assert pages == 3 and seen == list(range(1, PAGE_ENTRIES * 2 + 6))


def test_a_page_stops_near_page_bytes():
    from mockbin.journal import PAGE_BYTES

    client = make_client(journal_body_size=1024**2, journal_max_bytes=64 * 1024**2)
    for _ in range(6):
        client.post("/post", data=b"x" * 1024**2, content_type="text/plain")
    first = client.get("/__mockbin/requests")
    assert 1 <= len(first.get_json()) <= PAGE_BYTES // 1024**2 + 1
    assert 'rel="next"' in first.headers["Link"]
    assert len(first.data) < 2 * PAGE_BYTES


def test_limit_windows_page_without_shifting_when_new_requests_arrive(monkeypatch):
    monkeypatch.setattr("mockbin.journal.PAGE_ENTRIES", 2)
    client = make_client()
    for index in range(5):
        client.get(f"/get?i={index}")
    first = client.get("/__mockbin/requests?limit=3")
    assert [entry["query"] for entry in first.get_json()] == ["i=2", "i=3"]
    client.get("/get?i=late")  # arrives between the pages
    target = first.headers["Link"][1 : first.headers["Link"].index(">")]
    assert target == "/__mockbin/requests?after=4&before=6"
    assert [entry["query"] for entry in client.get(target).get_json()] == ["i=4"]


def test_after_and_before_select_by_id():
    client = make_client()
    for index in range(5):
        client.get(f"/get?i={index}")
    ids = [entry["id"] for entry in entries(client)]
    window = client.get(f"/__mockbin/requests?after={ids[0]}&before={ids[3]}").get_json()
    assert [entry["id"] for entry in window] == ids[1:3]
    assert client.get(f"/__mockbin/requests?after={ids[-1]}").get_json() == []
    assert client.get("/__mockbin/requests?limit=0").get_json() == []
    assert "Link" not in client.get("/__mockbin/requests").headers


@pytest.mark.parametrize("query", ["limit=-1", "limit=x", "after=1.5", "before=", "limit=%C2%B2"])
def test_a_bad_journal_query_is_a_400_problem(query):
    response = make_client().get(f"/__mockbin/requests?{query}")
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:mockbin:problem:bad-journal-query" and problem["parameter"] == query.split("=")[0]


def test_journal_max_bytes_from_env():
    assert Settings.from_env({"MOCKBIN_JOURNAL_MAX_BYTES": "16MiB"}).journal_max_bytes == 16 * 1024**2


def test_over_real_sockets_bytes_bound_the_journal_and_the_handle_reads_every_page():
    """gunicorn, 1 MiB bodies kept whole: two pages of about 4 MiB, oldest dropped past 6 MiB."""
    import requests

    from mockbin.testing.client import Mockbin
    from support.servers import ServerProcess, free_port, mockbin_argv

    port = free_port()
    argv = mockbin_argv(port, "--journal", "--journal-body-size", "1MiB", "--journal-max-bytes", "6MiB",
                        "--workers", "1")
    with ServerProcess(argv, port) as server:
        for index in range(8):
            requests.post(f"{server.url}/post?i={index}", data=bytes([65 + index]) * 1024**2)
        first = requests.get(f"{server.url}/__mockbin/requests")
        assert 'rel="next"' in first.headers["Link"] and len(first.content) < 8 * 1024**2
        handle = Mockbin(server.url, token="")
        kept = handle.requests
        assert [req.args["i"] for req in kept] == ["3", "4", "5", "6", "7"]
        assert all(req.body == bytes([65 + int(req.args["i"])]) * 1024**2 for req in kept)
        handle.assert_requested("POST", "/post", count=5)
        assert handle.last_request.args["i"] == "7"


def test_the_next_link_carries_the_prefix(monkeypatch):
    monkeypatch.setattr("mockbin.journal.PAGE_ENTRIES", 1)
    client = make_client(prefix="/bin")
    client.get("/bin/get?a")
    client.get("/bin/get?b")
    assert client.get("/bin/__mockbin/requests").headers["Link"] == '</bin/__mockbin/requests?after=1>; rel="next"'
