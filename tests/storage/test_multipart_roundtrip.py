"""Multipart uploads of real images and generated data, read back byte for byte from SeaweedFS."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest

from vault.errors import InvalidInput
from vault.storage.multipart import composite_sha256, part_size_for, plan_parts
from vault.storage.objects import ObjectStore

MiB = 2**20


def one_day() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


@pytest.mark.parametrize("name", ["dfvfs/ext2.split.E01", "dfvfs/image.E01", "dfvfs/ímynd.dd"])
def test_fixture_image_round_trip_byte_identical(object_store: ObjectStore, manifest, name: str) -> None:
    image = manifest[name]
    retain_until = one_day()

    with object_store.start_upload(f"items/{name.encode().hex()}", retain_until) as writer:
        with image.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(300_001), b""):
                writer.write(chunk)
        stored = writer.complete()
    read_back = b"".join(object_store.read(stored.key, stored.version_id))

    assert stored.size == image.size
    assert len(read_back) == image.size
    assert hashlib.sha256(read_back).hexdigest() == image.sha256
    assert hashlib.md5(read_back).hexdigest() == image.md5
    assert stored.retention_mode == "COMPLIANCE"
    assert stored.retain_until is not None
    assert stored.retain_until >= retain_until.replace(microsecond=0)


def test_small_part_size_splits_into_three_parts(object_store: ObjectStore) -> None:
    data = os.urandom(12 * MiB + 12345)
    retain_until = one_day()

    with object_store.start_upload("items/twelve-mib", retain_until, part_size=5 * MiB) as writer:
        for start in range(0, len(data), 1_000_003):
            writer.write(data[start : start + 1_000_003])
        stored = writer.complete()
    read_back = b"".join(object_store.read(stored.key, stored.version_id, chunk_size=777_777))

    assert writer.bytes_written == len(data)
    assert read_back == data
    expected_parts = [data[0 : 5 * MiB], data[5 * MiB : 10 * MiB], data[10 * MiB :]]
    assert stored.checksum_sha256 == composite_sha256([sha256_b64(part) for part in expected_parts])
    assert stored.checksum_sha256.endswith("-3")


def test_concurrent_parts_keep_order(object_store: ObjectStore) -> None:
    # Four parts in flight at once must still be assembled in part-number order.
    data = b"".join(bytes([index]) * 5 * MiB for index in range(6))

    with object_store.start_upload("items/ordered", one_day(), part_size=5 * MiB, concurrency=4) as writer:
        writer.write(data)
        stored = writer.complete()

    assert object_store.read_all(stored.key, stored.version_id) == data


def test_empty_object_stored_as_one_part(object_store: ObjectStore) -> None:
    with object_store.start_upload("items/empty", one_day()) as writer:
        stored = writer.complete()

    assert stored.size == 0
    assert stored.retention_mode == "COMPLIANCE"
    assert object_store.read_all(stored.key, stored.version_id) == b""
    assert list(object_store.read(stored.key, stored.version_id)) == []


def test_retention_and_metadata_kept_on_version(object_store: ObjectStore) -> None:
    retain_until = datetime.now(timezone.utc) + timedelta(days=30)

    with object_store.start_upload("items/meta", retain_until, metadata={"case": "C-1", "item": "42"}) as writer:
        writer.write(b"evidence")
        stored = writer.complete()
    head = object_store.head(stored.key, stored.version_id)
    raw = object_store.client.head_object(Bucket=object_store.bucket, Key=stored.key, VersionId=stored.version_id)

    assert head.retention_mode == "COMPLIANCE"
    assert head.retain_until == stored.retain_until
    assert abs(head.retain_until - retain_until) < timedelta(seconds=1)
    assert head.legal_hold is False
    assert raw["Metadata"] == {"case": "C-1", "item": "42"}


def test_byte_range_read(object_store: ObjectStore) -> None:
    data = os.urandom(3 * MiB)
    stored = object_store.put_locked("leaves/range", data, one_day())

    middle = b"".join(object_store.read(stored.key, stored.version_id, offset=MiB - 7, length=MiB + 11, chunk_size=4096))
    tail = b"".join(object_store.read(stored.key, stored.version_id, offset=2 * MiB))
    nothing = b"".join(object_store.read(stored.key, stored.version_id, offset=5, length=0))

    assert middle == data[MiB - 7 : 2 * MiB + 4]
    assert tail == data[2 * MiB :]
    assert nothing == b""


def test_put_locked_returns_checked_version(object_store: ObjectStore) -> None:
    data = b"checkpoint\n"

    first = object_store.put_locked("checkpoints/1", data, one_day(), content_type="text/plain")
    second = object_store.put_locked("checkpoints/1", data + b"x", one_day())

    assert first.version_id != second.version_id
    assert first.checksum_sha256 == sha256_b64(data)
    assert object_store.read_all("checkpoints/1", first.version_id) == data
    assert object_store.read_all("checkpoints/1") == data + b"x"
    assert object_store.list_keys("checkpoints/") == ["checkpoints/1"]


def test_part_size_doubles_every_2000_parts() -> None:
    assert part_size_for(1, 16 * MiB) == 16 * MiB
    assert part_size_for(2000, 16 * MiB) == 16 * MiB
    assert part_size_for(2001, 16 * MiB) == 32 * MiB
    assert part_size_for(10_000, 16 * MiB) == 256 * MiB
    assert sum(part_size_for(number, 16 * MiB) for number in range(1, 10_001)) == 2000 * 16 * MiB * (1 + 2 + 4 + 8 + 16)


def test_part_size_below_s3_minimum_rejected(object_store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="at least 5242880"):
        object_store.start_upload("items/tiny-parts", one_day(), part_size=MiB)


def test_naive_retain_until_rejected(object_store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        object_store.put_locked("items/naive", b"x", datetime.now() + timedelta(days=1))


def test_past_retain_until_rejected(object_store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="not in the future"):
        object_store.start_upload("items/past", datetime.now(timezone.utc) - timedelta(seconds=1))


def test_non_ascii_metadata_rejected(object_store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="ASCII"):
        object_store.start_upload("items/unicode", one_day(), metadata={"filename": "ímynd.dd"})


@pytest.mark.parametrize(
    ("size", "part_size", "in_flight"),
    [
        (None, 8 * MiB, 4),
        (0, 8 * MiB, 4),
        (4 * 2**30, 8 * MiB, 4),
        (9000 * 8 * MiB, 8 * MiB, 4),
        (9000 * 8 * MiB + 1, 16 * MiB, 2),
        (200 * 2**30, 32 * MiB, 1),
        (2**40, 128 * MiB, 1),
        (5 * 2**40, 1024 * MiB, 1),
    ],
)
def test_plan_parts_by_size(size, part_size, in_flight) -> None:
    assert plan_parts(size) == (part_size, in_flight)
    if size:
        assert -(-size // part_size) <= 9000
