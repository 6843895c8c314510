"""Files shipped inside the package (``mockbin/assets/``): sample documents and images.

They are read through :mod:`importlib.resources`, so they are found wherever
the package is installed (a wheel, an editable checkout, a zip), and read
once per process: every one of them is small and served unchanged.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.lru_cache(maxsize=None)
def asset(name: str) -> bytes:
    """The bytes of ``mockbin/assets/<name>``."""
    return (resources.files("mockbin") / "assets" / name).read_bytes()
