"""What a response header may carry on the wire.

Routes that copy client input into response headers (``/response-headers``,
``/cookies/set``, ``/redirect-to``) must refuse what no server can send.
httpbin passes such input through and the request dies as a 500 -- in
Werkzeug for CR/LF, in gunicorn for anything else -- so the client learns
nothing.  mockbin checks the same rules up front and answers a 400 naming
the offending header instead.  The rules are gunicorn's (RFC 9110): a name
is a token; a value is visible ASCII, space, tab or obs-text (0x80-0xFF, so
Latin-1), nothing else.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from werkzeug.http import dump_cookie
from werkzeug.wrappers import Response

# RFC 9110 section 5.6.2: tchar.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 section 5.5: field-vchar, SP and HTAB; obs-text is 0x80-0xFF.
_VALUE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")


def is_token(name: str) -> bool:
    """Whether *name* can be sent as a header field name."""
    return _TOKEN.fullmatch(name) is not None


def value_problem(value: str) -> Optional[str]:
    """Why *value* cannot be sent as a header field value, or None if it can."""
    if _VALUE.fullmatch(value) is not None:
        return None
    bad = next(ch for ch in value if _VALUE.fullmatch(ch) is None)
    if ord(bad) > 0xFF:
        return f"it contains {bad!r} (U+{ord(bad):04X}), which is outside Latin-1"
    return f"it contains the control character U+{ord(bad):04X}"


def header_problem(name: str, value: str) -> Optional[str]:
    """Why the header ``name: value`` cannot be sent, or None if it can."""
    if not is_token(name):
        return f"the header name {name!r} is not an HTTP token"
    problem = value_problem(value)
    if problem is not None:
        return f"the value of the header {name!r} cannot be sent: {problem}"
    return None


# Werkzeug's cookie quoting escapes controls as backslash-octal but its pattern stops
# at 0x19, so 0x1A-0x1F would go out raw and make the whole response unsendable.
_RAW_CONTROLS = re.compile(r"[\x1a-\x1f]")


def set_cookie(response: Response, name: str, value: str, secure: bool = False, **attributes: Any) -> None:
    """``response.set_cookie(name, value, secure=secure)``, byte for byte, except that
    the control characters Werkzeug leaves raw are escaped like the others.

    *attributes* are further ``dump_cookie`` arguments (``path``, ``domain``,
    ``max_age``, ``expires``, ``httponly``, ``samesite``, ``partitioned``),
    for go-httpbin's cookie attributes.
    """
    options: Dict[str, Any] = {"path": "/", "secure": secure, **attributes}
    header = dump_cookie(name, value, max_size=response.max_cookie_size, **options)
    response.headers.add("Set-Cookie", _RAW_CONTROLS.sub(lambda m: "\\%03o" % ord(m.group()), header))
