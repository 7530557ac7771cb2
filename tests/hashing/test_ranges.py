"""Range proofs: build from packed leaf hashes, verify downloaded bytes against the intake root."""

from __future__ import annotations

import random

import pytest

from vault.errors import HashMismatch, InvalidInput, ProofError
from vault.hashing.digest import Digest
from vault.hashing.engine import StreamHasher
from vault.hashing.ranges import RangeProof, build_range_proof, verify_range

LEAF = 16


@pytest.fixture(scope="module")
def evidence() -> tuple[bytes, object]:
    data = random.Random(11).randbytes(37 * LEAF + 5)  # short last leaf of 5 bytes
    hasher = StreamHasher(leaf_size=LEAF)
    hasher.update(data)
    return data, hasher.finish()


def prove(evidence, offset: int, length: int) -> bytes:
    data, result = evidence
    proof = build_range_proof(result.leaf_hashes, len(data), offset, length, LEAF)
    proof = RangeProof.from_json(proof.to_json())
    start, span = proof.covering_span()
    return verify_range(data[start : start + span], proof, result.merkle_root)


@pytest.mark.parametrize(
    "offset, length",
    [(0, 1), (LEAF - 3, 6), (37 * LEAF, 5), (37 * LEAF + 2, 3), (0, 37 * LEAF + 5), (5 * LEAF, 3 * LEAF)],
    ids=["first-byte", "across-two-leaves", "short-last-leaf", "inside-last-leaf", "whole-file", "aligned-leaves"],
)
def test_range_verifies(evidence, offset: int, length: int) -> None:
    data, _ = evidence

    assert prove(evidence, offset, length) == data[offset : offset + length]


def test_covering_span_of_last_leaf(evidence) -> None:
    data, result = evidence

    proof = build_range_proof(result.leaf_hashes, len(data), len(data) - 1, 1, LEAF)

    assert proof.covering_span() == (37 * LEAF, 5)
    assert proof.tree_size == 38


@pytest.mark.parametrize(
    "offset, length, message",
    [(600, 10, "beyond the end"), (-1, 2, "negative"), (0, 0, "at least 1"), (597, 1, "beyond the end")],
)
def test_bad_range_names_value_and_size(evidence, offset: int, length: int, message: str) -> None:
    data, result = evidence

    with pytest.raises(InvalidInput, match=message) as raised:
        build_range_proof(result.leaf_hashes, len(data), offset, length, LEAF)
    assert "597 bytes" in str(raised.value)


def test_tampered_byte_fails_naming_leaf(evidence) -> None:
    data, result = evidence
    proof = build_range_proof(result.leaf_hashes, len(data), LEAF - 3, 6, LEAF)
    start, span = proof.covering_span()
    covering = bytearray(data[start : start + span])
    covering[LEAF + 1] ^= 0x80

    with pytest.raises(HashMismatch, match="leaf 1 ") as raised:
        verify_range(bytes(covering), proof, result.merkle_root)
    assert raised.value.expected != raised.value.computed


def test_other_root_rejected(evidence) -> None:
    data, result = evidence
    proof = build_range_proof(result.leaf_hashes, len(data), 0, 1, LEAF)
    other = Digest("sha256", "00" * 32)

    with pytest.raises(ProofError, match="another Merkle root"):
        verify_range(data[:LEAF], proof, other)


def test_forged_leaf_hash_fails_inclusion(evidence) -> None:
    data, result = evidence
    proof = build_range_proof(result.leaf_hashes, len(data), 2 * LEAF, 1, LEAF)
    forged_bytes = b"F" * LEAF
    from vault.hashing.merkle import hash_leaf

    forged = RangeProof(**{**proof.__dict__, "leaf_hashes": (hash_leaf(forged_bytes),)})

    with pytest.raises(ProofError, match="leaf 2"):
        verify_range(forged_bytes, forged, result.merkle_root)


def test_short_download_rejected(evidence) -> None:
    data, result = evidence
    proof = build_range_proof(result.leaf_hashes, len(data), 0, 20, LEAF)

    with pytest.raises(ProofError, match="covering bytes"):
        verify_range(data[: 2 * LEAF - 1], proof, result.merkle_root)


def test_one_mib_leaves_on_generated_file() -> None:
    data = random.Random(5).randbytes(3 * (1 << 20) + 777)
    hasher = StreamHasher()
    hasher.update(data)
    result = hasher.finish()
    offset = (1 << 20) - 10

    proof = build_range_proof(result.leaf_hashes, len(data), offset, 20)
    start, span = proof.covering_span()

    assert (start, span) == (0, 2 << 20)
    assert verify_range(data[start : start + span], proof, result.merkle_root) == data[offset : offset + 20]


def test_from_json_rejects_malformed() -> None:
    with pytest.raises(InvalidInput, match="offset"):
        RangeProof.from_json({"offset": "0"})
