"""httpbin's random bytes, reproducible from a seed.

httpbin draws every byte of ``/bytes`` and ``/stream-bytes`` with
``randint(0, 255)`` from CPython's Mersenne Twister (MT19937).  That call
takes one 32-bit output, keeps its top 9 bits (the bit length of 256) and
draws again when the result is 256 or more, i.e. when the word's top bit is
set.  So the byte stream is ``word >> 23`` for each output word below 2**31,
in order, other words skipped.  Seeding with an integer seeds the generator
with its absolute value, as ``random.Random(seed)`` does.

Drawing one byte per call is slow; ``getrandbits(32 * k)`` returns the
next *k* output words at once, the first one least significant, so taking
the words apart from its little-endian bytes yields the same sequence much
faster.  Each request gets its own generator: a seeded request gives the
same bytes whatever else the server is doing at the time.
"""

from __future__ import annotations

import os
import random
import sys
from array import array
from typing import Callable, Iterator, Optional

Take = Callable[[int], bytes]

_WORD = "I" if array("I").itemsize == 4 else "L"
_BLOCK_WORDS = 8192  # about 4 KiB of accepted bytes per draw


class SeededBytes:
    """The byte stream httpbin produces after seeding its generator with *seed*."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._buffer = b""

    def _refill(self) -> None:
        raw = self._rng.getrandbits(32 * _BLOCK_WORDS).to_bytes(4 * _BLOCK_WORDS, "little")
        words = array(_WORD)
        words.frombytes(raw)
        if sys.byteorder == "big":
            words.byteswap()
        self._buffer += bytes([word >> 23 for word in words if word < 0x80000000])

    def take(self, n: int) -> bytes:
        """The next *n* bytes of the stream."""
        while len(self._buffer) < n:
            self._refill()
        taken, self._buffer = self._buffer[:n], self._buffer[n:]
        return taken


def source(seed: Optional[int]) -> Take:
    """A ``take(n)`` function: seeded as httpbin, or the OS's randomness when unseeded."""
    return SeededBytes(seed).take if seed is not None else os.urandom


def chunks(take: Take, n: int, chunk_size: int) -> Iterator[bytes]:
    """*n* bytes from *take*, in pieces of *chunk_size* (the last one shorter)."""
    sent = 0
    while sent < n:
        size = min(chunk_size, n - sent)
        yield take(size)
        sent += size
