"""The package's shape: folders that show the layers, no import cycles, dependencies pointing one way.

The import graph is read from the source (every ``import`` statement,
including those inside functions, which defer an import but still make a
dependency), so a cycle fails here before it fails as an ImportError at
some later start-up.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set

import mockbin

PACKAGE = Path(mockbin.__file__).parent
ROOT = "mockbin"
MAX_TOP_LEVEL_MODULES = 13


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> Dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def _resolve(importer: str, is_package: bool, level: int, target: str) -> str:
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports(name: str, path: Path, known: Set[str]) -> Iterator[str]:
    """The mockbin modules *name* imports, parent packages included (importing a.b runs a first).

    A module's own ancestors are left out: every submodule "imports" its
    package, and a package may import its submodules; that is no cycle.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            base = _resolve(name, is_package, node.level, module) if node.level else module
            targets = [base]
            # ``from . import admin`` imports the submodule mockbin.admin.
            targets += [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
        for target in targets:
            if target != ROOT and not target.startswith(ROOT + "."):
                continue
            parts = target.split(".")
            for end in range(2, len(parts) + 1):  # mockbin.store.base -> mockbin.store, mockbin.store.base
                candidate = ".".join(parts[:end])
                if candidate in known and candidate != name and not name.startswith(candidate + "."):
                    yield candidate


def graph() -> Dict[str, Set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imports(name, path, known)) for name, path in found.items()}


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_relative_and_absolute_imports():
    edges = graph()
    assert "mockbin.store" in edges["mockbin.admin"]  # from .store import ...
    assert "mockbin.catalog.landing" in edges["mockbin.routes.docs"]  # from ..catalog import landing
    assert "mockbin.app" in edges["mockbin.testing.servers"]  # an import inside a function


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_at_most_thirteen_modules_at_the_top():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_the_core_imports_neither_serving_nor_testing():
    """Dependencies point one way: serving/ and testing/ use the app; the app never uses them."""
    facade = {"mockbin", "mockbin.__main__"}  # the public names and `python -m mockbin`
    for name, targets in graph().items():
        if name in facade:
            continue
        for layer in ("mockbin.serving", "mockbin.testing"):
            if not name.startswith(layer):
                assert not any(t == layer or t.startswith(layer + ".") for t in targets), (name, targets)


def test_settings_and_problems_sit_at_the_bottom():
    """Everything may use settings and problems; they use nothing but each other's leaves."""
    edges = graph()
    bottom = {"mockbin.settings", "mockbin.settings.store_urls", "mockbin.problems", "mockbin.jsonify",
              "mockbin.version"}
    for name in bottom:
        assert edges[name] <= bottom, (name, edges[name] - bottom)
