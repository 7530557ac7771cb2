"""Digests that always carry their algorithm, written `sha256:<hex>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vault.errors import InvalidInput

# Hex length of each algorithm the vault accepts in a declared digest.
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}

_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True, order=True)
class Digest:
    """One digest value with the name of its algorithm (lower-case hex)."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        length = HEX_LENGTHS.get(self.algorithm)
        if length is None:
            raise InvalidInput(
                f"unsupported digest algorithm {self.algorithm!r}; use one of {', '.join(sorted(HEX_LENGTHS))}"
            )
        if len(self.hex) != length or not _HEX.match(self.hex):
            raise InvalidInput(
                f"invalid {self.algorithm} digest {self.hex!r}: expected {length} lower-case hex characters"
            )

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def raw(self) -> bytes:
        return bytes.fromhex(self.hex)

    @classmethod
    def from_bytes(cls, algorithm: str, value: bytes) -> "Digest":
        return cls(algorithm, value.hex())

    @classmethod
    def parse(cls, text: str) -> "Digest":
        """Parse `algorithm:hex` (case-insensitive hex), for example `md5:d73c51f1…`."""
        algorithm, sep, value = text.strip().partition(":")
        if not sep:
            raise InvalidInput(
                f"invalid digest {text!r}: write it as ALGORITHM:HEX, for example sha256:e3b0c442…"
            )
        return cls(algorithm.lower(), value.lower())
