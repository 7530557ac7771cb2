"""StreamHasher against a plain recursive Merkle reference and the fixtures' known hashes."""

from __future__ import annotations

import hashlib
import random

import pytest

from tests.conftest import MANIFEST
from vault.errors import InvalidInput
from vault.hashing.engine import StreamHasher, hash_file
from vault.hashing.merkle import EMPTY_ROOT, MerkleTree

LEAF = 16


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 written as the definition reads: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])).digest()


def leaf_counts() -> list[int]:
    counts = {0, 1, 2, 3}
    for k in range(1, 8):
        counts |= {2**k - 1, 2**k, 2**k + 1}
    return sorted(counts)


def feed_in_random_chunks(hasher: StreamHasher, data: bytes, rng: random.Random) -> None:
    position = 0
    while position < len(data):
        step = rng.choice([1, 3, LEAF - 1, LEAF, LEAF + 1, 100, 5000])
        hasher.update(data[position : position + step])
        position += step


@pytest.mark.parametrize("leaves", leaf_counts())
def test_stream_hasher_matches_reference_tree(leaves: int) -> None:
    rng = random.Random(leaves)
    short_tail = rng.randrange(0, LEAF) if leaves else 0
    size = max(0, leaves * LEAF - short_tail)
    data = rng.randbytes(size)
    chunks = [data[i : i + LEAF] for i in range(0, size, LEAF)]
    hasher = StreamHasher(("md5", "sha1"), leaf_size=LEAF)

    feed_in_random_chunks(hasher, data, rng)
    result = hasher.finish()

    assert result.size == size
    assert result.merkle_root.raw == reference_root(chunks)
    assert MerkleTree.from_packed(result.leaf_hashes).root() == reference_root(chunks)
    assert result.leaf_count == len(chunks)
    assert result.sha256.hex == hashlib.sha256(data).hexdigest()
    assert result.digest("md5").hex == hashlib.md5(data).hexdigest()
    assert result.digest("sha1").hex == hashlib.sha1(data).hexdigest()


def test_stream_hasher_large_updates_cross_blocks() -> None:
    rng = random.Random(7)
    data = rng.randbytes(5 * (1 << 20) + 12345)
    hasher = StreamHasher()

    hasher.update(data[: 3 << 20])
    hasher.update(bytearray(data[3 << 20 : (3 << 20) + 1]))
    hasher.update(memoryview(data)[(3 << 20) + 1 :])
    result = hasher.finish()

    chunks = [data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)]
    assert result.leaf_count == 6
    assert result.merkle_root.raw == reference_root(chunks)
    assert result.sha256.hex == hashlib.sha256(data).hexdigest()


def test_digest_order_is_sha256_md5_sha1() -> None:
    result = StreamHasher(("sha1", "md5")).finish()

    assert [digest.algorithm for digest in result.digests] == ["sha256", "md5", "sha1"]
    assert result.digest("sha1") is not None
    assert StreamHasher().finish().digest("md5") is None


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fixture_known_hashes(name: str) -> None:
    image = MANIFEST[name]

    result = hash_file(image.path, ("md5",))

    assert result.size == image.size
    assert str(result.sha256) == f"sha256:{image.sha256}"
    assert str(result.digest("md5")) == f"md5:{image.md5}"


def test_empty_file_has_empty_root() -> None:
    image = MANIFEST["dfvfs/hfsplus.hdd/hfsplus.hdd"]

    result = hash_file(image.path)

    assert result.size == 0
    assert str(result.sha256) == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert result.merkle_root.raw == EMPTY_ROOT
    assert result.leaf_hashes == b""


def test_unknown_algorithm_rejected() -> None:
    with pytest.raises(InvalidInput, match="crc32"):
        StreamHasher(("crc32",))


def test_finished_hasher_rejects_updates() -> None:
    hasher = StreamHasher()
    hasher.finish()

    with pytest.raises(InvalidInput):
        hasher.update(b"more")


def test_close_stops_worker_threads() -> None:
    hasher = StreamHasher(("md5", "sha1"))
    hasher.update(b"x" * (3 << 20))

    hasher.close()
    hasher.close()

    assert all(not worker._thread.is_alive() for worker in hasher._workers)


def test_missing_file_is_invalid_input(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        hash_file(tmp_path / "absent.dd")
