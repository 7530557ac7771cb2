"""C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint), signed as notes.

A checkpoint body is three lines, each ending in a newline: the log's origin,
the tree size in decimal, and the base64 RFC 6962 root. Extension lines may
follow; the vault writes none and ignores any it reads.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from vault.custody.note import split_note, verify_note
from vault.errors import ProofError
from vault.hashing.merkle import HASH_SIZE

_SIZE_PATTERN = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with the signed note it came from."""

    origin: str
    size: int
    root: bytes
    note: bytes

    def to_dict(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "note": self.note.decode("utf-8"),
        }


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """Format the tlog-checkpoint body for a tree of `size` leaves with root `root`."""
    if len(root) != HASH_SIZE:
        raise ProofError(f"checkpoint root must be {HASH_SIZE} bytes, got {len(root)}")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def parse_checkpoint_body(text: str) -> tuple[str, int, bytes]:
    """Parse a checkpoint body into (origin, size, root). Raises ProofError when malformed."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise ProofError("checkpoint body must have origin, size and root lines, each ending in a newline")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise ProofError("checkpoint origin line is empty")
    if not _SIZE_PATTERN.match(size_text):
        raise ProofError(f"checkpoint size {size_text!r} is not a decimal without leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as error:
        raise ProofError(f"checkpoint root {root_text!r} is not base64: {error}") from error
    if len(root) != HASH_SIZE:
        raise ProofError(f"checkpoint root must be {HASH_SIZE} bytes, got {len(root)}")
    return origin, int(size_text), root


def open_checkpoint(note: bytes, verifier_key: str, origin: str | None = None) -> SignedCheckpoint:
    """Verify a signed checkpoint note and parse it.

    `origin` defaults to the verifier key's name. Raises ProofError when the
    signature does not verify, the body is malformed or the origin differs.
    """
    text = verify_note(note, verifier_key)
    parsed_origin, size, root = parse_checkpoint_body(text)
    expected_origin = origin if origin is not None else verifier_key.strip().split("+", 1)[0]
    if parsed_origin != expected_origin:
        raise ProofError("checkpoint origin differs from the log's", expected=expected_origin, computed=parsed_origin)
    return SignedCheckpoint(parsed_origin, size, root, note)


def read_checkpoint_unverified(note: bytes) -> SignedCheckpoint:
    """Parse a checkpoint note without checking its signature.

    .. warning:: The result is not authenticated; use it only to report on a
       note whose signature has already failed, or after `open_checkpoint`.
    """
    text, _signatures = split_note(note)
    origin, size, root = parse_checkpoint_body(text)
    return SignedCheckpoint(origin, size, root, note)
