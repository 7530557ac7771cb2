"""SHA-256 of several streams over the same bytes, computed together.

An upload hashes every byte three times: the whole-file SHA-256, the Merkle
leaf and the SHA-256 of the S3 part. The C extension `_sha256_lanes` runs
those independent hashes interleaved on the CPU's SHA extensions (SHA-NI),
which roughly halves their cost against three hashlib passes. Where the
extension was not built or the CPU lacks the instructions, every function
here falls back to hashlib with the same results, so callers need not care
which engine runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)

# Set VAULT_SHA256_LANES=off to force hashlib, for example to compare the two engines.
_DISABLE_VARIABLE = "VAULT_SHA256_LANES"


def _load_native() -> Any:
    if os.environ.get(_DISABLE_VARIABLE, "").lower() in ("0", "off", "false", "no"):
        return None
    try:
        from vault.hashing import _sha256_lanes
    except ImportError:
        return None
    return _sha256_lanes if _sha256_lanes.supported() else None


_native = _load_native()


def engine() -> str:
    """Return the name of the SHA-256 engine in use: `sha-ni lanes` or `hashlib`."""
    return "sha-ni lanes" if _native is not None else "hashlib"


def new_sha256(data: bytes | bytearray | memoryview = b"") -> Any:
    """Return a SHA-256 object with the hashlib interface, started with `data`, that `update_together` can advance."""
    if _native is not None:
        return _native.Sha256(data)
    return hashlib.sha256(data)


def update_together(hashers: Sequence[Any], data: bytes | bytearray | memoryview) -> None:
    """Add the same `data` to every object in `hashers`, each from `new_sha256()`.

    With the extension the hashes run interleaved and without the GIL. A
    hasher may appear only once, and no other thread may update it meanwhile.
    """
    if _native is not None:
        _native.update_together(hashers, data)
        return
    for hasher in hashers:
        hasher.update(data)
