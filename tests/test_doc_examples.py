"""The shell examples of the README and docs/stateful.md print what the pages show.

Each page's ```console transcripts run in one bash session in order, as a
reader would type them, against real servers (the README starts its own
with `mockbin serve ... &`; the stateful page assumes one is running).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from support.doc_examples import check_page
from support.inner_pytest import UNRELATED_PLUGINS
from support.servers import ServerProcess, free_port, mockbin_argv

ROOT = Path(__file__).resolve().parent.parent


def shell_env() -> dict:
    """The environment with this interpreter's scripts (``mockbin``) first on PATH."""
    return dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])


def test_readme_examples_print_what_the_readme_shows():
    check_page(ROOT / "README.md", {"8080": str(free_port()), "8081": str(free_port())}, env=shell_env())


def test_stateful_examples_print_what_docs_stateful_shows_in_page_order():
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--stateful"), port):
        check_page(ROOT / "docs" / "stateful.md", {"8080": str(port)}, env=shell_env())


# -- sidecar examples ----------------------------------------------------------

YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def yaml_blocks(path: Path) -> List[Any]:
    return [yaml.safe_load(block) for block in YAML_BLOCK.findall(path.read_text(encoding="utf-8"))]


def mockbin_services(document: Any) -> Iterator[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """``(mockbin service, all services)`` of a compose file or of each GitHub Actions job."""
    if isinstance(document, dict) and "services" in document:
        yield document["services"]["mockbin"], document["services"]
    for job in (document or {}).get("jobs", {}).values() if isinstance(document, dict) else ():
        if "mockbin" in job.get("services", {}):
            yield job["services"]["mockbin"], {}


def journal_on(environment: Dict[str, Any]) -> bool:
    return str(environment.get("MOCKBIN_JOURNAL", "")).lower() in ("1", "true", "yes", "on")


@pytest.mark.parametrize("page", ["README.md", "docs/docker.md"])
def test_every_sidecar_example_records_requests(page: str):
    """The fixtures' journal assertions need --journal on the sidecar; test services must be runnable."""
    found = 0
    for document in yaml_blocks(ROOT / page):
        for mockbin, services in mockbin_services(document):
            found += 1
            assert journal_on(mockbin.get("environment") or mockbin.get("env") or {}), (page, mockbin)
            for name, service in services.items():
                assert "image" in service or "build" in service, (page, name)
    for block in YAML_BLOCK.findall((ROOT / page).read_text(encoding="utf-8")):
        for line in re.findall(r"^\s*(mockbin serve[^\n]*&)$", block, re.M):  # started in a CI step
            found += 1
            assert "--journal" in line, line
    assert found, f"{page} has no sidecar example"


def test_readme_pytest_example_passes_against_the_readme_sidecar(pytester: pytest.Pytester):
    """The README's sidecar configuration, run outside Docker, serves the README's pytest example."""
    (compose,) = [doc for doc in yaml_blocks(ROOT / "README.md") if "services" in doc]
    environment = {key: str(value) for key, value in compose["services"]["mockbin"]["environment"].items()}
    example = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert example is not None
    port = free_port()
    with ServerProcess(mockbin_argv(port), port, env=environment):
        pytester.makepyfile(test_readme_example=example.group(1))
        url = compose["services"]["tests"]["environment"]["MOCKBIN_URL"].replace("mockbin:8080", f"127.0.0.1:{port}")
        pytester._monkeypatch.setenv("MOCKBIN_URL", url)
        result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:cacheprovider", *UNRELATED_PLUGINS)
    result.assert_outcomes(passed=1)
