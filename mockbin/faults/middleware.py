"""The WSGI middleware that applies fault rules to requests.

It sits inside the request journal (which therefore records every request
and the rule that fired for it, under ``fault``) and outside the fast lane,
so a rule can hit any path, fast or not.  ``/__mockbin/`` is never faulted:
the admin API must keep working to remove a rule.  With no rule defined the
middleware costs one truth test per request.

``before`` rules act instead of the handler: nothing runs, so nothing is
stored.  ``after`` rules let the handler run to the end -- a stateful write
commits, an idempotency record completes -- and then replace its answer
(which is buffered for that purpose).
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Dict, Iterable, List, NoReturn, Optional, Tuple

from werkzeug.wrappers import Response

from ..cors import add_cors_headers
from ..journal import FAULT as FIRED
from ..problems import Problem
from ..settings import ADMIN_PREFIX, Settings
from . import actions
from .rules import Canned, Delay, Rule, RuleBook
from .takeover import Connection, client_socket

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Captured:
    """A WSGI answer run to completion and kept: status, headers, body."""

    def __init__(self) -> None:
        self.status = "500 INTERNAL SERVER ERROR"
        self.headers: List[Tuple[str, str]] = []
        self.parts: List[bytes] = []

    def start_response(self, status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        self.status, self.headers = status, list(headers)
        return self.parts.append

    def run(self, app: WSGIApp, environ: Dict[str, Any]) -> actions.Answer:
        result = app(environ, self.start_response)
        try:
            for part in result:
                self.parts.append(part)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return actions.Answer(self.status, self.headers, b"".join(self.parts))


class FaultMiddleware:
    """WSGI middleware: look each request up in *book*; apply the rule that fires, if any."""

    def __init__(self, app: WSGIApp, book: RuleBook, settings: Settings) -> None:
        self.app = app
        self.book = book
        self.max_duration = settings.max_duration
        self.random_size = min(actions.RANDOM_SIZE, settings.max_generated_size) or 1

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.book:
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX + "/"):
            return self.app(environ, start_response)
        # Globs are text: match the path as the client sent it (UTF-8), not WSGI's Latin-1 tunnel.
        text = path.encode("latin-1", "replace").decode("utf-8", "replace")
        fired = self.book.fire(environ.get("REQUEST_METHOD", ""), text)
        if fired is None:
            return self.app(environ, start_response)
        rule, rng = fired
        # The journal's dict when it records this request: filled before the fault acts.
        record: Dict[str, Any] = environ.setdefault(FIRED, {})
        record.update(rule=rule.id, fault=rule.kind, when=rule.when)
        try:
            if rule.when == "before":
                return self._before(rule, rng, record, environ, start_response)
            return self._after(rule, rng, record, environ, start_response)
        except Problem as problem:
            return add_cors_headers(problem.get_response(environ), environ)(environ, start_response)

    def _before(
        self, rule: Rule, rng: random.Random, record: Dict[str, Any], environ: Dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        fault = rule.fault
        if isinstance(fault, Delay):
            self._wait(fault, rng, record, environ)
            return self.app(environ, start_response)
        if isinstance(fault, Canned):
            return self._canned(fault, environ, start_response)
        conn = Connection.take(environ, f"fault rule #{rule.id} ({fault})")
        self._break(fault, conn, actions.stand_in(fault, environ, rule=rule.id), rng)

    def _after(
        self, rule: Rule, rng: random.Random, record: Dict[str, Any], environ: Dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        fault = rule.fault
        conn: Optional[Connection] = None
        if not isinstance(fault, (Delay, Canned)):
            # Refuse before the handler runs: a write must not be kept when the
            # promised fault cannot follow it.
            conn = Connection.take(environ, f"fault rule #{rule.id} ({fault})")
        answer = Captured().run(self.app, environ)
        if isinstance(fault, Delay):
            self._wait(fault, rng, record, environ)
            start_response(answer.status, answer.headers)
            return [answer.body]
        if isinstance(fault, Canned):
            return self._canned(fault, environ, start_response)
        assert conn is not None
        self._break(fault, conn, answer, rng)

    def _break(self, kind: str, conn: Connection, answer: actions.Answer, rng: random.Random) -> NoReturn:
        plan = actions.Plan(rng=rng, random_size=self.random_size, hang_for=self.max_duration)
        actions.perform(kind, conn, answer, plan)
        conn.finish()

    def _wait(self, delay: Delay, rng: random.Random, record: Dict[str, Any], environ: Dict[str, Any]) -> None:
        seconds = delay.draw(rng, self.max_duration)
        record["delay"] = round(seconds, 6)
        found = client_socket(environ)
        if found is None:
            time.sleep(seconds)
        else:
            Connection(environ, *found).wait(seconds, consume=False)  # the server still reads from it

    def _canned(self, canned: Canned, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = Response(canned.body, status=canned.status_line, headers=list(canned.headers))
        if not any(name.lower() == "content-type" for name, _ in canned.headers):
            del response.headers["Content-Type"]  # Werkzeug's default text/plain: a rule without a body has none
        return add_cors_headers(response, environ)(environ, start_response)
