"""docs/faults.md's retry example runs as written, and fails without its Idempotency-Key.

The block is copied from the document into a temporary project and run by
pytest with the plugin, as a user would paste it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from support.inner_pytest import UNRELATED_PLUGINS

DOC = Path(__file__).resolve().parents[2] / "docs" / "faults.md"


def example() -> str:
    text = DOC.read_text(encoding="utf-8")
    marker = text.index("<!-- faults-example:")
    (block,) = re.findall(r"```python\n(.*?)```", text[marker:], re.S)[:1]
    return block


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in [name for name in os.environ if name.startswith("MOCKBIN_")] + ["PYTEST_ADDOPTS"]:
        monkeypatch.delenv(name, raising=False)
    return pytester


def test_the_retry_example_passes(project):
    project.makepyfile(test_retry=example())
    project.runpytest_subprocess("-p", "no:cacheprovider", *UNRELATED_PLUGINS, "-W", "error").assert_outcomes(passed=1)


def test_the_example_catches_a_client_without_idempotency_key(project):
    without_key = example().replace(""",
                          headers={"Idempotency-Key": '"order-7f3a"'}, timeout=5)""", ", timeout=5)")
    assert without_key != example()
    project.makepyfile(test_retry=without_key)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", *UNRELATED_PLUGINS, "-W", "error")
    result.assert_outcomes(failed=1)
    assert "Idempotent-Replayed" in result.stdout.str()
