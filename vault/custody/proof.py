"""C2SP tlog-proof@v1 receipts (https://c2sp.org/tlog-proof): one entry proven against a checkpoint.

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry bytes>
    index <decimal>
    <base64 hash>            one line per inclusion-proof hash, leaf's sibling first
    <empty line>
    <signed checkpoint note, verbatim>
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from vault.custody.checkpoint import SignedCheckpoint, open_checkpoint
from vault.custody.note import VerifierKey
from vault.errors import ProofError
from vault.hashing.merkle import HASH_SIZE, hash_leaf, verify_inclusion

PROOF_HEADER = "c2sp.org/tlog-proof@v1"

# At most 20 digits (an unsigned 64-bit index), so a huge number fails here and not in int().
_INDEX_PATTERN = re.compile(r"^index (0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class Receipt:
    """A parsed tlog-proof; `extra` is unauthenticated until the proof verifies."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: bytes
    extra: bytes | None


def format_receipt(index: int, proof: list[bytes], checkpoint_note: bytes, extra: bytes | None = None) -> str:
    lines = [PROOF_HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode("ascii"))
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(node).decode("ascii") for node in proof)
    return "\n".join(lines) + "\n\n" + checkpoint_note.decode("utf-8")


def parse_receipt(text: str) -> Receipt:
    """Parse a tlog-proof@v1 text. Raises ProofError when it is malformed."""
    head, separator, note = text.partition("\n\n")
    if not separator or not note:
        raise ProofError("proof has no empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise ProofError(f"proof does not start with {PROOF_HEADER!r}")
    position = 1
    extra: bytes | None = None
    if position < len(lines) and lines[position].startswith("extra "):
        try:
            extra = base64.b64decode(lines[position][len("extra ") :], validate=True)
        except binascii.Error as error:
            raise ProofError(f"proof extra data is not base64: {error}") from error
        position += 1
    if position >= len(lines) or not (match := _INDEX_PATTERN.match(lines[position])):
        raise ProofError("proof has no valid 'index N' line")
    index = int(match.group(1))
    nodes: list[bytes] = []
    for line in lines[position + 1 :]:
        try:
            node = base64.b64decode(line, validate=True)
        except binascii.Error as error:
            raise ProofError(f"proof hash {line!r} is not base64: {error}") from error
        if len(node) != HASH_SIZE:
            raise ProofError(f"proof hash {line!r} is {len(node)} bytes, expected {HASH_SIZE}")
        nodes.append(node)
    return Receipt(index, tuple(nodes), note.encode("utf-8"), extra)


@dataclass(frozen=True)
class ReceiptVerdict:
    """The result of `check_receipt`, one verdict per step.

    `entry` is the bytes that were proven (given, or from the `extra` line).
    `checkpoint` is None unless its signature verified.
    """

    receipt: Receipt | None
    checkpoint: SignedCheckpoint | None
    checkpoint_signed: bool
    entry_included: bool
    entry: bytes | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.checkpoint_signed and self.entry_included


def check_receipt(text: str, verifier_key: str, entry: bytes | None = None) -> ReceiptVerdict:
    """Verify a receipt offline, step by step, and return a verdict for each step.

    Steps:
    1. Parse the proof text.
    2. Verify the checkpoint signature with the log's verifier key.
    3. Take the entry bytes from `entry`, else from the `extra` line.
    4. Check the inclusion proof of SHA-256(0x00 || entry) against the checkpoint root.
    A step runs only when the ones before it passed. Raises InvalidInput for
    a malformed `verifier_key`; a bad receipt gives a failing verdict instead.
    """
    VerifierKey.parse(verifier_key)

    # 1. Parse.
    try:
        receipt = parse_receipt(text)
    except ProofError as error:
        return ReceiptVerdict(None, None, False, False, entry, (f"receipt is malformed: {error.message}",))

    # 2. Checkpoint signature.
    try:
        checkpoint = open_checkpoint(receipt.checkpoint_note, verifier_key)
    except ProofError as error:
        return ReceiptVerdict(receipt, None, False, False, entry, (f"checkpoint not trusted: {error.message}",))

    # 3. Entry bytes.
    data = entry if entry is not None else receipt.extra
    if data is None:
        return ReceiptVerdict(receipt, checkpoint, True, False, None,
                              ("receipt carries no entry bytes; pass the entry to verify",))
    if entry is not None and receipt.extra is not None and receipt.extra != entry:
        return ReceiptVerdict(receipt, checkpoint, True, False, entry, ("entry bytes differ from the ones carried in the proof",))

    # 4. Inclusion.
    try:
        verify_inclusion(hash_leaf(data), receipt.index, checkpoint.size, list(receipt.proof), checkpoint.root)
    except ProofError as error:
        return ReceiptVerdict(receipt, checkpoint, True, False, data,
                              (f"entry #{receipt.index} is not proven in the checkpoint of size {checkpoint.size}: {error.message}",))
    return ReceiptVerdict(receipt, checkpoint, True, True, data, ())


def verify_receipt(text: str, verifier_key: str, entry: bytes | None = None) -> tuple[Receipt, SignedCheckpoint]:
    """Verify a receipt offline and return it with its checkpoint.

    Steps:
    1. Parse the proof text.
    2. Verify the checkpoint signature with the log's verifier key.
    3. Take the entry bytes from `entry`, else from the `extra` line.
    4. Check the inclusion proof of SHA-256(0x00 || entry) against the checkpoint root.

    Raises ProofError when any step fails.
    """
    # 1. Parse.
    receipt = parse_receipt(text)

    # 2. Checkpoint signature.
    checkpoint = open_checkpoint(receipt.checkpoint_note, verifier_key)

    # 3. Entry bytes.
    data = entry if entry is not None else receipt.extra
    if data is None:
        raise ProofError("proof carries no entry bytes; pass the entry to verify")
    if entry is not None and receipt.extra is not None and receipt.extra != entry:
        raise ProofError("entry bytes differ from the ones carried in the proof")

    # 4. Inclusion.
    verify_inclusion(hash_leaf(data), receipt.index, checkpoint.size, list(receipt.proof), checkpoint.root)
    return receipt, checkpoint
