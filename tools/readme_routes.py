"""Rewrite the endpoint table in README.md from the route table.

    python tools/readme_routes.py          # rewrite in place
    python tools/readme_routes.py --check  # exit 1 if README.md is stale (tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockbin.routes import route_table  # noqa: E402

START, END = "<!-- routes:start -->", "<!-- routes:end -->"
SECTION_TITLES = {
    "methods": "HTTP methods",
    "inspection": "Request inspection",
    "response_headers": "Response inspection",
    "status": "Status codes",
    "redirects": "Redirects",
    "auth": "Auth",
    "cookies": "Cookies",
    "dynamic": "Dynamic data",
    "caching": "Caching",
    "formats": "Response formats",
    "images": "Images",
    "forms": "Forms",
    "extras": "Extras (beyond httpbin)",
    "diagnostics": "Diagnostics (beyond httpbin)",
    "docs": "Documentation",
}


def table() -> str:
    by_section = {}
    for route in route_table():
        by_section.setdefault(route.section, []).append(route)
    lines = ["| endpoint | methods | what it answers |", "| --- | --- | --- |"]
    for section in SECTION_TITLES:
        for route in by_section.pop(section, []):
            methods = ", ".join(route.methods) if len(route.methods) < 6 else "any"
            lines.append(f"| `{route.rule}` | {methods} | {route.summary} |")
    assert not by_section, f"sections without a title: {sorted(by_section)}"
    return "\n".join(lines)


def render(readme: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text()
    wanted = render(current)
    if "--check" in sys.argv:
        return 0 if current == wanted else 1
    path.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
