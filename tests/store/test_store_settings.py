"""Start-up: store URLs and backends fail fast with one line; defaults; the mode is off by default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from mockbin import create_app
from mockbin.serving.cli import main
from mockbin.settings import Settings, SettingsError
from support.servers import ServerProcess, free_port, mockbin_argv
from support.stateful import wait_healthy


def serve_fails(*args: str, env: dict = None) -> str:
    """Run ``mockbin serve`` that must exit 2 at once; its one stderr line."""
    argv = [sys.executable, "-m", "mockbin", "serve", "--port", "0", *args]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=dict(os.environ, **(env or {}))
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("mockbin: error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    "url",
    [
        "bogus://x",
        "memory://extra",
        "sqlite://",
        "sqlite:///tmp/dir/",
        "sqlite:///tmp/x.db?journal=off",
        "sqlite:///tmp/x.db?synchronous=off",
        "redis://",
        "redis://localhost:99999/0",
        "redis://localhost:6379/zero",
        "redis://localhost:6379/0?db=1",
        "/just/a/path",
    ],
)
def test_malformed_store_urls_are_refused_while_reading_settings(url, capsys):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"MOCKBIN_STORE": url})
    assert "MOCKBIN_STORE" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--stateful", "--store", url])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--store" in err[0]


def test_memory_store_with_several_workers_is_refused():
    line = serve_fails("--stateful", "--store", "memory://", "--workers", "2")
    assert "memory://" in line and "--workers" in line


def test_unwritable_sqlite_path_fails_fast(tmp_path):
    line = serve_fails("--stateful", "--store", f"sqlite://{tmp_path}/missing/dir/store.db")
    assert "cannot open the store" in line


def test_unreachable_redis_fails_fast():
    line = serve_fails("--stateful", "--store", f"redis://127.0.0.1:{free_port()}/0")
    assert "cannot open the store" in line and "Redis" in line


def test_redis_store_without_redis_py_says_how_to_install(tmp_path):
    fake = tmp_path / "redis"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('redis-py is not installed here')\n")
    line = serve_fails(
        "--stateful",
        "--store",
        "redis://127.0.0.1:6379/0",
        env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
    )
    assert "pip install redis" in line and "pip install '.[redis]'" in line


def test_store_url_from_the_environment_fails_the_same_way():
    line = serve_fails(env={"MOCKBIN_STATEFUL": "1", "MOCKBIN_STORE": "mysql://db"})
    assert "MOCKBIN_STORE" in line


def test_several_workers_share_an_embedded_sqlite_file_by_default(tmp_path):
    port = free_port()
    env = {"MOCKBIN_STATEFUL": "1", "TMPDIR": str(tmp_path)}
    with ServerProcess(mockbin_argv(port, "--workers", "2", "--worker-class", "sync"), port, env=env):
        wait_healthy(port)
        assert requests.get(f"http://127.0.0.1:{port}/__mockbin/health").json()["store"] == "sqlite"
        assert len(list(tmp_path.glob("mockbin-store-*/store.db"))) == 1
        for _ in range(20):  # sync workers close every connection: requests land on both workers
            assert requests.post(f"http://127.0.0.1:{port}/shared", json={}).status_code == 201
        listing = requests.get(f"http://127.0.0.1:{port}/shared")
        assert [member["id"] for member in listing.json()] == list(range(1, 21))
    assert list(tmp_path.glob("mockbin-store-*")) == []  # removed at exit


def test_one_worker_defaults_to_memory():
    app = create_app(Settings(stateful=True))
    assert app.test_client().get("/__mockbin/health").json["store"] == "memory"


def test_the_mode_is_off_by_default(mockbin_app):
    client = mockbin_app.test_client()
    put = client.put("/articles/1", data=b"x")
    assert put.status_code == 404 and put.content_type.startswith("text/html")
    assert client.get("/articles/1").status_code == 404
    store = client.get("/__mockbin/store")
    assert store.status_code == 404 and store.content_type == "application/problem+json"
    assert store.json["type"] == "urn:mockbin:problem:stateful-off"
    assert "store" not in client.get("/__mockbin/health").json


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda tmp: f"{tmp}/missing/store.db", "does not exist; create it first"),
        (lambda tmp: str(tmp), "is a directory"),
    ],
)
def test_sqlite_open_errors_name_the_cause(tmp_path, make, reason):
    line = serve_fails("--stateful", "--store", f"sqlite://{make(tmp_path)}")
    assert reason in line, line

