"""Differential cases whose answers are partly random, and checks of streamed framing.

A :class:`Case` is a :class:`~support.differential.Shape` plus what may
legitimately differ between two answers: a *mask* replaces the random parts
(a UUID, unseeded bytes, a fresh ETag) after checking that each has the
right form, so everything else is still compared byte for byte.  With
``frames=True`` the chunk sizes of a chunked answer must agree as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from .differential import Shape, assert_same, call_socket, call_wsgi, normalise

Normalised = Tuple[str, list, bytes]
Mask = Callable[[Normalised], Normalised]

UUID4 = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")


@dataclass(frozen=True)
class Case:
    shape: Shape
    mask: Optional[Mask] = None
    frames: bool = False  # compare chunk sizes too (socket answers only)

    @property
    def id(self) -> str:
        return self.shape.id


def masked(answer: Normalised, mask: Optional[Mask]) -> Normalised:
    return mask(answer) if mask else answer


def mask_uuid(answer: Normalised) -> Normalised:
    status, headers, body = answer
    assert UUID4.search(body), body
    return status, headers, UUID4.sub(b"<uuid4>", body)


def mask_body_length(answer: Normalised) -> Normalised:
    """Random bytes: only their number counts."""
    status, headers, body = answer
    return status, headers, b"<%d random bytes>" % len(body)


def mask_header(name: str, pattern: "re.Pattern[str]") -> Mask:
    """A header whose value is fresh per answer: check its form, hide its value."""

    def mask(answer: Normalised) -> Normalised:
        status, headers, body = answer
        out = []
        for key, value in headers:
            if key.lower() == name.lower():
                assert pattern.fullmatch(value), (name, value)
                value = f"<{name}>"
            out.append((key, value))
        return status, out, body

    return mask


def both(*masks: Mask) -> Mask:
    def mask(answer: Normalised) -> Normalised:
        for one in masks:
            answer = one(answer)
        return answer

    return mask


def check_in_process(case: Case, oracle_app, mockbin_app) -> None:
    expected = masked(normalise(call_wsgi(oracle_app, case.shape), ()), case.mask)
    actual = masked(normalise(call_wsgi(mockbin_app, case.shape), ()), case.mask)
    assert actual == expected


def check_over_sockets(case: Case, oracle_port: int, mockbin_port: int) -> None:
    ports = (str(oracle_port), str(mockbin_port))
    oracle = call_socket(oracle_port, case.shape)
    mine = call_socket(mockbin_port, case.shape)
    if case.mask is None:
        assert_same(oracle, mine, ports)
    else:
        assert masked(normalise(mine, ports), case.mask) == masked(normalise(oracle, ports), case.mask)
    if case.frames:
        assert mine.chunked_frames == oracle.chunked_frames


def ids(cases: Sequence[Case]) -> List[str]:
    return [case.id for case in cases]


LOW_DURATION = "0.3"
LOW_SIZE = "1000"


def low_limit_argv(port: int) -> List[str]:
    """A mockbin with tiny limits, so tests reach their edges in a fraction of a second."""
    from .servers import mockbin_argv

    return mockbin_argv(
        port, "--workers", "1", "--threads", "1",
        "--max-duration", LOW_DURATION, "--max-generated-size", LOW_SIZE,
    )
