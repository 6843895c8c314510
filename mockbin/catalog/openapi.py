"""The OpenAPI 3.1 description of mockbin, generated from the route catalogue.

Every served rule becomes a path (Werkzeug variables become ``{name}``
parameters typed by their converter), every declared method an operation
tagged with its section and summarised by its handler's docstring.  HEAD and
OPTIONS, which every route answers automatically, are described once in
``info.description`` rather than repeated on every path.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Set

from flask import Flask
from werkzeug.exceptions import HTTPException

from ..version import __version__
from . import Entry, Variable, entries, openapi_path, section_summaries

OPENAPI_VERSION = "3.1.0"
DESCRIPTION = (
    "An HTTP request and response service you run yourself, answering as httpbin 0.10.4 does. "
    "Every route that allows GET also answers HEAD, and every route answers OPTIONS as a CORS "
    "preflight."
)


def schema(variable: Variable) -> Dict[str, Any]:
    """The JSON Schema of a path variable, from its Werkzeug converter."""
    if variable.converter == "int":
        return {"type": "integer", "minimum": 0}
    if variable.converter == "float":
        return {"type": "number", "minimum": 0}
    if variable.converter == "uuid":
        return {"type": "string", "format": "uuid"}
    if variable.converter == "any":
        choices = [c.strip().strip("'\"") for c in variable.args.split(",") if c.strip()]
        return {"type": "string", "enum": choices}
    return {"type": "string"}


def example_values(app: Flask, entry: Entry) -> Dict[str, Any]:
    """The variable values of the entry's example URL, as the router parses them."""
    if not entry.example:
        return {}
    adapter = app.url_map.bind("localhost")
    try:
        path = entry.example.split("?", 1)[0]
        rule, values = adapter.match(path, method=entry.methods[0], return_rule=True)
    except HTTPException:
        return {}
    return dict(values) if rule.rule == entry.rule else {}


def parameters(app: Flask, entry: Entry) -> List[Dict[str, Any]]:
    examples = example_values(app, entry)
    described = []
    for variable in entry.variables:
        parameter: Dict[str, Any] = {
            "name": variable.name,
            "in": "path",
            "required": True,
            "schema": schema(variable),
        }
        if variable.converter == "path":
            parameter["description"] = "The rest of the path; it may contain slashes."
        if variable.name in examples:
            parameter["example"] = examples[variable.name]
        described.append(parameter)
    return described


def operation_id(method: str, rule: str, taken: Set[str]) -> str:
    base = method.lower() + "_" + (re.sub(r"[^A-Za-z0-9]+", "_", rule).strip("_") or "index")
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def document(app: Flask, server_url: Optional[str] = None) -> Dict[str, Any]:
    """The whole OpenAPI document; *server_url* is where the app is mounted (``--prefix``)."""
    paths: Dict[str, Any] = {}
    taken: Set[str] = set()
    for entry in entries(app):
        item = paths.setdefault(openapi_path(entry.rule), {})
        params = parameters(app, entry)
        if params:
            item["parameters"] = params
        for method in entry.methods:
            item[method.lower()] = {
                "operationId": operation_id(method, entry.rule, taken),
                "summary": entry.summary,
                "tags": [entry.section],
                "responses": {"default": {"description": "As httpbin 0.10.4 answers; see the summary."}},
            }
    tags = [{"name": name, "description": text} for name, text in section_summaries(app).items()]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "mockbin",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server_url or "/"}],
        "tags": tags,
        "paths": paths,
    }
