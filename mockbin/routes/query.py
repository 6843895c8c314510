"""Reading query parameters the way httpbin does, and refusing bad ones clearly.

httpbin reads most parameters of its dynamic routes through a dictionary
whose ``in`` test and ``[]`` lookup ignore case but whose ``.get`` does not,
so ``/bytes?SEED=1`` is seeded while ``/drip?Numbytes=2`` is ignored;
:func:`lookup` and :func:`lookup_exact` keep that split.  Numbers are parsed
with Python's own ``int``/``float`` (whitespace, ``_`` and ``+`` allowed),
as httpbin does, but where httpbin answers a failed parse with a 500 page,
mockbin raises a :class:`~mockbin.problems.Problem`: a 400 ``application/problem+json``
naming the parameter, the value and what was expected.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from ..problems import Problem
from ..settings import SettingsError, describe, env_name, flag_name, parse_duration, parse_go_duration, settings_of


def invalid(name: str, value: str, expected: str) -> Problem:
    """The parameter *name* has a value that is not *expected*."""
    return Problem(
        "invalid-parameter",
        f"{name} must be {expected}; got {value!r}.",
        parameter=name,
        value=value,
    )


def over_limit(what: str, amount: str, setting: str, limit: Any, unit: str, **extra: Any) -> Problem:
    """A request asks for more than the *setting* allows."""
    shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
    return Problem(
        "limit-exceeded",
        f"{what} of {amount} exceeds the limit of {shown} {unit} set by {describe(setting)}.",
        setting=flag_name(setting),
        env=env_name(setting),
        limit=limit,
        **extra,
    )


def lookup(args: "MultiDict[str, str]", name: str) -> Optional[str]:
    """The first value of the first key equal to *name* ignoring case (httpbin's ``[]``)."""
    for key, value in args.items():
        if key.lower() == name:
            return value
    return None


def lookup_exact(args: "MultiDict[str, str]", name: str) -> Optional[str]:
    """The first value of *name*, case-sensitively (httpbin's ``.get``)."""
    return args.get(name)


def to_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(name, value, "a whole number") from None


def to_float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise invalid(name, value, "a number") from None


def to_float_or_duration(name: str, value: str) -> float:
    """httpbin's ``float``; where that fails, a duration with a unit as go-httpbin reads it (``500ms``, ``1.5s``).

    Every value httpbin accepts keeps its meaning (``1e-2``, `` 1_0 ``, ``inf``,
    ``nan``); only text httpbin cannot read (it answers 500) gains one.
    """
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parse_go_duration(value)
    except SettingsError:
        raise invalid(name, value, "a number of seconds or a duration such as 500ms or 1.5s") from None


def to_seconds(name: str, value: str) -> float:
    """A finite, non-negative number of seconds (httpbin's ``float``, minus its crashes, plus Go durations)."""
    seconds = to_float_or_duration(name, value)
    if math.isnan(seconds) or seconds < 0:
        raise invalid(name, value, "a number of seconds, 0 or more")
    return seconds


def to_duration(name: str, value: str) -> float:
    """Seconds as a plain number or with a unit (``1.5``, ``1500ms``, ``2s``), for mockbin's own routes."""
    try:
        return parse_duration(value)
    except SettingsError:
        raise invalid(name, value, "a duration such as 1.5, 1500ms or 2s") from None


def check_duration(request: Request, what: str, seconds: float, **extra: Any) -> None:
    """Refuse a request that would take longer than ``--max-duration``."""
    limit = settings_of(request.environ).max_duration
    if seconds > limit + 1e-9:  # 0.1 + 0.2 is just above 0.3 in binary floating point
        raise over_limit(what, f"{seconds:g} seconds", "max_duration", limit, "seconds", **extra)


def check_size(request: Request, what: str, size: int, **extra: Any) -> None:
    """Refuse a request that would generate more than ``--max-generated-size`` bytes."""
    limit = settings_of(request.environ).max_generated_size
    if size > limit:
        raise over_limit(what, f"{size} bytes", "max_generated_size", limit, "bytes", **extra)
