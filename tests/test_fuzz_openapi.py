"""No request generated from mockbin's own OpenAPI document gets a 5xx.

schemathesis reads /openapi.json from a live server and sends over a
thousand generated requests (path parameters of every type, every method
each route declares, malformed values included).  Routes whose job is to
answer 5xx on request (/status/<codes>, /unstable) are left out, and so are
those whose job is to break the connection (/fault/*: a reset or a hang is
their answer, which the check would count as a server error) and the fault
rules' admin API (a rule it managed to add would break the requests after
it); redirects are not followed (a /redirect/100000 chain is legitimate,
not a loop).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.servers import ServerProcess, free_port, mockbin_argv


@pytest.mark.slow
def test_generated_requests_never_get_a_server_error(tmp_path):
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    assert st, "schemathesis is part of the test extra"
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--max-duration", "0.2"), port) as server:
        run = subprocess.run(
            [
                st, "run", f"{server.url}/openapi.json",
                "--checks", "not_a_server_error",
                "--max-examples", "10",
                "--workers", "2",
                "--seed", "1",
                "--max-redirects", "0",
                "--request-timeout", "5",
                "--exclude-path", "/unstable",
                # One alternation: repeated --exclude-path-regex options did not add up here.
                "--exclude-path-regex", "^/status/|^/fault/|^/__mockbin/faults",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
        log = server.output()
    assert run.returncode == 0, run.stdout[-6000:]
    assert "Traceback" not in log, log[-6000:]
