"""RFC 6962 / RFC 9162 Merkle trees: hashing, roots, proofs and their verification.

One implementation serves both trees of the vault: the evidence tree, whose
leaves are consecutive 1 MiB chunks of an item's bytes, and the custody log,
whose leaves are the stored ledger entry bytes.

Leaf hash: SHA-256(0x00 || data). Node hash: SHA-256(0x01 || left || right).
The tree over n leaves splits at the largest power of two below n (RFC 9162
section 2.1.1); the empty tree's root is SHA-256 of the empty string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from vault.errors import InvalidInput, ProofError

LEAF_SIZE = 1 << 20
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

LEAF_PREFIX = b"\x00"  # RFC 6962 domain separation: leaf hashes start with 0x00, node hashes with 0x01
_NODE_PREFIX = b"\x01"


def hash_leaf(data: bytes | memoryview) -> bytes:
    h = hashlib.sha256(LEAF_PREFIX)
    h.update(data)
    return h.digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split_point(n: int) -> int:
    """Return the largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An in-memory RFC 6962 tree over a list of leaf hashes.

    Every level is kept (an odd last node is carried up unchanged, which gives
    the RFC 6962 shape), so a root, an inclusion proof or a consistency proof
    for any earlier tree size costs O(log n) hash operations after the
    O(n) build. Memory is about 2 * 32 bytes per leaf.
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [list(leaf_hashes)]
        for leaf in self._levels[0]:
            if len(leaf) != HASH_SIZE:
                raise InvalidInput(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        self._rebuild_from(0)

    @classmethod
    def from_packed(cls, packed: bytes) -> "MerkleTree":
        """Build from leaf hashes concatenated as 32-byte records."""
        if len(packed) % HASH_SIZE:
            raise InvalidInput(f"packed leaf hashes length {len(packed)} is not a multiple of {HASH_SIZE}")
        return cls([packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)])

    def _rebuild_from(self, first_leaf: int) -> None:
        level = 0
        start = first_leaf
        while len(self._levels[level]) > 1:
            below = self._levels[level]
            if level + 1 == len(self._levels):
                self._levels.append([])
            above = self._levels[level + 1]
            start_parent = start // 2
            del above[start_parent:]
            for i in range(start_parent * 2, len(below), 2):
                if i + 1 < len(below):
                    above.append(hash_children(below[i], below[i + 1]))
                else:
                    above.append(below[i])
            level += 1
            start = start_parent
        del self._levels[level + 1 :]

    def append(self, leaf_hash: bytes) -> None:
        self.extend([leaf_hash])

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        first = len(self._levels[0])
        for leaf in leaf_hashes:
            if len(leaf) != HASH_SIZE:
                raise InvalidInput(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        self._levels[0].extend(leaf_hashes)
        if len(self._levels[0]) > first:
            self._rebuild_from(first)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree over the first `size` leaves (default all)."""
        size = self.size if size is None else size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._subtree_hash(0, size)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise InvalidInput(f"tree size {size} is out of range 0..{self.size}")

    def _subtree_hash(self, lo: int, hi: int) -> bytes:
        """Hash of leaves [lo, hi) where lo is aligned to the subtree's left edge."""
        n = hi - lo
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._levels[level][lo >> level]
        k = _split_point(n)
        return hash_children(self._subtree_hash(lo, lo + k), self._subtree_hash(lo + k, hi))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 9162 audit path for leaf `index` in the tree of `size` leaves."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise InvalidInput(f"leaf index {index} is out of range for tree size {size}")
        proof: list[bytes] = []
        lo, hi = 0, size
        # Walk down from the root, collecting the sibling subtree at each split.
        while hi - lo > 1:
            k = _split_point(hi - lo)
            if index < lo + k:
                proof.append(self._subtree_hash(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._subtree_hash(lo, lo + k))
                lo = lo + k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the RFC 9162 consistency proof between two tree sizes."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise InvalidInput(f"old tree size {old_size} is out of range 0..{new_size}")
        if old_size == 0 or old_size == new_size:
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self._subtree_hash(lo, hi)]
        k = _split_point(n)
        if m <= k:
            return self._subproof(m, lo, lo + k, complete) + [self._subtree_hash(lo + k, hi)]
        return self._subproof(m - k, lo + k, hi, False) + [self._subtree_hash(lo, lo + k)]


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    return MerkleTree(leaf_hashes).root()


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check an RFC 9162 inclusion proof; raise `ProofError` if it does not verify.

    Steps (RFC 9162 section 2.1.3.2):
    1. Reject an index outside the tree.
    2. Fold the proof into a root, choosing left or right by the index bits.
    3. Require that the proof was exactly as long as the path and the root matches.
    """
    # 1. Well-formed hashes, index inside the tree.
    _check_hash_length(leaf_hash, "leaf hash")
    _check_hash_length(root, "root")
    if index < 0 or size <= 0 or index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")

    # 2. Fold the audit path.
    fn, sn = index, size - 1
    computed = leaf_hash
    for sibling in proof:
        _check_hash_length(sibling)
        if sn == 0:
            raise ProofError(f"inclusion proof for leaf {index} of {size} is longer than the path")
        if fn & 1 or fn == sn:
            computed = hash_children(sibling, computed)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            computed = hash_children(computed, sibling)
        fn >>= 1
        sn >>= 1

    # 3. Whole path used, root equal.
    if sn != 0:
        raise ProofError(f"inclusion proof for leaf {index} of {size} is shorter than the path")
    if computed != root:
        raise ProofError(f"inclusion proof for leaf {index} of {size} gives another root", root.hex(), computed.hex())


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check an RFC 9162 consistency proof; raise `ProofError` if it does not verify.

    Steps (RFC 9162 section 2.1.4.2):
    1. Handle the trivial sizes (shrinking tree, equal sizes, empty old tree).
    2. Fold the proof into both roots at once.
    3. Require both roots to match and the whole proof to be used.
    """
    # 1. Trivial sizes.
    if new_size < old_size:
        raise ProofError(f"tree size went from {old_size} to {new_size}: a log never shrinks")
    if old_size <= 0:
        # Every tree extends the empty tree, so such a proof proves nothing;
        # callers that trust an empty checkpoint skip the check instead.
        raise ProofError(f"consistency proof from tree size {old_size} proves nothing; start from size 1 or more")
    proof = list(proof)
    for node in proof:
        _check_hash_length(node)
    if old_size == new_size:
        if proof:
            raise ProofError(f"consistency proof between equal sizes {old_size} must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for tree size {old_size}", old_root.hex(), new_root.hex())
        return
    if not proof:
        raise ProofError(f"consistency proof from {old_size} to {new_size} is empty")

    # 2. Fold the proof.
    if old_size & (old_size - 1) == 0:
        proof = [old_root] + proof
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_computed = new_computed = proof[0]
    for node in proof[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof from {old_size} to {new_size} is too long")
        if fn & 1 or fn == sn:
            old_computed = hash_children(node, old_computed)
            new_computed = hash_children(node, new_computed)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            new_computed = hash_children(new_computed, node)
        fn >>= 1
        sn >>= 1

    # 3. Both roots, whole proof.
    if sn != 0:
        raise ProofError(f"consistency proof from {old_size} to {new_size} is too short")
    if old_computed != old_root:
        raise ProofError(f"consistency proof does not reproduce the root of size {old_size}", old_root.hex(), old_computed.hex())
    if new_computed != new_root:
        raise ProofError(f"consistency proof does not reproduce the root of size {new_size}", new_root.hex(), new_computed.hex())


def _check_hash_length(node: bytes, what: str = "proof node") -> None:
    if len(node) != HASH_SIZE:
        raise ProofError(f"{what} is {len(node)} bytes, expected {HASH_SIZE}")
