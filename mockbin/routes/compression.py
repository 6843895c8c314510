"""The three content codings httpbin demonstrates: gzip, deflate (zlib) and brotli.

gzip and deflate come from the standard library with httpbin's parameters
(gzip level 4, zlib at its default level), so their bytes match httpbin's
apart from the gzip timestamp.  Brotli has no standard-library encoder, and a
compiled one would be mockbin's only non-pure runtime dependency for a single
demonstration route; :func:`brotli` instead writes a valid brotli stream made
of *uncompressed meta-blocks* (RFC 7932, section 9.2), which every decoder
accepts.  The body is a little larger than the input, but ``/brotli`` exists
to show a client decoding ``Content-Encoding: br``, not to save bytes.
"""

from __future__ import annotations

import gzip as _gzip
import zlib
from typing import List

GZIP_LEVEL = 4  # httpbin's choice
# Largest MLEN an uncompressed meta-block can declare (MNIBBLES = 6, 24 bits).
MAX_META_BLOCK = 1 << 24


def gzip(data: bytes) -> bytes:
    """A gzip member (RFC 1952) at level 4, stamped with the current time, no file name."""
    return _gzip.compress(data, compresslevel=GZIP_LEVEL)


def deflate(data: bytes) -> bytes:
    """A zlib stream (RFC 1950, starting ``78 9c``), which is what HTTP calls ``deflate``."""
    return zlib.compress(data)


class _BitWriter:
    """Bits packed least-significant first, as brotli reads them."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.bits = 0
        self.count = 0

    def write(self, value: int, width: int) -> None:
        self.bits |= value << self.count
        self.count += width
        while self.count >= 8:
            self.out.append(self.bits & 0xFF)
            self.bits >>= 8
            self.count -= 8

    def align(self) -> None:
        """Pad with zero bits to the next byte boundary (the format requires zeros)."""
        if self.count:
            self.out.append(self.bits & 0xFF)
            self.bits = 0
            self.count = 0


def _nibbles(length: int) -> int:
    """The fewest nibbles (4, 5 or 6) that hold ``length - 1``, as the format demands."""
    value = length - 1
    return 4 if value < 1 << 16 else 5 if value < 1 << 20 else 6


def brotli(data: bytes) -> bytes:
    """A brotli stream (RFC 7932) holding *data* in uncompressed meta-blocks."""
    writer = _BitWriter()
    writer.write(0, 1)  # WBITS: a single 0 bit means a 64 KiB window
    chunks: List[bytes] = [data[i : i + MAX_META_BLOCK] for i in range(0, len(data), MAX_META_BLOCK)]
    for chunk in chunks:
        nibbles = _nibbles(len(chunk))
        writer.write(0, 1)  # ISLAST = 0: uncompressed blocks are never the last one
        writer.write(nibbles - 4, 2)  # MNIBBLES
        writer.write(len(chunk) - 1, nibbles * 4)  # MLEN - 1
        writer.write(1, 1)  # ISUNCOMPRESSED
        writer.align()
        writer.out += chunk
    writer.write(1, 1)  # ISLAST
    writer.write(1, 1)  # ISLASTEMPTY: the stream ends here
    writer.align()
    return bytes(writer.out)
