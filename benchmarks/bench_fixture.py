"""Fixture cost: mockbin's pytest plugin against pytest-httpbin 2.1.0.

Three measures, each in fresh interpreters, the two plugins interleaved run by
run (this machine is noisy), medians reported:

* ``first-response``: import the plugin module (what pytest does at start-up
  for every installed plugin), start the server the way the fixture does,
  and get the first ``GET /get`` answer; for HTTPS also the certificate
  (pytest-httpbin ships a static one, mockbin mints a CA per session).
* ``import``: the plugin module alone, which pytest imports in every run
  once the plugin is installed, whether a test uses the fixture or not.
* ``pytest-run``: wall time of ``pytest`` on a one-test project that asks for
  the fixture and makes one request, minus the same run without any fixture;
  the other plugin is disabled with ``-p no:...`` each time.

Needs an environment with both mockbin and pytest-httpbin installed (not the
project's own venv: the two plugins' ``httpbin`` fixtures would collide)::

    python -m venv /tmp/bench && /tmp/bench/bin/pip install '.[pytest]' pytest-httpbin==2.1.0 requests
    /tmp/bench/bin/python benchmarks/bench_fixture.py --runs 15

Install mockbin *non-editable*, like pytest-httpbin: pip compiles an installed
package's bytecode, while an editable install runs from the source tree,
whose modules are compiled again on every start when PYTHONDONTWRITEBYTECODE
is set (as on the development machines), which costs about 30 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

IMPORT_ONLY = {
    # What every pytest run pays once the plugin is installed, fixture used or not.
    # pytest itself is imported first: it is loaded before any plugin anyway.
    "pytest-httpbin": "import time, pytest; t0 = time.perf_counter(); import pytest_httpbin.plugin; "
    "print(time.perf_counter() - t0)",
    "mockbin": "import time, pytest; t0 = time.perf_counter(); import mockbin.testing.plugin; "
    "print(time.perf_counter() - t0)",
}

FIRST_RESPONSE = {
    "pytest-httpbin http": """
import time, http.client
t0 = time.perf_counter()
import pytest_httpbin.plugin
from pytest_httpbin import serve
from httpbin import app
server = serve.Server(application=app); server.start()
conn = http.client.HTTPConnection(server.host, server.port); conn.request("GET", "/get")
assert conn.getresponse().read()
elapsed = time.perf_counter() - t0
conn.close(); server.stop()
print(elapsed)
""",
    "mockbin http": """
import time, http.client
t0 = time.perf_counter()
import mockbin.testing.plugin
from mockbin.app import create_app
from mockbin.testing.livesrv import LiveServer
from mockbin.settings import Settings
server = LiveServer(create_app(Settings.from_env().replace(journal=True))).start()
conn = http.client.HTTPConnection(server.host, server.port)
conn.request("POST", "/__mockbin/reset"); conn.getresponse().read()  # what the fixture does per test
conn.request("GET", "/get")
assert conn.getresponse().read()
elapsed = time.perf_counter() - t0
conn.close(); server.stop()
print(elapsed)
""",
    "pytest-httpbin https": """
import time, http.client, ssl
t0 = time.perf_counter()
import pytest_httpbin.plugin
from pytest_httpbin import serve, certs
from httpbin import app
server = serve.SecureServer(application=app); server.start()
context = ssl.create_default_context(cafile=certs.where())
conn = http.client.HTTPSConnection(server.host, server.port, context=context); conn.request("GET", "/get")
assert conn.getresponse().read()
elapsed = time.perf_counter() - t0
conn.close(); server.stop()
print(elapsed)
""",
    "mockbin https": """
import time, http.client
t0 = time.perf_counter()
import mockbin.testing.plugin
import mockbin.testing.servers as plugin
from mockbin.app import create_app
from mockbin.testing.livesrv import LiveServer
from mockbin.settings import Settings
tls = plugin.TLS()
server = LiveServer(create_app(Settings.from_env().replace(journal=True)), ssl_context=tls.server_context).start()
conn = http.client.HTTPSConnection(server.host, server.port, context=tls.client_context())
conn.request("POST", "/__mockbin/reset"); conn.getresponse().read()
conn.request("GET", "/get")
assert conn.getresponse().read()
elapsed = time.perf_counter() - t0
conn.close(); server.stop(); tls.close()
print(elapsed)
""",
}

PROJECT = {
    "test_none.py": "def test_none():\n    pass\n",
    "test_httpbin.py": "import requests\n\ndef test_one(httpbin):\n    assert requests.get(httpbin + '/get').ok\n",
    "test_mockbin.py": "import requests\n\ndef test_one(mockbin):\n    assert requests.get(mockbin + '/get').ok\n",
    "test_httpbin_tls.py": "import requests\n\n"
    "def test_one(httpbin_secure, httpbin_ca_bundle):\n    assert requests.get(httpbin_secure + '/get').ok\n",
    "test_mockbin_tls.py": "import requests\n\n"
    "def test_one(mockbin_secure, mockbin_ca_bundle):\n"
    "    assert requests.get(mockbin_secure + '/get', verify=mockbin_ca_bundle).ok\n",
}
PYTEST_RUNS = {
    # label: (test file, plugin switched off)
    "no fixture": ("test_none.py", ["-p", "no:httpbin", "-p", "no:mockbin"]),
    "pytest-httpbin": ("test_httpbin.py", ["-p", "no:mockbin"]),
    "mockbin": ("test_mockbin.py", ["-p", "no:httpbin"]),
    "pytest-httpbin https": ("test_httpbin_tls.py", ["-p", "no:mockbin"]),
    "mockbin https": ("test_mockbin_tls.py", ["-p", "no:httpbin"]),
}


def time_snippet(python: str, code: str) -> float:
    out = subprocess.run([python, "-W", "ignore", "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def time_pytest(python: str, project: str, test_file: str, switches: List[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", *switches, test_file],
        cwd=project, check=True, capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", default=sys.executable, help="interpreter with both plugins installed")
    args = parser.parse_args()

    samples: Dict[str, List[float]] = {
        label: [] for label in [*(f"import {name}" for name in IMPORT_ONLY), *FIRST_RESPONSE, *PYTEST_RUNS]
    }
    with tempfile.TemporaryDirectory() as project:
        for name, text in PROJECT.items():
            with open(os.path.join(project, name), "w") as handle:
                handle.write(text)
        env_note = subprocess.run(
            [args.python, "-c", "import importlib.metadata as m; print(', '.join(f'{n} {m.version(n)}' for n in "
             "('mockbin', 'pytest-httpbin', 'httpbin', 'werkzeug', 'flask', 'pytest', 'trustme')))"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        for _ in range(args.runs):  # interleaved: each round measures every variant once
            for name, code in IMPORT_ONLY.items():
                samples[f"import {name}"].append(time_snippet(args.python, code))
            for label, code in FIRST_RESPONSE.items():
                samples[label].append(time_snippet(args.python, code))
            for label, (test_file, switches) in PYTEST_RUNS.items():
                samples[label].append(time_pytest(args.python, project, test_file, switches))

    print(f"versions: {env_note}; runs: {args.runs}; median (min) in ms")
    print("\nplugin import alone (paid by every pytest run once installed):")
    for name in IMPORT_ONLY:
        values = samples[f"import {name}"]
        print(f"  {name:22} {statistics.median(values) * 1000:7.1f} ({min(values) * 1000:.1f})")
    print("\nimport + server start + first response (fresh interpreter):")
    for label in FIRST_RESPONSE:
        values = samples[label]
        print(f"  {label:22} {statistics.median(values) * 1000:7.1f} ({min(values) * 1000:.1f})")
    baseline = statistics.median(samples["no fixture"])
    print(f"\npytest run of one test, minus a fixture-less run ({baseline * 1000:.0f} ms):")
    for label in ("pytest-httpbin", "mockbin", "pytest-httpbin https", "mockbin https"):
        values = samples[label]
        print(f"  {label:22} {(statistics.median(values) - baseline) * 1000:7.1f}")


if __name__ == "__main__":
    main()
