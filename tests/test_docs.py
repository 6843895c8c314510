"""The documents make promises the tests keep: every cited test exists, every setting is documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from mockbin.settings import env_name, fields

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def deviation_rows(text: str):
    """Table rows of the per-route-family sections of docs/compatibility.md."""
    for section in re.split(r"\n## ", text)[1:]:
        title = section.splitlines()[0]
        for line in section.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if line.startswith("|") and len(cells) >= 4 and not set(cells[0]) <= set("- ") and cells[0] not in ("situation", "request", "`type`"):
                yield title, line


def cited_tests(cell: str, current=None):
    """``tests/test_x.py::name``, ``test_x.py::name``, ``::name`` (the file cited last) and bare files."""
    for path, name in re.findall(r"`(?:tests/)?((?:(?:store|routes|serving|testing)/)?test_\w+\.py)?(?:::(\w+))?`", cell):
        current = path or current
        if current:
            yield current, name or None


def test_every_deviation_cites_a_test_that_exists():
    text = (DOCS / "compatibility.md").read_text()
    rows = list(deviation_rows(text))
    assert len(rows) >= 40
    previous, section = [], None
    for title, row in rows:
        if title != section:
            previous, section = [], title
        cell = row.rsplit("|", 2)[-2].strip()
        last_file = previous[-1][0] if previous else None
        # "same" (or "same test", "same, and `::x`") repeats the test(s) of the row above.
        citations = (previous if cell.startswith("same") else []) + list(cited_tests(cell, last_file))
        assert citations, f"{title}: a deviation without a test: {row[:120]}"
        for path, name in citations:
            source = ROOT / "tests" / path
            assert source.exists(), (title, path)
            if name:
                # A test is a function, or a name bound at module level (differential_tests()).
                defined = rf"^(def {name}\(|[\w, ]*\b{name}\b[\w, ]* = )"
                assert re.search(defined, source.read_text(), re.M), (title, path, name)
        previous = citations


def test_every_setting_is_documented_in_configuration_md():
    text = (DOCS / "configuration.md").read_text()
    missing = [env_name(f.name) for f in fields() if env_name(f.name) not in text]
    assert not missing, f"docs/configuration.md does not mention {missing}"


def test_generated_tables_match_the_code():
    """README's endpoints, docker.md's variables, compatibility.md's problem types."""
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "doc_tables.py"), "--check"],
                           cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_every_problem_kind_has_one_status_and_title():
    from mockbin.problems import KINDS, Problem

    for kind, spec in KINDS.items():
        problem = Problem(kind, "detail")
        assert problem.code == spec.status and 400 <= spec.status < 600
        document = json.loads(problem.get_response().get_data())
        assert document == {"type": f"urn:mockbin:problem:{kind}", "title": spec.title,
                            "status": spec.status, "detail": "detail"}


def test_install_instructions_name_something_installable():
    """mockbin is installed from a clone (`pip install .`); no page or message sends users to an index."""
    sources = [*DOCS.glob("*.md"), ROOT / "README.md", ROOT / "Dockerfile", *(ROOT / "mockbin").rglob("*.py")]
    wrong = re.compile(r"pip install ['\"]?mockbin\b")
    offenders = [f"{path.relative_to(ROOT)}: {line.strip()}" for path in sources
                 for line in path.read_text(encoding="utf-8").splitlines() if wrong.search(line)]
    assert not offenders, offenders
