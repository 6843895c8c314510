"""After a plain ``pip install mockbin`` (no extras), the HTTPS fixtures work.

trustme is a dependency of mockbin's own, so a suite written for
pytest-httpbin (``httpbin_secure``, ``httpbin_both``, ``httpbin_ca_bundle``)
runs after the install its users would do.  The check builds the wheel,
installs it without extras into a fresh virtual environment (with pytest,
which any test suite brings) and runs an HTTPS fixture test there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HTTPS_TEST = '''
import json
import os
import ssl
import urllib.request


def test_secure_fixture_answers_over_https(httpbin_secure, httpbin_ca_bundle):
    # As pytest-httpbin's, httpbin_ca_bundle points REQUESTS_CA_BUNDLE at the CA.
    context = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
    with urllib.request.urlopen(httpbin_secure.url + "/get?plain=install", context=context) as answer:
        assert json.load(answer)["args"] == {"plain": "install"}
    assert httpbin_secure.url.startswith("https://")


def test_both_fixture_serves_https_too(httpbin_both, httpbin_ca_bundle):
    if httpbin_both.url.startswith("https://"):
        context = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
        with urllib.request.urlopen(httpbin_both.url + "/get", context=context) as answer:
            assert answer.status == 200
'''


@pytest.mark.slow
def test_wheel_without_extras_runs_https_fixtures(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = wheels.glob("mockbin-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKBIN_", "PYTEST_")) and k != "VIRTUAL_ENV"}
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(wheel), "pytest"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run([python, "-m", "pip", "list"], capture_output=True, text=True, env=env).stdout.lower()
    assert "trustme" in listed and "granian" not in listed and "httpbin" not in listed
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_https.py").write_text(HTTPS_TEST)
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        capture_output=True, text=True, env=env, cwd=suite, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout  # httpbin_both runs twice
