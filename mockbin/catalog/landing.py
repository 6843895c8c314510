"""The landing page: every route, grouped by section, with its summary and a link to try it.

Generated from the route catalogue (see :mod:`mockbin.catalog`), so a new
route appears here the moment it is in the table.  The page is one
self-contained HTML document: its only style is inline and every link points
back into this server (under ``--prefix`` when one is set), so it works
offline and behind any proxy.
"""

from __future__ import annotations

from html import escape
from itertools import groupby
from typing import List, Tuple

from flask import Flask

from ..version import __version__
from . import Entry, entries, section_summaries

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.3rem; border-bottom: 1px solid #d8d8de; text-transform: capitalize; }
p.section { margin: 0 0 0.6rem; color: #55555c; }
table { border-collapse: collapse; width: 100%; }
td { padding: 0.2rem 0.6rem 0.2rem 0; vertical-align: top; }
td.methods { font: 12px/1.9 ui-monospace, monospace; color: #55555c; white-space: nowrap; }
td.rule { font-family: ui-monospace, monospace; white-space: nowrap; }
a { color: #0b57a4; }
"""


def methods_label(methods: Tuple[str, ...]) -> str:
    return "ANY" if len(methods) > 3 else " ".join(methods)


def row(entry: Entry, root: str) -> str:
    rule = escape(entry.rule)
    link = entry.link
    target = f'<a href="{escape(root + link)}">{rule}</a>' if link else rule
    return (
        f'<tr><td class="methods">{escape(methods_label(entry.methods))}</td>'
        f'<td class="rule">{target}</td><td>{escape(entry.summary)}</td></tr>'
    )


def page(app: Flask, root: str = "") -> str:
    """The landing page HTML; *root* is the mount point (``request.script_root``)."""
    summaries = section_summaries(app)
    ordered = sorted(entries(app), key=lambda entry: list(summaries).index(entry.section))
    parts: List[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>mockbin: an HTTP request and response service</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>mockbin {escape(__version__)}</h1>",
        "<p>An HTTP request and response service you run yourself. It answers as httpbin 0.10.4 "
        "does, byte for byte, so test suites written against httpbin keep passing without "
        "reaching the internet. Every route below is live on this server; routes that allow GET "
        "also answer HEAD, and every route answers OPTIONS as a CORS preflight.</p>",
        f'<p>Machine-readable description: <a href="{escape(root)}/openapi.json">/openapi.json</a> '
        "(OpenAPI 3.1).</p>",
    ]
    for section, group in groupby(ordered, key=lambda entry: entry.section):
        parts.append(f'<h2 id="{escape(section)}">{escape(section)}</h2>')
        if summaries.get(section):
            parts.append(f'<p class="section">{escape(summaries[section])}</p>')
        parts.append("<table>")
        parts.extend(row(entry, root) for entry in group)
        parts.append("</table>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
