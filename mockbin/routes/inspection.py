"""Request inspection: /headers, /ip and /user-agent, the echo fields on their own."""

from __future__ import annotations

from typing import Any, Dict, Union

from werkzeug.wrappers import Request, Response

from .. import echo

TEXT = "text/plain; charset=utf-8"


def headers(request: Request) -> Dict[str, Any]:
    """The request's headers (proxy headers hidden unless ?show_env)."""
    return {"headers": echo.headers(request)}


def ip(request: Request) -> Union[Dict[str, Any], Response]:
    """The client's address: X-Forwarded-For verbatim when sent, else the peer address; ?format=text: one line."""
    origin = echo.origin(request)
    if request.environ.get("QUERY_STRING") and request.args.get("format") == "text":
        return Response(f"{origin}\n", content_type=TEXT)  # go-httpbin's plain form, for shell scripts
    return {"origin": origin}


def user_agent(request: Request) -> Dict[str, Any]:
    """The request's User-Agent header, or null without one."""
    return {"user-agent": echo.headers(request).get("User-Agent")}
