"""``/__mockbin/faults``: add, list and remove fault rules (format: :mod:`mockbin.faults.rules`).

``POST`` adds one rule (201, ``Location`` of the rule), ``GET`` lists them
in the order they are tried, with how often each matched and fired,
``DELETE`` removes them all; ``/__mockbin/faults/<id>`` reads or removes
one.  ``POST /__mockbin/reset`` removes them too.  Rules live in the memory
of one process, so they are refused under ``--workers`` above 1, where a
rule would reach only one worker's share of the requests.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..jsonify import json_response
from ..problems import Problem
from ..settings import ADMIN_PREFIX, describe, settings_of
from .rules import RuleBook, parse_rule

EXTENSION = "mockbin.faults"

blueprint = Blueprint("fault_rules", __name__)


def book() -> RuleBook:
    rules: RuleBook = current_app.extensions[EXTENSION]
    return rules


def _document() -> Any:
    try:
        return json.loads(request.get_data() or b"null")
    except (ValueError, RecursionError) as exc:
        raise Problem("bad-fault-rule", f"The body is not a JSON rule document: {exc}.") from None


@blueprint.post("/faults")
def add_rule() -> Response:
    """Add a fault rule: which requests (method, path glob), what fault, when, how often."""
    settings = settings_of(request.environ)
    if settings.workers > 1:
        raise Problem(
            "fault-rules-one-worker",
            f"Fault rules live in the memory of one worker process; with {describe('workers')} = "
            f"{settings.workers} a rule would reach only that worker's share of the requests. "
            "Serve with --workers 1 (threads serve requests concurrently).",
        )
    rule = book().add(parse_rule(_document(), settings.max_duration))
    response = json_response(rule.to_json(), 201)
    response.headers["Location"] = f"{request.script_root}{ADMIN_PREFIX}/faults/{rule.id}"
    return response


@blueprint.get("/faults")
def list_rules() -> Response:
    """The fault rules in the order they are tried, with how often each matched and fired."""
    return json_response(book().rules())


@blueprint.delete("/faults")
def clear_rules() -> Response:
    """Remove every fault rule."""
    book().clear()
    return Response(status=204)


def _missing(rule_id: int) -> Problem:
    return Problem("no-such-fault-rule", f"There is no fault rule #{rule_id} (GET {ADMIN_PREFIX}/faults lists them).")


@blueprint.get("/faults/<int:rule_id>")
def get_rule(rule_id: int) -> Response:
    """One fault rule with its counters."""
    rule = book().get(rule_id)
    if rule is None:
        raise _missing(rule_id)
    return json_response(rule)


@blueprint.delete("/faults/<int:rule_id>")
def remove_rule(rule_id: int) -> Response:
    """Remove one fault rule."""
    if not book().remove(rule_id):
        raise _missing(rule_id)
    return Response(status=204)
