"""Part checksums handed in by the intake's hasher: used when right, and rejected by storage when wrong."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest

from vault.errors import StorageError
from vault.storage.objects import ObjectStore

MiB = 2**20


def one_day() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1)


def test_digests_from_source_used_for_every_part(object_store: ObjectStore) -> None:
    data = os.urandom(12 * MiB + 99)
    requested: list[tuple[int, int]] = []

    def source(number: int, size: int) -> bytes:
        requested.append((number, size))
        start = (number - 1) * 5 * MiB
        return hashlib.sha256(data[start : start + size]).digest()

    with object_store.start_upload("items/digest-source", one_day(), part_size=5 * MiB) as writer:
        writer.take_part_digests_from(source)
        writer.write(data)
        stored = writer.complete()

    assert requested == [(1, 5 * MiB), (2, 5 * MiB), (3, 2 * MiB + 99)]
    assert writer.parts_hashed_here == 0
    assert b"".join(object_store.read(stored.key, stored.version_id)) == data


def test_missing_digest_hashed_by_writer(object_store: ObjectStore) -> None:
    data = os.urandom(11 * MiB)

    with object_store.start_upload("items/digest-partly", one_day(), part_size=5 * MiB) as writer:
        writer.take_part_digests_from(lambda number, size: None if number == 2 else hashlib.sha256(
            data[(number - 1) * 5 * MiB : (number - 1) * 5 * MiB + size]).digest())
        writer.write(data)
        stored = writer.complete()

    assert writer.parts_hashed_here == 1
    assert b"".join(object_store.read(stored.key, stored.version_id)) == data


def test_wrong_digest_from_source_rejected_by_storage(object_store: ObjectStore) -> None:
    data = os.urandom(6 * MiB)
    writer = object_store.start_upload("items/digest-wrong", one_day(), part_size=5 * MiB)
    writer.take_part_digests_from(lambda number, size: hashlib.sha256(b"other bytes").digest())

    with pytest.raises(StorageError), writer:
        writer.write(data)
        writer.complete()

    listed = object_store.client.list_object_versions(Bucket=object_store.settings.bucket, Prefix="items/digest-wrong")
    assert not listed.get("Versions")
    uploads = object_store.client.list_multipart_uploads(Bucket=object_store.settings.bucket, Prefix="items/digest-wrong")
    assert not uploads.get("Uploads")


def test_reused_part_buffers_keep_every_part_intact(object_store: ObjectStore) -> None:
    # Ten parts through two upload slots: every part buffer is filled again several times.
    data = os.urandom(50 * MiB - 3)
    sizes = [1, 65_536, 3 * MiB, 262_144, 7]

    with object_store.start_upload("items/reused-buffers", one_day(), part_size=5 * MiB, concurrency=2) as writer:
        position, turn = 0, 0
        while position < len(data):
            size = sizes[turn % len(sizes)]
            writer.write(memoryview(data)[position : position + size])
            position += size
            turn += 1
        stored = writer.complete()

    assert b"".join(object_store.read(stored.key, stored.version_id)) == data
    assert writer.parts_hashed_here == 10
