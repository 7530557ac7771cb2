"""Hand the heap memory that an upload freed back to the operating system.

An upload allocates its part buffers in whichever worker thread feeds it, so
glibc spreads them over per-thread arenas. glibc keeps freed arena memory for
reuse, and over many uploads the server's resident size grew by 100 MB and
more (seen with `bench/ingest --runs 3`). `malloc_trim(0)` returns those free
pages. Other C libraries lack the call, and there this does nothing.
"""

from __future__ import annotations

import ctypes


def _find_malloc_trim():
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _find_malloc_trim()


def release_free_memory() -> None:
    """Return free heap pages to the operating system where the C library supports it (glibc)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
