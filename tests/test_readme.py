"""The README's two set-up commands work as written, as a new user would run them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from support.plain_install import check_https_fixtures
from support.servers import ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent


def readme_commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.*?)\n```", text, re.S)


def test_readme_starts_with_exactly_two_set_up_commands():
    text = (ROOT / "README.md").read_text()
    before_prose = text.split("\n\n", 3)
    assert before_prose[0].startswith("# mockbin")
    blocks = readme_commands()
    assert len(blocks) >= 2
    first, second = blocks[0], blocks[1]
    assert "\n" not in first and "\n" not in second
    assert text.index(first) < text.index(second) < text.index("\n\n", text.index(second))
    assert "mockbin serve" in first and "pytest" in second


def test_ci_runs_the_readmes_test_command():
    second = readme_commands()[1]
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert second in script


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


@pytest.mark.slow
def test_first_command_installs_and_serves_in_a_fresh_venv(tmp_path):
    """The README's first command, as a new user runs it; the plain install it makes runs HTTPS fixtures."""
    source = tmp_path / "src"
    for name in tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_") and k != "VIRTUAL_ENV"}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    port = free_port()
    env["MOCKBIN_PORT"] = str(port)  # the default 8080 may be taken on a shared machine
    command = readme_commands()[0]
    server = ServerProcess(["bash", "-c", f"cd {source} && {command}"], port, env=env)
    try:
        server.start(timeout=300)  # includes pip downloading Flask, Werkzeug and gunicorn
        answer = requests.get(f"http://127.0.0.1:{port}/get?from=readme", timeout=10)
        assert answer.status_code == 200
        assert answer.json()["args"] == {"from": "readme"}
        installed = subprocess.run(
            [str(env_dir / "bin" / "python"), "-c", "import mockbin, sys; print(mockbin.__file__)"],
            capture_output=True, text=True, env=env, cwd=tmp_path,
        )
        assert str(env_dir) in installed.stdout, "mockbin must run from the fresh install"
    finally:
        server.stop()
    # That install has no extras: pytest-httpbin's HTTPS fixtures must work in it all the same.
    check_https_fixtures(env_dir / "bin" / "python", env, tmp_path / "suite")



