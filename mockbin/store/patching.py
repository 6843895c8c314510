"""PATCH documents: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902).

Status codes follow RFC 5789 section 2.2: a document that cannot be read is
400, one that reads fine but does not apply to the current item is 409,
one whose result would not be a JSON document is 422.  Plain
``application/json`` is treated as a merge patch (json-server users send
that), as docs/stateful.md says.

Budgets (413): a JSON Patch has at most ``--store-patch-max-operations``
operations, and its result stays within the JSON budget of the store
(``--max-json-values`` values, ``--store-max-depth`` levels).  The result is
measured *before* each operation is applied -- an ``add`` or ``copy`` grows
the document by the value it puts in place, whose size is known -- so a
chain of copies that doubles the document each time is refused while it is
still small, rather than after it has been built.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

import jsonpatch
import jsonpointer

from ..limits import json_too_deep, json_too_large
from ..problems import Problem
from ..settings import describe
from .base import Budget, loads

MERGE = "merge"
JSON_PATCH = "json-patch"
MEDIA_TYPES = {
    "application/merge-patch+json": MERGE,
    "application/json": MERGE,
    "application/json-patch+json": JSON_PATCH,
}
ACCEPT_PATCH = "application/merge-patch+json, application/json-patch+json, application/json"
OPERATIONS = {
    "add": ("value",),
    "remove": (),
    "replace": ("value",),
    "move": ("from",),
    "copy": ("from",),
    "test": ("value",),
}
_POINTER = re.compile(r"(/([^~/]|~[01])*)*")


def patch_kind(content_type: Optional[str]) -> str:
    """MERGE or JSON_PATCH for a request's Content-Type, else a 415 problem."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    kind = MEDIA_TYPES.get(media)
    if kind is None:
        shown = media or "no Content-Type"
        raise Problem(
            "unsupported-patch-format",
            f"PATCH with {shown} is not supported; send application/merge-patch+json "
            "(RFC 7396) or application/json-patch+json (RFC 6902).",
            {"Accept-Patch": ACCEPT_PATCH},
        )
    return kind


def read_document(kind: str, body: bytes, budget: Budget, max_operations: int) -> Any:
    """The parsed patch document, checked for shape and size; 400 when malformed, 413 when too large."""
    budget.check(body, "The patch document")
    try:
        document: Any = loads(body)
    except RecursionError:
        raise _malformed("the patch document is nested too deeply") from None
    except ValueError as exc:
        raise _malformed(f"the body is not valid JSON ({_reason(exc)})") from None
    if kind == JSON_PATCH:
        _check_operations(document)
        if len(document) > max_operations:
            raise Problem(
                "patch-too-large",
                f"the patch has {len(document)} operations, more than the {max_operations} allowed by "
                f"{describe('store_patch_max_operations')}",
                limit=max_operations,
            )
    return document


def measure(value: Any) -> Tuple[int, int]:
    """``(values, depth)`` of a parsed JSON value, member names counted; no recursion.

    A scalar is one value of depth 0; ``[1]`` is two values of depth 1.
    """
    values, depth = 0, 0
    stack: List[Tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        values += 1
        if isinstance(item, dict):
            depth = max(depth, level + 1)
            values += len(item)  # the member names
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            depth = max(depth, level + 1)
            stack.extend((child, level + 1) for child in item)
    return values, depth


class Growth:
    """An upper bound of a document's size while a JSON Patch is applied to it, checked against a budget."""

    def __init__(self, values: int, depth: int, budget: Budget) -> None:
        self.values = values
        self.depth = depth
        self.budget = budget

    def place(self, path: str, values: int, depth: int) -> None:
        """A value of *values* values and *depth* levels goes to *path*: 413 if the result would be too big."""
        tokens = path.count("/")
        if tokens == 0:  # the whole document is replaced
            self.values, self.depth = values, depth
        else:
            self.values += values + 1  # +1: the member name, when the parent is an object
            self.depth = max(self.depth, tokens + depth)
        what = "The patch result"
        if self.values > self.budget.values:
            raise json_too_large(self.budget.values, what)
        if self.depth > self.budget.depth:
            raise json_too_deep(self.budget.depth, what)

    def before(self, operation: Dict[str, Any], document: Any) -> None:
        """Account for *operation*, about to be applied to *document*."""
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace"):
            self.place(path, *measure(operation["value"]))
        elif op in ("copy", "move"):
            source = operation["from"]
            if source == "":
                values, depth = self.values, self.depth
            else:
                try:
                    values, depth = measure(jsonpointer.resolve_pointer(document, source))
                except jsonpointer.JsonPointerException:
                    return  # the operation fails as it is applied: 409
            if op == "copy":
                self.place(path, values, depth)
            elif path == "":  # move a member to the root: it becomes the document
                self.values, self.depth = values, depth
            else:  # move: the same values, maybe deeper
                self.depth = max(self.depth, path.count("/") + depth)
                if self.depth > self.budget.depth:
                    raise json_too_deep(self.budget.depth, "The patch result")


def apply(kind: str, target: Any, document: Any, budget: Budget, size: Tuple[int, int]) -> Any:
    """The patched value (*target*, freshly parsed, is changed in place); *size* is its (values, depth)."""
    if kind == MERGE:
        return _merge_within(target, document, budget, size)
    result = target
    growth = Growth(*size, budget)
    for index, operation in enumerate(document):
        where = f"operation {index} ({operation['op']} {operation['path']})"
        growth.before(operation, result)
        try:
            result = jsonpatch.JsonPatch([operation]).apply(result, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise Problem(
                "patch-conflict", f"{where} failed: the value there differs from the tested value"
            ) from None
        except (
            jsonpatch.JsonPatchConflict,
            jsonpointer.JsonPointerException,
            TypeError,
            KeyError,
            IndexError,
        ) as exc:
            raise Problem(
                "patch-conflict", f"{where} does not apply to the stored item: {exc}"
            ) from None
        except jsonpatch.InvalidJsonPatch as exc:
            raise _malformed(f"{where}: {exc}") from None
    return result


def _merge_within(target: Any, patch: Any, budget: Budget, size: Tuple[int, int]) -> Any:
    """A merge patch whose result stays within *budget* (it is never deeper than its two inputs)."""
    result = merge_patch(target, patch)
    patch_values, _ = measure(patch)
    if size[0] + patch_values > budget.values and measure(result)[0] > budget.values:
        raise json_too_large(budget.values, "The patch result")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge member by member, ``null`` removes, anything else replaces.

    Iterative (a stack of objects still to merge), so the depth of the
    documents does not meet Python's recursion limit.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    stack = [(result, patch)]
    while stack:
        into, changes = stack.pop()
        for name, value in changes.items():
            if value is None:
                into.pop(name, None)
            elif isinstance(value, dict):
                current = into.get(name)
                merged = dict(current) if isinstance(current, dict) else {}
                into[name] = merged
                stack.append((merged, value))
            else:
                into[name] = value
    return result


def _check_operations(document: Any) -> None:
    if not isinstance(document, list):
        raise _malformed("a JSON Patch document is an array of operations")
    for index, operation in enumerate(document):
        where = f"operation {index}"
        if not isinstance(operation, dict):
            raise _malformed(f"{where} is not an object")
        op = operation.get("op")
        if op not in OPERATIONS:
            raise _malformed(f"{where} has op {op!r}; expected one of {', '.join(OPERATIONS)}")
        for member in ("path",) + OPERATIONS[op]:
            if member not in operation:
                raise _malformed(f"{where} ({op}) has no {member!r} member")
        for member in ("path", "from"):
            if member in operation and not _is_pointer(operation[member]):
                raise _malformed(f"{where} has {member} {operation[member]!r}, not a JSON Pointer (RFC 6901)")
        if op == "remove" and operation["path"] == "":
            raise Problem(
                "patch-result-invalid", f"{where} removes the whole document; the result would be empty"
            )


def _is_pointer(value: Any) -> bool:
    return isinstance(value, str) and _POINTER.fullmatch(value) is not None


def _malformed(detail: str) -> Problem:
    return Problem("malformed-patch", detail)


def _reason(exc: ValueError) -> str:
    return str(exc).split(":", 1)[0] if isinstance(exc, UnicodeDecodeError) else str(exc)
