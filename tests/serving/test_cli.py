"""The mockbin command as a user meets it: flags, env vars, errors, a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

import mockbin
from mockbin.settings import Settings, SettingsError, env_name, fields, flag_name
from support.servers import HOST, ServerProcess, free_port, mockbin_argv


def run(*args, env=None, timeout=30):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mockbin", *args], capture_output=True, text=True, env=full_env, timeout=timeout
    )


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mockbin: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mockbin {mockbin.__version__}"


def test_console_script_is_installed():
    result = subprocess.run(["mockbin", "--version"], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == f"mockbin {mockbin.__version__}"


def test_help_lists_every_setting_with_its_env_var():
    result = run("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for f in fields():
        assert flag_name(f.name) in text
        assert env_name(f.name) in text.replace("- ", "-")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (("serve", "--port", "abc"), ("--port", "whole number")),
        (("serve", "--port", "70000"), ("--port", "MOCKBIN_PORT", "70000")),
        (("serve", "--workers", "0"), ("--workers", "minimum")),
        (("serve", "--log-level", "loud"), ("--log-level", "loud")),
        (("serve", "--max-body-size", "lots"), ("--max-body-size",)),
        (("serve", "--prefix", "nope/"), ("--prefix",)),
        (("serve", "--no-such-flag"), ("--no-such-flag",)),
        (("frobnicate",), ("frobnicate",)),
    ],
)
def test_bad_flags_give_one_line_and_status_2(args, fragments):
    assert_usage_error(run(*args), *fragments)


@pytest.mark.parametrize(
    "env, fragments",
    [
        ({"MOCKBIN_PORT": "eighty"}, ("MOCKBIN_PORT", "eighty")),
        ({"MOCKBIN_THREADS": "-1"}, ("MOCKBIN_THREADS",)),
        ({"MOCKBIN_MAX_BODY_SIZE": "1 parsec"}, ("MOCKBIN_MAX_BODY_SIZE",)),
        ({"MOCKBIN_PREFIX": "relative"}, ("MOCKBIN_PREFIX",)),
    ],
)
def test_bad_env_vars_give_one_line_and_status_2(env, fragments):
    assert_usage_error(run("serve", env=env), *fragments)


def test_busy_port_gives_one_line_and_status_2_quickly():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen()
        port = sock.getsockname()[1]
        started = time.monotonic()
        result = run("serve", "--port", str(port))
        elapsed = time.monotonic() - started
    assert_usage_error(result, f"127.0.0.1:{port}", "address already in use")  # one line: no retry messages
    # Bare gunicorn retries the bind five times, a second apart: no run that retries ends within 5 s.
    assert elapsed < 5, "must not retry like bare gunicorn does"


def test_unknown_host_gives_one_line_and_status_2():
    assert_usage_error(run("serve", "--host", "no-such-host.invalid", "--port", "0"), "no-such-host.invalid")


def test_flag_wins_over_env_var_which_wins_over_default():
    port_flag, port_env = free_port(), free_port()
    argv = [sys.executable, "-m", "mockbin", "serve", "--port", str(port_flag), "--log-level", "warning"]
    with ServerProcess(argv, port_flag, env={"MOCKBIN_PORT": str(port_env), "MOCKBIN_PREFIX": "/env"}) as server:
        # The flag chose the port; the env var still set the prefix.
        assert requests.get(f"{server.url}/env/get", timeout=10).status_code == 200
        assert requests.get(f"{server.url}/get", timeout=10).status_code == 404
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{HOST}:{port_env}/env/get", timeout=2)


def test_settings_precedence_in_python():
    settings = Settings.from_sources({"port": 9000, "host": None}, {"MOCKBIN_PORT": "7000", "MOCKBIN_HOST": "::1"})
    assert settings.port == 9000 and settings.host == "::1"
    assert Settings.from_sources({}, {}).port == 8080
    with pytest.raises(SettingsError, match="MOCKBIN_WORKERS"):
        Settings.from_sources({}, {"MOCKBIN_WORKERS": "many"})


def test_sizes_accept_units():
    env = {"MOCKBIN_MAX_BODY_SIZE": "2MiB"}
    assert Settings.from_env(env).max_body_size == 2 * 1024 * 1024
    assert Settings.from_env({"MOCKBIN_MAX_BODY_SIZE": "1gb"}).max_body_size == 10**9


def test_serves_prefix_and_excluded_headers_over_a_socket():
    port = free_port()
    argv = mockbin_argv(port, "--prefix", "/httpbin", "--exclude-headers", "X-Amzn-*, fly-region")
    with ServerProcess(argv, port) as server:
        answer = requests.get(
            server.url + "/httpbin/anything/x?a=1",
            headers={"X-Amzn-Trace-Id": "Root=1", "Fly-Region": "ams", "X-Kept": "yes"},
            timeout=10,
        )
        assert answer.status_code == 200
        echoed = answer.json()
        assert echoed["url"] == f"{server.url}/httpbin/anything/x?a=1"
        assert "X-Amzn-Trace-Id" not in echoed["headers"] and "Fly-Region" not in echoed["headers"]
        assert echoed["headers"]["X-Kept"] == "yes"
        outside = requests.get(server.url + "/anything/x", timeout=10)
        assert outside.status_code == 404
        assert outside.headers["Access-Control-Allow-Origin"] == "*"


def test_port_zero_picks_a_free_port_and_logs_it():
    argv = [sys.executable, "-m", "mockbin", "serve", "--port", "0", "--log-level", "info"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if "Listening at: http://127.0.0.1:" in line:
                port = int(line.split("127.0.0.1:")[1].split()[0])
        assert port, "gunicorn did not log the address it listens on"
        assert requests.get(f"http://{HOST}:{port}/get", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def test_bare_mockbin_prints_its_help_not_an_error():
    result = run()
    assert result.returncode == 0, result
    assert "error" not in result.stdout + result.stderr
    assert "serve" in result.stdout and "healthcheck" in result.stdout


def test_a_bad_value_reads_the_same_from_a_flag_and_from_the_environment():
    by_flag = run("serve", "--max-body-size", "lots")
    by_env = run("serve", env={"MOCKBIN_MAX_BODY_SIZE": "lots"})
    assert by_flag.returncode == by_env.returncode == 2
    assert by_flag.stderr == by_env.stderr == (
        "mockbin: error: invalid value for --max-body-size (MOCKBIN_MAX_BODY_SIZE): "
        "'lots' is not a size (examples: 1048576, 512KiB, 100MiB)\n"
    )


@pytest.mark.parametrize(
    "args, env",
    [
        (("--store", "sqlite:///tmp/x.db"), {}),
        (("--store-max-items", "5"), {}),
        (("--require-if-match",), {}),
        ((), {"MOCKBIN_STORE_PREFIX": "/store"}),
    ],
)
def test_stateful_settings_without_the_stateful_mode_are_refused(args, env):
    assert_usage_error(run("serve", "--port", "0", *args, env=env), "stateful mode, which is off", "--stateful")


def test_help_shows_sizes_with_units():
    text = " ".join(run("serve", "--help").stdout.split())
    assert "default: 100MiB" in text and "default: 10MiB" in text and "104857600" not in text
