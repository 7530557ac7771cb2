"""Aborted and crashed uploads leave neither an object nor an unfinished upload behind."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from vault.errors import StorageError
from vault.storage.objects import ObjectStore

MiB = 2**20


def one_day() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1)


def unfinished_uploads(store: ObjectStore, prefix: str) -> list[dict]:
    return store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=prefix).get("Uploads", [])


def test_abort_leaves_no_object_or_upload(object_store: ObjectStore) -> None:
    writer = object_store.start_upload("items/aborted", one_day(), part_size=5 * MiB)
    writer.write(os.urandom(11 * MiB))
    assert len(unfinished_uploads(object_store, "items/")) == 1

    writer.abort()

    assert unfinished_uploads(object_store, "items/") == []
    assert object_store.list_keys("items/") == []


def test_abort_twice_and_after_abort_write_fails(object_store: ObjectStore) -> None:
    writer = object_store.start_upload("items/aborted-twice", one_day())
    writer.write(b"partial")

    writer.abort()
    writer.abort()

    with pytest.raises(StorageError, match="already aborted"):
        writer.write(b"more")
    with pytest.raises(StorageError, match="already aborted"):
        writer.complete()


def test_exception_in_block_aborts_upload(object_store: ObjectStore) -> None:
    with pytest.raises(RuntimeError, match="client disconnected"):
        with object_store.start_upload("items/disconnect", one_day(), part_size=5 * MiB) as writer:
            writer.write(os.urandom(6 * MiB))
            raise RuntimeError("client disconnected")

    assert unfinished_uploads(object_store, "items/") == []
    assert object_store.list_keys("items/") == []


def test_block_without_complete_aborts_upload(object_store: ObjectStore) -> None:
    with object_store.start_upload("items/forgotten", one_day()) as writer:
        writer.write(b"never completed")

    assert unfinished_uploads(object_store, "items/") == []
    assert object_store.list_keys("items/") == []


def test_abort_after_complete_keeps_object(object_store: ObjectStore) -> None:
    with object_store.start_upload("items/done", one_day()) as writer:
        writer.write(b"done")
        stored = writer.complete()

    writer.abort()

    assert object_store.read_all(stored.key, stored.version_id) == b"done"


def test_abort_stale_uploads_after_crash(object_store: ObjectStore) -> None:
    # A crashed process leaves uploads that no writer object remembers.
    for name in ("a", "b"):
        object_store.start_upload(f"items/crashed-{name}", one_day()).write(b"partial")
    object_store.start_upload("other/crashed", one_day())
    before = datetime.now(timezone.utc) - timedelta(hours=1)

    kept = object_store.abort_stale_uploads("items/", initiated_before=before)
    aborted = object_store.abort_stale_uploads("items/")

    assert kept == []
    assert sorted(a["key"] for a in aborted) == ["items/crashed-a", "items/crashed-b"]
    assert unfinished_uploads(object_store, "items/") == []
    assert len(unfinished_uploads(object_store, "other/")) == 1
