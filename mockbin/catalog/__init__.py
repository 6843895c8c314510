"""The catalogue of everything the app serves, for the landing page and ``/openapi.json``.

Both documents are generated from this one list, so they cannot disagree
with each other or with the server.  The list is the route table
(:func:`mockbin.routes.route_table`: summaries, sections, example URLs) in
its own order, followed by any other rule of the app's URL map (mockbin's
own ``/__mockbin`` API, features mounted as blueprints), described from its
view function.  Nothing here knows a particular route, and nothing here
imports the routes: :func:`mockbin.routes.register` publishes the table on
the app (:func:`publish`), where the documentation routes find it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from flask import Flask

ROUTE_TABLE = "mockbin.route_table"

AUTOMATIC_METHODS = frozenset(("HEAD", "OPTIONS"))  # Flask adds them to every rule
# <converter(args):name> or <name>, as Werkzeug writes rule variables.
_VARIABLE = re.compile(r"<(?:(?P<converter>[A-Za-z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[A-Za-z_]\w*)>")


@dataclass(frozen=True)
class Variable:
    name: str
    converter: str  # "default", "int", "float", "path", "any", "uuid", ...
    args: str


@dataclass(frozen=True)
class Entry:
    """One served URL rule, as the documentation shows it."""

    rule: str
    methods: Tuple[str, ...]  # declared methods, without the automatic HEAD and OPTIONS
    summary: str
    section: str
    example: Optional[str]

    @property
    def variables(self) -> Tuple[Variable, ...]:
        return tuple(
            Variable(m.group("name"), m.group("converter") or "default", m.group("args") or "")
            for m in _VARIABLE.finditer(self.rule)
        )

    @property
    def link(self) -> Optional[str]:
        """A URL to try the route: its example if it has one, else the rule when it has no variables."""
        return self.example or (None if self.variables else self.rule)


def first_line(text: Optional[str]) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def module_summary(module_name: str) -> str:
    """The first line of a module's docstring: what a section is about."""
    module = sys.modules.get(module_name)
    return first_line(getattr(module, "__doc__", None))


def openapi_path(rule: str) -> str:
    """``/links/<int:n>/<int:offset>`` -> ``/links/{n}/{offset}`` (OpenAPI path templating)."""
    return _VARIABLE.sub(lambda m: "{" + m.group("name") + "}", rule)


def publish(app: Flask, routes: Sequence[Any]) -> None:
    """Make *routes* (the route table) the catalogue's first part for *app*."""
    app.extensions[ROUTE_TABLE] = tuple(routes)


def _route_table(app: Flask) -> Sequence[Any]:
    table: Sequence[Any] = app.extensions.get(ROUTE_TABLE, ())
    return table


def _declared(methods: Any) -> Tuple[str, ...]:
    return tuple(m for m in methods if m not in AUTOMATIC_METHODS)


def _from_route(route: Any) -> Entry:
    return Entry(route.rule, _declared(route.methods), route.summary, route.section, route.example)


def entries(app: Flask) -> List[Entry]:
    """Every rule the app serves: the route table first, then the rest of the URL map."""
    table = [_from_route(route) for route in _route_table(app)]
    known = {entry.rule for entry in table}
    extra = []
    for rule in app.url_map.iter_rules():
        if rule.rule in known:
            continue
        view = app.view_functions.get(rule.endpoint)
        section = rule.endpoint.split(".", 1)[0] if "." in rule.endpoint else "other"
        methods = tuple(m for m in sorted(rule.methods or ()) if m not in AUTOMATIC_METHODS)
        extra.append(Entry(rule.rule, methods, first_line(getattr(view, "__doc__", None)), section, None))
    return table + extra


def section_summaries(app: Flask) -> Dict[str, str]:
    """Section name -> one line about it, in order of first appearance."""
    summaries: Dict[str, str] = {}
    for route in _route_table(app):
        summaries.setdefault(route.section, module_summary(route.view.__module__))
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        section = rule.endpoint.split(".", 1)[0] if "." in rule.endpoint else "other"
        if section not in summaries:
            summaries[section] = module_summary(getattr(view, "__module__", ""))
    return summaries
