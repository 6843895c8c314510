"""Connection-level faults: what mockbin does to a connection besides answering on it.

* :mod:`.takeover` takes the client socket over from the server (gunicorn's
  workers, the pytest live server) and hands the request back finished; the
  WebSocket and trailer routes use it too.  Without a socket: a 501 problem.
* :mod:`.actions` breaks an answer on that socket: reset, empty response,
  malformed chunk, random data, truncated body, hang.
* :mod:`.rules` reads fault rules ("POST /orders*, after the handler, once:
  connection-reset") and keeps them; :mod:`.middleware` applies them to
  requests; :mod:`.admin` serves them at ``/__mockbin/faults``.

The ``/fault/<kind>`` routes themselves live with the other routes
(``mockbin/routes/faults.py``).  docs/faults.md is the user's guide.
"""

from __future__ import annotations

from flask import Flask

from ..settings import ADMIN_PREFIX, Settings
from .middleware import FaultMiddleware, WSGIApp
from .rules import RuleBook


def install(app: Flask, settings: Settings, wsgi: WSGIApp) -> FaultMiddleware:
    """Serve ``/__mockbin/faults`` on *app*; the rules' middleware around *wsgi*.

    The caller registers ``middleware.book.clear`` as a reset hook.
    """
    from .admin import EXTENSION, blueprint

    book = RuleBook()
    app.extensions[EXTENSION] = book
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)
    return FaultMiddleware(wsgi, book, settings)
