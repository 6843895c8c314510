"""PATCH documents: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902).

Status codes follow RFC 5789 section 2.2: a document that cannot be read is
400, one that reads fine but does not apply to the current item is 409,
one whose result would not be a JSON document is 422.  Plain
``application/json`` is treated as a merge patch (json-server users send
that), as docs/stateful.md says.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Optional

import jsonpatch
import jsonpointer

from .base import loads
from ..problems import Problem

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


def read_document(kind: str, body: bytes) -> Any:
    """The parsed patch document, checked for shape; 400 when malformed."""
    try:
        document = loads(body)
    except RecursionError:
        raise _malformed("the patch document is nested too deeply") from None
    except ValueError as exc:
        raise _malformed(f"the body is not valid JSON ({_reason(exc)})") from None
    if kind == JSON_PATCH:
        _check_operations(document)
    return document


def apply(kind: str, target: Any, document: Any) -> Any:
    """The patched value (*target* is left untouched)."""
    if kind == MERGE:
        return merge_patch(target, document)
    result = copy.deepcopy(target)
    for index, operation in enumerate(document):
        where = f"operation {index} ({operation['op']} {operation['path']})"
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


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge member by member, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
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
