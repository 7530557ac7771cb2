"""StreamHasher against a plain recursive Merkle reference and the fixtures' known hashes."""

from __future__ import annotations

import hashlib
import random

import pytest

from tests.conftest import MANIFEST
from vault.errors import InvalidInput
from vault.hashing import lanes
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


@pytest.mark.parametrize("algorithms", [(), ("md5",)], ids=["in-place", "blocks"])
@pytest.mark.parametrize("leaf_size", [LEAF, 1000, 1 << 20])
def test_lanes_and_hashlib_engines_agree(monkeypatch, leaf_size: int, algorithms: tuple[str, ...]) -> None:
    rng = random.Random(leaf_size)
    data = rng.randbytes(3 * (1 << 20) + 4321)
    chunk_sizes = [rng.choice([1, 777, 65536, 1 << 20, 3 << 20]) for _ in range(200)]

    def run() -> tuple:
        hasher = StreamHasher(algorithms, leaf_size=leaf_size)
        position = 0
        for size in chunk_sizes:
            hasher.update(data[position : position + size])
            position += size
        hasher.update(data[position:])
        result = hasher.finish()
        return result.sha256, result.merkle_root, result.leaf_hashes, result.digests

    with_lanes = run()
    monkeypatch.setattr(lanes, "_native", None)
    with_hashlib = run()

    assert with_lanes == with_hashlib
    assert with_lanes[0].hex == hashlib.sha256(data).hexdigest()


def span_sizes(number: int) -> int:
    return 3 * LEAF if number < 3 else 5 * LEAF + 7


@pytest.mark.skipif(lanes.engine() == "hashlib", reason="spans need the SHA-NI lanes; test_sha256_lanes checks why they are missing")
@pytest.mark.parametrize("algorithms", [(), ("sha1",)], ids=["in-place", "blocks"])
def test_span_digests_match_slices(algorithms: tuple[str, ...]) -> None:
    rng = random.Random(11)
    data = rng.randbytes(40 * LEAF + 5)
    hasher = StreamHasher(algorithms, leaf_size=LEAF)

    assert hasher.digest_spans(span_sizes) is True
    feed_in_random_chunks(hasher, data, rng)
    result = hasher.finish()

    bounds = [0, 3 * LEAF, 6 * LEAF, 11 * LEAF + 7, 16 * LEAF + 14, 21 * LEAF + 21, 26 * LEAF + 28, 31 * LEAF + 35, 36 * LEAF + 42, len(data)]
    for number, (start, end) in enumerate(zip(bounds, bounds[1:]), start=1):
        assert hasher.take_span_digest(number, end - start) == hashlib.sha256(data[start:end]).digest(), f"span {number}"
    assert result.merkle_root.raw == reference_root([data[i : i + LEAF] for i in range(0, len(data), LEAF)])


@pytest.mark.skipif(lanes.engine() == "hashlib", reason="spans need the SHA-NI lanes; test_sha256_lanes checks why they are missing")
def test_span_digest_refused_for_other_size() -> None:
    hasher = StreamHasher(leaf_size=LEAF)
    hasher.digest_spans(lambda number: 2 * LEAF)
    hasher.update(bytes(5 * LEAF))
    hasher.finish()

    assert hasher.take_span_digest(1, 2 * LEAF - 1) is None
    assert hasher.take_span_digest(1, 2 * LEAF) is None  # a refused digest is gone, so the caller hashes the part itself
    assert hasher.take_span_digest(2, 2 * LEAF) == hashlib.sha256(bytes(2 * LEAF)).digest()
    assert hasher.take_span_digest(3, 2 * LEAF) is None  # the last span contains only LEAF bytes
    assert hasher.take_span_digest(3, LEAF) == hashlib.sha256(bytes(LEAF)).digest()
    assert hasher.take_span_digest(4, 2 * LEAF) is None


def test_spans_after_first_update_rejected() -> None:
    hasher = StreamHasher(leaf_size=LEAF)
    hasher.update(b"x")

    with pytest.raises(InvalidInput, match="before the first update"):
        hasher.digest_spans(lambda number: LEAF)
    hasher.close()


def test_spans_without_lanes_left_to_caller(monkeypatch) -> None:
    monkeypatch.setattr(lanes, "_native", None)
    hasher = StreamHasher(leaf_size=LEAF)

    assert hasher.digest_spans(lambda number: LEAF) is False
    hasher.update(bytes(3 * LEAF))
    hasher.finish()
    assert hasher.take_span_digest(1, LEAF) is None
