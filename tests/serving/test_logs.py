"""Logs as a container platform reads them: access log on stdout, error log on stderr.

``docker logs`` and CI log collectors keep the two streams apart; JSON lines
must parse one by one; and bodies (tokens, personal data in test fixtures)
must never be written anywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import pytest
import requests

from mockbin.serving.healthcheck import HEALTH_PATH, Unhealthy, check
from mockbin.serving.gunicorn import gunicorn_options
from mockbin.settings import Settings
from support.servers import HOST, free_port

SECRET = "body-secret-7f3a"
AGENT = 'agent "quoted" \\ backslash'


def serve_and_log(*flags: str) -> Tuple[str, str]:
    """Run mockbin, send a few requests, stop it; return (stdout, stderr)."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "mockbin", "serve", "--port", str(port), *flags],
            stdout=out, stderr=err, env=environ, start_new_session=True,
        )
        try:
            wait_healthy(base, process)
            requests.post(f"{base}/post?token=q1", data=SECRET, headers={"User-Agent": AGENT}, timeout=10)
            requests.post(f"{base}/post", json={"password": SECRET}, timeout=10)
            requests.get(f"{base}/nowhere", timeout=10)
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(15)
        out.seek(0)
        err.seek(0)
        return out.read().decode(), err.read().decode()


def wait_healthy(base: str, process: subprocess.Popen) -> None:
    for _ in range(400):
        if process.poll() is not None:
            raise RuntimeError(f"mockbin exited with {process.returncode}")
        try:
            check(base + HEALTH_PATH, timeout=2)
            return
        except Unhealthy:
            time.sleep(0.05)
    raise RuntimeError("mockbin did not become healthy")


@pytest.fixture(scope="module")
def json_logs() -> Tuple[str, str]:
    return serve_and_log("--log-format", "json")


def records(stdout: str) -> List[Dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_access_log_is_one_object_per_request_on_stdout(json_logs: Tuple[str, str]) -> None:
    stdout, _ = json_logs
    # Threads write their lines as they finish: the order is not the requests' order.
    lines = sorted((r for r in records(stdout) if r["path"] != HEALTH_PATH), key=lambda r: str(r["query"]))
    assert sorted((r["method"], r["path"], r["query"], r["status"]) for r in lines) == [
        ("GET", "/nowhere", "", 404),
        ("POST", "/post", "", 200),
        ("POST", "/post", "token=q1", 200),
    ]
    first = lines[-1]  # the one with a query and the odd User-Agent
    assert set(first) == {
        "time", "method", "path", "query", "status", "duration_ms", "bytes", "remote_addr", "user_agent"
    }
    assert first["user_agent"] == AGENT and first["remote_addr"] == HOST
    assert isinstance(first["bytes"], int) and first["bytes"] > 0
    assert isinstance(first["duration_ms"], float) and 0 <= first["duration_ms"] < 10000
    assert str(first["time"]).endswith("Z") and str(first["time"])[:2] == "20"


def test_error_log_goes_to_stderr(json_logs: Tuple[str, str]) -> None:
    _, stderr = json_logs
    assert "Listening at: http://" in stderr
    assert "Handling signal: term" in stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_bodies_are_never_logged(fmt: str, json_logs: Tuple[str, str]) -> None:
    stdout, stderr = json_logs if fmt == "json" else serve_and_log("--log-format", "text")
    assert SECRET not in stdout and SECRET not in stderr
    if fmt == "text":
        access = [line for line in stdout.splitlines() if '"POST /post' in line]
        assert len(access) == 2 and any('"POST /post?token=q1 HTTP/1.1" 200' in line for line in access)


@pytest.mark.parametrize("flags", [("--no-access-log",), ("--log-level", "warning")])
def test_access_log_can_be_turned_off(flags: Tuple[str, str]) -> None:
    stdout, stderr = serve_and_log(*flags)
    assert stdout == ""
    assert ("Listening at" in stderr) == (flags[0] == "--no-access-log")


def test_settings_reach_gunicorn() -> None:
    import socket

    settings = Settings(timeout=45, graceful_timeout=7, log_format="json", access_log=False, worker_class="sync")
    with socket.socket() as sock:
        options = gunicorn_options(settings, sock)
        default = gunicorn_options(Settings(), sock)
        threaded = gunicorn_options(Settings(worker_class="gthread", threads=8, worker_connections=100), sock)
    assert options["timeout"] == 45 and options["graceful_timeout"] == 7
    assert options["logger_class"] == "mockbin.serving.logs.JsonLogger"
    assert options["accesslog"] is None and options["errorlog"] == "-"
    assert options["worker_class"] == "mockbin.serving.workers.SyncWorker"
    assert (default["worker_class"], default["threads"]) == ("mockbin.serving.workers.GeventWorker", 1)
    assert (threaded["worker_class"], threaded["threads"]) == ("mockbin.serving.workers.ThreadWorker", 8)
    assert threaded["worker_connections"] == 100


def test_bad_log_format_is_a_one_line_usage_error() -> None:
    environ = dict(os.environ, MOCKBIN_LOG_FORMAT="xml")
    result = subprocess.run(
        [sys.executable, "-m", "mockbin", "serve", "--port", "0"],
        env=environ, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mockbin: error: invalid value for --log-format (MOCKBIN_LOG_FORMAT): "
        "'xml' is not a log format (text, json)"
    ]
