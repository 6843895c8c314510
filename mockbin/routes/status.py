"""Status codes: ``/status/<codes>``, one code or a weighted random pick among several.

The answer for a code is httpbin's: an empty ``text/html`` body for most
codes, and for a few of them a fixed body or a replaced header set (the
redirects point at ``/redirect/1``, 401 and 407 carry a Basic challenge,
418 is a teapot).  :func:`status_response` is shared with the auth routes,
which answer failures the same way.

Where httpbin crashes (a code gunicorn cannot send, weights that make its
draw run off the end of the list, an item with two colons), mockbin
answers 400 with a problem document saying what is wrong; see
docs/compatibility.md.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from typing import List, Optional, Sequence, Tuple, Union

from flask import Response
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request

from ..problems import Problem

# Bodies and headers of the codes httpbin answers specially.  The teapot is
# mockbin's own drawing; the other strings are httpbin's literal answers.
TEAPOT = r"""
    ~ short and stout ~
          _
      ___(_)___
 __  /         \  __
 \ \|  I'M A    |/ /
  \_|  TEAPOT   |_/
     \_________/
"""
PAYMENT_REQUIRED = "Fuck you, pay me!"
ACCEPTED_MEDIA_TYPES = ["image/webp", "image/svg+xml", "image/jpeg", "image/png", "image/*"]
NOT_ACCEPTABLE = json.dumps(
    {"message": "Client did not request a supported media type.", "accept": ACCEPTED_MEDIA_TYPES}
)
FAKE_BASIC_CHALLENGE = 'Basic realm="Fake Realm"'
REDIRECT_CODES = frozenset((301, 302, 303, 305, 307))
LOWEST_CODE, HIGHEST_CODE = 100, 999  # a status line has exactly three digits

Choice = Tuple[int, float]


def status_response(code: int, script_root: str = "") -> Response:
    """httpbin's answer for *code*: an empty page, or the code's special body and headers.

    Special codes *replace* the header set, so they have no Content-Type
    and their Content-Length comes last, after the CORS headers.
    Werkzeug drops Content-Length for 1xx and 204, and the entity headers
    for 304, as it does for httpbin.
    """
    response = Response(status=code)  # no body yet: Content-Length is added last, on the way out
    replaced: Optional[List[Tuple[str, str]]] = None
    if code in REDIRECT_CODES:
        replaced = [("Location", script_root + "/redirect/1")]
    elif code == 401:
        replaced = [("WWW-Authenticate", FAKE_BASIC_CHALLENGE)]
    elif code == 402:
        response.set_data(PAYMENT_REQUIRED)
        replaced = [("x-more-info", "http://vimeo.com/22053820")]
    elif code == 406:
        response.set_data(NOT_ACCEPTABLE)
        replaced = [("Content-Type", "application/json")]
    elif code == 407:
        replaced = [("Proxy-Authenticate", FAKE_BASIC_CHALLENGE)]
    elif code == 418:
        response.set_data(TEAPOT)
        replaced = [("x-more-info", "http://tools.ietf.org/html/rfc2324")]
    if replaced is not None:
        response.headers = Headers(replaced)
    return response


def status(request: Request, codes: str) -> Response:
    """The given status code, or one drawn at random from ``code:weight`` choices."""
    parsed = parse_codes(codes)
    if isinstance(parsed, Response):
        return parsed
    check_choices(parsed)
    return status_response(draw(parsed), request.script_root)


def invalid_status_code() -> Response:
    """httpbin's own answer to a code that is not a number (kept byte for byte)."""
    return Response("Invalid status code", status=400, mimetype="text/plain")


def bad_codes(detail: str) -> Problem:
    return Problem("invalid-status-code", detail)


def parse_codes(codes: str) -> Union[List[Choice], Response]:
    """``"200"`` or ``"200:3,500"`` -> ``[(code, weight)]``, with Python ``int()``/``float()`` leniency.

    ``+201``, ``2_00`` and surrounding spaces parse, as in httpbin.  A text
    that does not parse gets httpbin's own 400.
    """
    if "," not in codes:
        try:
            return [(int(codes), 1.0)]
        except ValueError:
            return invalid_status_code()
    choices: List[Choice] = []
    for item in codes.split(","):
        code, colon, weight = item.partition(":")
        if ":" in weight:
            raise bad_codes(f"{item!r} has more than one ':'; write each choice as CODE or CODE:WEIGHT.")
        try:
            choices.append((int(code), float(weight) if colon else 1.0))
        except ValueError:
            return invalid_status_code()
    return choices


def check_choices(choices: Sequence[Choice]) -> None:
    """Raise a 400 unless every code can be sent and the weights make a distribution."""
    for code, weight in choices:
        if not LOWEST_CODE <= code <= HIGHEST_CODE:
            raise bad_codes(
                f"{code} is not a status code HTTP can carry; use a code from "
                f"{LOWEST_CODE} to {HIGHEST_CODE}."
            )
        if not math.isfinite(weight) or weight < 0:
            raise bad_codes(f"The weight {weight!r} of {code} must be a finite number of at least 0.")
    if len(choices) > 1 and not sum(weight for _, weight in choices) > 0:
        raise bad_codes("The weights add up to 0; give at least one code a positive weight.")


def draw(choices: Sequence[Choice]) -> int:
    """Pick a code with probability proportional to its weight.

    The same draw as httpbin's, from the same process-wide generator
    (``random``): a uniform number in [0, total], then the first choice whose
    running total exceeds it.  So seeding ``random`` reproduces httpbin's
    picks, and a weight of 0 is never picked.
    """
    if len(choices) == 1:
        return choices[0][0]
    running: List[float] = []
    total = 0.0
    for _, weight in choices:
        total += weight
        running.append(total)
    index = bisect.bisect_right(running, random.uniform(0, total))
    if index == len(choices):  # the draw landed exactly on the total: the last weighted code
        index = max(i for i, (_, weight) in enumerate(choices) if weight > 0)
    return choices[index][0]
