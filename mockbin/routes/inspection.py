"""Request inspection: /headers, /ip and /user-agent, the echo fields on their own."""

from __future__ import annotations

from typing import Any, Dict

from werkzeug.wrappers import Request

from .. import echo


def headers(request: Request) -> Dict[str, Any]:
    """The request's headers (proxy headers hidden unless ?show_env)."""
    return {"headers": echo.headers(request)}


def ip(request: Request) -> Dict[str, Any]:
    """The client's address: X-Forwarded-For verbatim when sent, else the peer address."""
    return {"origin": echo.origin(request)}


def user_agent(request: Request) -> Dict[str, Any]:
    """The request's User-Agent header, or null without one."""
    return {"user-agent": echo.headers(request).get("User-Agent")}
