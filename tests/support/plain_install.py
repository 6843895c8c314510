"""After a plain install of mockbin (no extras), pytest-httpbin's HTTPS fixtures work.

trustme is a dependency of mockbin's own, so a suite written for
pytest-httpbin (``httpbin_secure``, ``httpbin_both``, ``httpbin_ca_bundle``)
runs after the install its users would do.  tests/test_readme.py makes that
install with the README's first command in a fresh virtual environment;
:func:`check_https_fixtures` adds pytest (which any test suite brings) and
runs an HTTPS fixture test there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict

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


def check_https_fixtures(python: Path, env: Dict[str, str], suite: Path) -> None:
    env = {k: v for k, v in env.items() if not k.startswith("PYTEST_")}
    listed = subprocess.run([str(python), "-m", "pip", "list"], capture_output=True, text=True, env=env).stdout.lower()
    assert "trustme" in listed and "granian" not in listed and "httpbin" not in listed, listed
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "pytest"], capture_output=True, text=True, env=env, timeout=600
    )
    assert install.returncode == 0, install.stderr[-3000:]
    suite.mkdir()
    (suite / "test_https.py").write_text(HTTPS_TEST)
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        capture_output=True, text=True, env=env, cwd=suite, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout  # httpbin_both runs twice
