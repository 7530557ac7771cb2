"""Proofs that a byte range of stored evidence belongs to the Merkle root recorded at intake.

A range proof names the leaves that cover the range, their hashes and one RFC
6962 audit path per leaf. The verifier downloads only the covering bytes
(`RangeProof.covering_span()`), hashes them leaf by leaf and checks each path
against the root it trusts.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from vault.errors import HashMismatch, InvalidInput, ProofError
from vault.hashing.digest import Digest
from vault.hashing.merkle import HASH_SIZE, LEAF_SIZE, MerkleTree, hash_leaf, verify_inclusion


@dataclass(frozen=True)
class RangeProof:
    """Leaf hashes and audit paths covering [offset, offset + length) of a file."""

    offset: int
    length: int
    file_size: int
    leaf_size: int
    tree_size: int  # number of leaves in the file's tree
    first_leaf: int
    leaf_hashes: tuple[bytes, ...]  # hashes of the covering leaves, in order
    inclusion_proofs: tuple[tuple[bytes, ...], ...]  # one audit path per covering leaf
    root: bytes

    def covering_span(self) -> tuple[int, int]:
        """Return the byte offset and length of the covering leaves, the bytes to download."""
        start = self.first_leaf * self.leaf_size
        end = min(self.file_size, (self.first_leaf + len(self.leaf_hashes)) * self.leaf_size)
        return start, end - start

    def to_json(self) -> dict:
        return {
            "offset": self.offset,
            "length": self.length,
            "file_size": self.file_size,
            "leaf_size": self.leaf_size,
            "tree_size": self.tree_size,
            "first_leaf": self.first_leaf,
            "leaf_hashes": [_b64(leaf) for leaf in self.leaf_hashes],
            "inclusion_proofs": [[_b64(node) for node in path] for path in self.inclusion_proofs],
            "root": str(Digest.from_bytes("sha256", self.root)),
        }

    @classmethod
    def from_json(cls, data: dict) -> "RangeProof":
        """Parse the output of `to_json`; raises InvalidInput naming the malformed field."""
        if not isinstance(data, dict):
            raise InvalidInput("range proof must be a JSON object")
        numbers = {}
        for field in ("offset", "length", "file_size", "leaf_size", "tree_size", "first_leaf"):
            value = data.get(field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput(f"range proof field {field!r} must be a non-negative integer, got {value!r}")
            numbers[field] = value
        leaves = data.get("leaf_hashes")
        paths = data.get("inclusion_proofs")
        if not isinstance(leaves, list) or not isinstance(paths, list):
            raise InvalidInput("range proof fields 'leaf_hashes' and 'inclusion_proofs' must be lists")
        if not all(isinstance(path, list) for path in paths):
            raise InvalidInput("range proof field 'inclusion_proofs' must be a list of lists")
        root = Digest.parse(str(data.get("root", "")))
        if root.algorithm != "sha256":
            raise InvalidInput(f"range proof root must be a sha256 digest, got {root}")
        return cls(
            **numbers,
            leaf_hashes=tuple(_unb64(leaf, "leaf_hashes") for leaf in leaves),
            inclusion_proofs=tuple(tuple(_unb64(node, "inclusion_proofs") for node in path) for path in paths),
            root=root.raw,
        )


def build_range_proof(
    packed_leaf_hashes: bytes, file_size: int, offset: int, length: int, leaf_size: int = LEAF_SIZE
) -> RangeProof:
    """Build the proof for [offset, offset + length) from the file's packed leaf hashes.

    Building the tree is O(n) in the leaf count, then each covering leaf's
    audit path is O(log n). Raises InvalidInput for a negative offset, a zero
    or negative length, a range past the end of the file, or leaf hashes that
    do not fit the file size.
    """
    if leaf_size <= 0:
        raise InvalidInput(f"leaf size must be positive, got {leaf_size}")
    if offset < 0:
        raise InvalidInput(f"range offset {offset} is negative; the file is {file_size} bytes")
    if length <= 0:
        raise InvalidInput(f"range length {length} must be at least 1; the file is {file_size} bytes")
    if offset + length > file_size:
        raise InvalidInput(
            f"range {offset}..{offset + length} (offset {offset}, length {length}) ends beyond the end of the file of {file_size} bytes"
        )
    tree_size = -(-file_size // leaf_size)
    if len(packed_leaf_hashes) != tree_size * HASH_SIZE:
        raise InvalidInput(
            f"{len(packed_leaf_hashes)} bytes of leaf hashes do not fit a file of {file_size} bytes "
            f"with {leaf_size}-byte leaves: expected {tree_size * HASH_SIZE}"
        )

    tree = MerkleTree.from_packed(packed_leaf_hashes)
    first_leaf = offset // leaf_size
    last_leaf = (offset + length - 1) // leaf_size
    leaves = range(first_leaf, last_leaf + 1)
    return RangeProof(
        offset=offset,
        length=length,
        file_size=file_size,
        leaf_size=leaf_size,
        tree_size=tree_size,
        first_leaf=first_leaf,
        leaf_hashes=tuple(packed_leaf_hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in leaves),
        inclusion_proofs=tuple(tuple(tree.inclusion_proof(i, tree_size)) for i in leaves),
        root=tree.root(tree_size),
    )


def verify_range(covering_bytes: bytes, proof: RangeProof, trusted_root: Digest) -> bytes:
    """Check the covering bytes against a trusted root and return the requested slice.

    Steps:
    1. The proof's root equals the trusted root recorded at intake.
    2. The proof's shape fits its file size, leaf size and range.
    3. Each covering leaf of the downloaded bytes hashes to its leaf hash.
    4. Each leaf's audit path leads to the root.
    Raises ProofError or HashMismatch naming the leaf that fails.
    """
    # 1. Root equals the trusted root.
    if trusted_root.algorithm != "sha256":
        raise ProofError(f"trusted root must be a sha256 digest, got {trusted_root}")
    if proof.root != trusted_root.raw:
        raise ProofError("range proof is for another Merkle root", str(trusted_root), f"sha256:{proof.root.hex()}")

    # 2. Shape of the proof.
    if proof.leaf_size <= 0 or proof.length <= 0 or proof.offset < 0 or proof.offset + proof.length > proof.file_size:
        raise ProofError(
            f"range proof for offset {proof.offset}, length {proof.length} does not fit a file of {proof.file_size} bytes"
        )
    expected_tree_size = -(-proof.file_size // proof.leaf_size)
    if proof.tree_size != expected_tree_size:
        raise ProofError("range proof tree size does not fit the file size", str(expected_tree_size), str(proof.tree_size))
    first_leaf = proof.offset // proof.leaf_size
    leaf_count = (proof.offset + proof.length - 1) // proof.leaf_size - first_leaf + 1
    if proof.first_leaf != first_leaf or len(proof.leaf_hashes) != leaf_count or len(proof.inclusion_proofs) != leaf_count:
        raise ProofError(
            f"range proof must cover leaves {first_leaf}..{first_leaf + leaf_count - 1}, "
            f"but covers {len(proof.leaf_hashes)} leaves from {proof.first_leaf} with {len(proof.inclusion_proofs)} paths"
        )
    span_start, span_length = proof.covering_span()
    if len(covering_bytes) != span_length:
        raise ProofError(
            f"covering bytes must be {span_length} bytes from offset {span_start}, got {len(covering_bytes)}"
        )

    # 3. Each leaf's bytes hash to its leaf hash.
    view = memoryview(covering_bytes)
    for position, expected in enumerate(proof.leaf_hashes):
        index = first_leaf + position
        computed = hash_leaf(view[position * proof.leaf_size : (position + 1) * proof.leaf_size])
        if computed != expected:
            raise HashMismatch(
                f"leaf {index} (bytes {index * proof.leaf_size}..{min(proof.file_size, (index + 1) * proof.leaf_size)})",
                f"sha256:{expected.hex()}",
                f"sha256:{computed.hex()}",
                "the downloaded bytes differ from the bytes recorded at intake",
            )

    # 4. Each audit path leads to the root.
    for position, (leaf, path) in enumerate(zip(proof.leaf_hashes, proof.inclusion_proofs)):
        index = first_leaf + position
        try:
            verify_inclusion(leaf, index, proof.tree_size, path, proof.root)
        except ProofError as error:
            raise ProofError(f"leaf {index}: {error.message}") from error

    start = proof.offset - span_start
    return bytes(view[start : start + proof.length])


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _unb64(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidInput(f"range proof field {field!r} must hold base64 strings, got {value!r}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(f"range proof field {field!r} holds invalid base64 {value!r}") from error
