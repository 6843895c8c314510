"""Fault rules: "fail the next POST to /orders* after its handler ran", as data.

A rule document (``POST /__mockbin/faults``) says which requests it
matches, what happens to them and how often::

    {"method": "POST", "path": "/orders*", "fault": "connection-reset",
     "when": "after", "times": 1, "probability": 1, "seed": 7}

* ``method``: an HTTP method, or ``"*"``/absent for any;
* ``path``: a glob over the path below ``--prefix`` (``*`` matches any
  characters, slashes included; ``?`` one; ``[abc]`` a set), ``"*"`` if absent;
* ``fault``: a connection fault (:data:`mockbin.faults.actions.KINDS`), or
  ``{"delay": {"fixed": d}}``, ``{"delay": {"uniform": {"min": d, "max": d}}}``,
  ``{"delay": {"lognormal": {"median": d, "sigma": s}}}`` (*d* in seconds, or
  a text such as ``"250ms"``), or ``{"response": {"status": 503, "headers":
  {...}, "body": ...}}`` (a text body, or any other JSON value sent as JSON);
* ``when``: ``"before"`` the handler (nothing runs, nothing is stored) or
  ``"after"`` it (its effects are kept, its answer is replaced);
* ``times``: how many requests it fires for (absent: every one);
* ``probability``: the chance it fires for a matching request (default 1);
* ``seed``: makes the probability draws, delays and random bytes repeatable.

The rules live in the memory of one process, like the request journal;
:class:`RuleBook` keeps them in order behind a lock, so ``times`` holds
exactly under concurrent requests.  For each request the first matching
rule that fires wins.
"""

from __future__ import annotations

import fnmatch
import http
import itertools
import math
import random
import re
import threading
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..jsonify import dumps_bytes
from ..problems import Problem
from ..settings import SettingsError, describe, parse_duration, parse_go_duration
from .actions import KINDS

WHEN = ("before", "after")
DISTRIBUTIONS = ("fixed", "uniform", "lognormal")
MEMBERS = ("method", "path", "fault", "when", "times", "probability", "seed")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")


def bad_rule(detail: str, member: Optional[str] = None) -> Problem:
    if member is None:
        return Problem("bad-fault-rule", detail)
    return Problem("bad-fault-rule", detail, member=member)


@dataclass(frozen=True)
class Delay:
    """A waiting time drawn from one distribution, in seconds."""

    distribution: str
    fixed: float = 0.0
    low: float = 0.0
    high: float = 0.0
    median: float = 0.0
    sigma: float = 0.0

    def draw(self, rng: random.Random, cap: float) -> float:
        """One waiting time, never above *cap* (``--max-duration``)."""
        if self.distribution == "fixed":
            seconds = self.fixed
        elif self.distribution == "uniform":
            seconds = rng.uniform(self.low, self.high)
        else:
            seconds = rng.lognormvariate(math.log(self.median), self.sigma) if self.median > 0 else 0.0
        return min(max(seconds, 0.0), cap)

    def to_json(self) -> Dict[str, Any]:
        if self.distribution == "fixed":
            return {"fixed": self.fixed}
        if self.distribution == "uniform":
            return {"uniform": {"min": self.low, "max": self.high}}
        return {"lognormal": {"median": self.median, "sigma": self.sigma}}


@dataclass(frozen=True)
class Canned:
    """A whole answer given instead of (or in place of) the handler's."""

    status: int
    headers: Tuple[Tuple[str, str], ...]
    body: bytes
    document: Dict[str, Any]  # as given, for listing

    @property
    def status_line(self) -> str:
        try:
            reason = http.HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        return f"{self.status} {reason}"


Fault = Union[str, Delay, Canned]


@dataclass
class Spec:
    """A checked rule document, before it gets an id."""

    method: Optional[str]
    path: str
    fault: Fault
    when: str
    times: Optional[int]
    probability: float
    seed: Optional[int]


@dataclass
class Rule(Spec):
    """One fault rule and its counters (``matched``: requests that met it; ``fired``: times it acted)."""

    id: int = 0
    rng: random.Random = field(repr=False, default_factory=random.Random)
    matched: int = 0
    fired: int = 0

    @property
    def kind(self) -> str:
        """``connection-reset`` ..., ``delay`` or ``response``."""
        if isinstance(self.fault, Delay):
            return "delay"
        if isinstance(self.fault, Canned):
            return "response"
        return self.fault

    @property
    def remaining(self) -> Optional[int]:
        return None if self.times is None else max(0, self.times - self.fired)

    def applies_to(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def fault_json(self) -> Any:
        if isinstance(self.fault, Delay):
            return {"delay": self.fault.to_json()}
        if isinstance(self.fault, Canned):
            return {"response": self.fault.document}
        return self.fault

    def to_json(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method or "*",
            "path": self.path,
            "fault": self.fault_json(),
            "when": self.when,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "matched": self.matched,
            "fired": self.fired,
            "remaining": self.remaining,
        }


# -- reading a rule document -------------------------------------------------


def _seconds(value: Any, member: str, max_duration: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise bad_rule(f"{member} must be a number of seconds or a duration such as \"250ms\"; got {value!r}.", member)
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except SettingsError:
            try:
                seconds = parse_go_duration(value)
            except SettingsError as exc:
                raise bad_rule(f"{member}: {exc}.", member) from None
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise bad_rule(f"{member} must be 0 or more seconds; got {value!r}.", member)
    if seconds > max_duration + 1e-9:
        raise Problem(
            "bad-fault-rule",
            f"{member} of {seconds:g} seconds exceeds the limit of {max_duration:g} seconds set by "
            f"{describe('max_duration')}.",
            member=member,
            limit=max_duration,
        )
    return seconds


def _object(value: Any, member: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise bad_rule(f"{member} must be a JSON object; got {value!r}.", member)
    return value


def _only(document: Mapping[str, Any], allowed: Tuple[str, ...], member: str) -> None:
    unknown = sorted(set(document) - set(allowed))
    if unknown:
        raise bad_rule(f"{member} has unknown members {unknown}; allowed: {list(allowed)}.", member)


def parse_delay(value: Any, max_duration: float) -> Delay:
    spec = _object(value, "fault.delay")
    _only(spec, DISTRIBUTIONS, "fault.delay")
    if len(spec) != 1:
        raise bad_rule(f"fault.delay needs exactly one of {list(DISTRIBUTIONS)}.", "fault.delay")
    (name, params), = spec.items()
    where = f"fault.delay.{name}"
    if name == "fixed":
        return Delay("fixed", fixed=_seconds(params, where, max_duration))
    if name == "uniform":
        bounds = _object(params, where)
        _only(bounds, ("min", "max"), where)
        low = _seconds(bounds.get("min", 0), where + ".min", max_duration)
        high = _seconds(bounds.get("max"), where + ".max", max_duration)
        if low > high:
            raise bad_rule(f"{where}.min must not exceed {where}.max.", where)
        return Delay("uniform", low=low, high=high)
    shape = _object(params, where)
    _only(shape, ("median", "sigma"), where)
    median = _seconds(shape.get("median"), where + ".median", max_duration)
    sigma = shape.get("sigma", 0.5)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 <= sigma <= 10:
        raise bad_rule(f"{where}.sigma must be a number from 0 to 10; got {sigma!r}.", where + ".sigma")
    return Delay("lognormal", median=median, sigma=float(sigma))


def _header_pairs(value: Any) -> List[Tuple[str, str]]:
    where = "fault.response.headers"
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        pairs = [(p[0], p[1]) for p in value]
    else:
        raise bad_rule(f"{where} must be an object of names to values, or a list of [name, value] pairs.", where)
    checked = []
    for name, header_value in pairs:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise bad_rule(f"{where}: {name!r} is not a header name (an HTTP token).", where)
        if not isinstance(header_value, str) or not _FIELD_VALUE.fullmatch(header_value):
            raise bad_rule(f"{where}: the value of {name!r} cannot be sent in a header.", where)
        if name.lower() in ("content-length", "transfer-encoding", "connection"):
            raise bad_rule(f"{where}: {name} is set by the server, not by a rule.", where)
        checked.append((name, header_value))
    return checked


def parse_response(value: Any) -> Canned:
    spec = _object(value, "fault.response")
    _only(spec, ("status", "headers", "body"), "fault.response")
    status = spec.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise bad_rule(f"fault.response.status must be a status code from 200 to 599; got {status!r}.",
                       "fault.response.status")
    headers = _header_pairs(spec.get("headers", {}))
    if "body" in spec and status in (204, 304):
        raise bad_rule(f"fault.response: a {status} answer has no body.", "fault.response.body")
    named = {name.lower() for name, _ in headers}
    body = b""
    if "body" in spec:
        given = spec["body"]
        if isinstance(given, str):
            body = given.encode("utf-8")
            default_type = "text/plain; charset=utf-8"
        else:
            body = dumps_bytes(given)
            default_type = "application/json"
        if "content-type" not in named:
            headers.append(("Content-Type", default_type))
    return Canned(status, tuple(headers), body, dict(spec))


def parse_fault(value: Any, max_duration: float) -> Fault:
    if isinstance(value, str):
        if value not in KINDS:
            raise bad_rule(
                f"fault {value!r} is not a fault kind ({', '.join(KINDS)}), a delay or a response.", "fault"
            )
        return value
    spec = _object(value, "fault")
    if len(spec) != 1 or next(iter(spec)) not in ("delay", "response"):
        raise bad_rule('fault must be a fault kind, {"delay": {...}} or {"response": {...}}.', "fault")
    if "delay" in spec:
        return parse_delay(spec["delay"], max_duration)
    return parse_response(spec["response"])


def _whole(value: Any, member: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise bad_rule(f"{member} must be a whole number, {minimum} or more; got {value!r}.", member)
    return value




def parse_rule(document: Any, max_duration: float) -> Spec:
    """Check a rule document; a 400 ``bad-fault-rule`` problem says what is wrong."""
    spec = _object(document, "the rule")
    _only(spec, MEMBERS, "the rule")
    if "fault" not in spec:
        raise bad_rule("A rule needs a fault: a fault kind, a delay or a response.", "fault")
    method = spec.get("method")
    if method is not None and (not isinstance(method, str) or not (method == "*" or _TOKEN.fullmatch(method))):
        raise bad_rule(f"method must be an HTTP method or \"*\"; got {method!r}.", "method")
    path = spec.get("path", "*")
    if not isinstance(path, str) or not path:
        raise bad_rule(f"path must be a non-empty glob such as \"/orders*\"; got {path!r}.", "path")
    when = spec.get("when", "before")
    if when not in WHEN:
        raise bad_rule(f"when must be \"before\" or \"after\"; got {when!r}.", "when")
    times = spec.get("times")
    if times is not None:
        times = _whole(times, "times", 1)
    probability = spec.get("probability", 1)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise bad_rule(f"probability must be a number from 0 to 1; got {probability!r}.", "probability")
    seed = spec.get("seed")
    if seed is not None:
        seed = _whole(seed, "seed", 0)
    upper = None if method in (None, "*") else str(method).upper()
    fault = parse_fault(spec["fault"], max_duration)
    return Spec(upper, path, fault, when, times, float(probability), seed)


# -- the rules of one app ------------------------------------------------------


class RuleBook:
    """The rules of one app, in creation order, behind one lock."""

    def __init__(self) -> None:
        self._rules: List[Rule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._rules)  # read without the lock: a stale answer only delays a new rule by a request

    def add(self, spec: Spec) -> Rule:
        with self._lock:
            rng = random.Random(spec.seed) if spec.seed is not None else random.Random()
            checked = {f.name: getattr(spec, f.name) for f in fields(Spec)}
            rule = Rule(**checked, id=next(self._ids), rng=rng)
            self._rules.append(rule)
        return rule

    def rules(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def get(self, rule_id: int) -> Optional[Dict[str, Any]]:
        with self._lock:
            for rule in self._rules:
                if rule.id == rule_id:
                    return rule.to_json()
        return None

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            found = len(kept) != len(self._rules)
            self._rules = kept
        return found

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def fire(self, method: str, path: str) -> Optional[Tuple[Rule, random.Random]]:
        """The first rule that fires for this request (counted), with its random source; or None."""
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to(method, path):
                    continue
                rule.matched += 1
                if rule.probability < 1 and not rule.rng.random() < rule.probability:
                    continue
                rule.fired += 1
                # The draws a fault makes later (delay, random bytes) come from a
                # generator seeded here, under the lock, so they stay repeatable.
                return rule, random.Random(rule.rng.getrandbits(64))
        return None
