"""``--safe-responses``: routes that reflect client-chosen content answer it as inert text.

httpbin serves what the client asks for: ``/base64/<value>`` decodes any
text and serves it as ``text/html``, ``/response-headers?Content-Type=text/html``
labels its body (which lists the client's values) as HTML.  A web page can
therefore make mockbin serve that page's own script from mockbin's origin.
That is httpbin's behaviour, and mockbin keeps it by default (tests rely on
it); docs/security.md says what it allows.  With ``--safe-responses`` every
such answer is ``text/plain`` with ``X-Content-Type-Options: nosniff``, so
no browser renders or runs it.  (go-httpbin is safe by default and has an
opt-out; mockbin stays exact by default and offers the opt-in.)

A route that reflects client-chosen bytes under a client-chosen or
HTML-sniffable media type passes its response through :func:`safe_reflection`.
The stateful mode passes what it stores through it too, relabelling only the
types that can run script (HTML, XML, SVG): a stored JSON document stays JSON.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, TypeVar

from werkzeug.wrappers import Response

from ..settings import settings_of

INERT_TYPE = "text/plain"
NOSNIFF = ("X-Content-Type-Options", "nosniff")
AnyResponse = TypeVar("AnyResponse", bound=Response)


def safe_responses(environ: Dict[str, Any]) -> bool:
    """Whether this server runs with ``--safe-responses``."""
    return settings_of(environ).safe_responses


def inert_type(response: Response) -> str:
    """``text/plain`` with the charset the body is in: the one declared, else UTF-8 when it decodes."""
    charset: Optional[str] = response.mimetype_params.get("charset")
    if charset is None and not response.is_streamed:
        try:
            response.get_data().decode("utf-8")
            charset = "utf-8"
        except UnicodeDecodeError:
            charset = None
    return f"{INERT_TYPE}; charset={charset}" if charset else INERT_TYPE


def is_active_type(content_type: Optional[str]) -> bool:
    """Whether a browser may render *content_type* as a document that runs script, or sniff it.

    HTML and the XML family (XHTML, SVG, XSLT, plain XML, which may carry
    either) run script; a missing type is sniffed; a multipart stream
    renders its parts by their own types.  JSON, plain text, images and the
    rest are shown as data, or downloaded, once ``nosniff`` is set.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return not media or "html" in media or "xml" in media or "xsl" in media or media.startswith("multipart/")


def safe_reflection(response: AnyResponse, environ: Dict[str, Any], only_active: bool = False) -> AnyResponse:
    """*response* unchanged (httpbin's bytes), or with ``--safe-responses`` relabelled as inert text.

    Sets (replacing every earlier value) ``Content-Type: text/plain`` and
    ``X-Content-Type-Options: nosniff``; the body is left as it is.  With
    *only_active* (stored content, whose type is part of the contract), a
    type that :func:`is_active_type` calls harmless is kept and only
    ``nosniff`` is added.
    """
    if not safe_responses(environ):
        return response
    if not only_active or (is_active_type(response.headers.get("Content-Type")) and response.status_code not in (204, 304)):
        response.headers["Content-Type"] = inert_type(response)
    response.headers[NOSNIFF[0]] = NOSNIFF[1]
    return response
