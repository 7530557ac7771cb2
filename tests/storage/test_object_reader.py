"""ObjectReader: ranged GETs over one pinned version of a real SeaweedFS object, compared byte for byte."""

from __future__ import annotations

import io
import os
import gc
import random
import socket
import sys
import threading
import time
import weakref
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from vault.errors import InvalidInput, StorageError
from vault.storage.errors import ObjectNotFound, StorageUnavailable
from vault.storage.objects import ObjectStore
from vault.storage.reader import MAX_BLOCK_SIZE, ObjectReader

KiB = 2**10
MiB = 2**20


def one_day() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def stored_data(object_store: ObjectStore) -> tuple[ObjectStore, str, str, bytes]:
    # 3 MiB and a few bytes, so a 16 KiB maximum block gives a ragged last block.
    data = random.Random(1).randbytes(3 * MiB + 1234)
    stored = object_store.put_locked("items/reader", data, one_day())
    return object_store, stored.key, stored.version_id, data


def test_random_reads_match_stored_bytes(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = store.open_reader(key, version_id, name="disk.E01")
    rng = random.Random(2)

    for _ in range(400):
        offset = rng.randrange(0, len(data) + 10)
        size = rng.choice([0, 1, 76, 4 * KiB - 1, 32 * KiB + 4, 200 * KiB, rng.randrange(0, 2 * MiB)])
        assert reader.seek(offset) == offset
        chunk = reader.read(size)
        assert chunk == data[offset : offset + size], (offset, size)
        assert reader.tell() == offset + len(chunk)


def test_reads_across_block_edges(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = ObjectReader(store, key, version_id, len(data), min_block_size=4 * KiB, max_block_size=16 * KiB)
    edges = [4 * KiB, 12 * KiB, 16 * KiB, 28 * KiB, 64 * KiB, len(data) - 16 * KiB, len(data)]

    for edge in edges:
        for start, size in [(edge - 1, 2), (edge - 100, 300), (max(0, edge - 16 * KiB), 16 * KiB + 1), (edge - 5, 40 * KiB)]:
            reader.seek(start)
            assert reader.read(size) == data[start : start + size], (edge, start, size)


def test_sequential_scan_returns_every_byte(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = ObjectReader(store, key, version_id, len(data), min_block_size=4 * KiB, max_block_size=16 * KiB)

    parts = []
    while part := reader.read(32 * KiB + 4):
        parts.append(part)

    assert b"".join(parts) == data
    # 4+8+16 KiB ramp, then full 16 KiB blocks: the block size bounds the requests, not the read size.
    assert reader.requests_sent <= len(data) // (16 * KiB) + 3


def test_default_blocks_read_ahead(object_store: ObjectStore) -> None:
    data = random.Random(3).randbytes(2 * MAX_BLOCK_SIZE + 999)
    stored = object_store.put_locked("items/reader-large", data, one_day())
    reader = object_store.open_reader(stored.key, stored.version_id)

    parts = []
    while part := reader.read(32 * KiB):
        parts.append(part)

    assert b"".join(parts) == data
    # 64 KiB doubling to 8 MiB is 8 requests for the first 16 MiB - 64 KiB, then one more for the rest.
    assert reader.requests_sent == 9


def test_eof_behaviour(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = store.open_reader(key, version_id)

    assert reader.seek(-10, os.SEEK_END) == len(data) - 10
    assert reader.read(100) == data[-10:]
    assert reader.read(100) == b""
    assert reader.tell() == len(data)
    assert reader.seek(len(data) + 50) == len(data) + 50
    assert reader.read(1) == b""
    assert reader.read() == b""
    assert reader.seek(-5, os.SEEK_CUR) == len(data) + 45


def test_read_all_and_readinto(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = store.open_reader(key, version_id)

    reader.seek(MiB)
    rest = reader.read()
    reader.seek(7)
    buffer = bytearray(1000)
    count = reader.readinto(buffer)

    assert rest == data[MiB:]
    assert count == 1000
    assert bytes(buffer) == data[7:1007]
    assert io.BufferedReader(store.open_reader(key, version_id)).read() == data


def test_empty_object(object_store: ObjectStore) -> None:
    stored = object_store.put_locked("items/empty", b"", one_day())
    reader = object_store.open_reader(stored.key, stored.version_id)

    assert reader.size == 0
    assert reader.read(10) == b""
    assert reader.read() == b""
    assert reader.seek(0, os.SEEK_END) == 0
    assert reader.requests_sent == 0


def test_pinned_version_after_overwrite(object_store: ObjectStore) -> None:
    first = object_store.put_locked("items/rewritten", b"A" * (200 * KiB), one_day())
    reader = object_store.open_reader(first.key, first.version_id)
    head_start = reader.read(10)

    second = object_store.put_locked("items/rewritten", b"B" * (300 * KiB), one_day())
    reader.seek(150 * KiB)
    after = reader.read(100 * KiB)
    reopened = object_store.open_reader(first.key, first.version_id).read()

    assert second.version_id != first.version_id
    assert head_start == b"A" * 10
    assert after == b"A" * (50 * KiB)
    assert reopened == b"A" * (200 * KiB)
    assert object_store.open_reader(second.key, second.version_id).read(3) == b"BBB"


def test_seek_argument_errors(stored_data) -> None:
    store, key, version_id, _ = stored_data
    reader = store.open_reader(key, version_id)

    with pytest.raises(ValueError, match="negative seek position -1"):
        reader.seek(-1)
    with pytest.raises(ValueError, match="invalid whence 7"):
        reader.seek(0, 7)


def test_closed_reader_rejects_reads(stored_data) -> None:
    store, key, version_id, _ = stored_data
    reader = store.open_reader(key, version_id, name="disk.E01")
    reader.read(10)

    reader.close()

    with pytest.raises(ValueError, match="closed reader 'disk.E01'"):
        reader.read(1)
    with pytest.raises(ValueError, match="closed"):
        reader.seek(0)


def test_missing_version_id_rejected(object_store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="pinned to one stored version"):
        ObjectReader(object_store, "items/any", "", 10)


def test_missing_version_gives_object_not_found(stored_data) -> None:
    store, _, version_id, _ = stored_data

    with pytest.raises(ObjectNotFound, match="items/absent"):
        store.open_reader("items/absent", version_id)
    reader = ObjectReader(store, "items/absent", version_id, 100)
    with pytest.raises(ObjectNotFound, match="items/absent"):
        reader.read(1)


def test_wrong_size_is_storage_error(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = ObjectReader(store, key, version_id, len(data) + 100)

    reader.seek(len(data) - 10)
    with pytest.raises(StorageError, match="returned 10 bytes") as error:
        reader.read(50)

    assert type(error.value) is StorageError


def test_unreachable_storage_gives_storage_unavailable(stored_data) -> None:
    store, key, version_id, data = stored_data
    unreachable = ObjectStore(replace(store.settings, endpoint_url=f"http://127.0.0.1:{closed_port()}"))
    reader = ObjectReader(unreachable, key, version_id, len(data))

    with pytest.raises(StorageUnavailable, match="cannot reach"):
        reader.read(1)


def test_scan_resumes_from_prefetched_block(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = ObjectReader(store, key, version_id, len(data), min_block_size=4 * KiB, max_block_size=16 * KiB)

    # GETs of 4, 8 and 16 KiB ramp the scan up; from the first full block on, the next block is prefetched.
    start = reader.read(44 * KiB)
    reader.seek(1000)
    descriptor = reader.read(10)  # a scattered small read, as libewf makes between chunks
    reader.seek(44 * KiB)
    before = reader.requests_sent
    resumed = reader.read(16 * KiB)

    assert start == data[: 44 * KiB]
    assert descriptor == data[1000:1010]
    assert resumed == data[44 * KiB : 60 * KiB]
    # The resumed block came from the prefetch, and only the prefetch of the block after it was sent.
    assert reader.requests_sent == before + 1


def test_prefetch_of_last_block_is_short(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = ObjectReader(store, key, version_id, len(data), min_block_size=4 * KiB, max_block_size=MiB)

    parts = []
    while part := reader.read(100_000):
        parts.append(part)
    reader.close()

    assert b"".join(parts) == data
    assert reader.closed


class SlowPrefetchStore(ObjectStore):
    """The real store, but a GET from a read-ahead thread waits first, so a test can act while the prefetch runs."""

    def read(self, *args, **kwargs):
        if threading.current_thread().name.startswith("vault-read-ahead"):
            time.sleep(1)
        return super().read(*args, **kwargs)


def _read_ahead_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith("vault-read-ahead")]


def test_dropped_reader_stops_prefetch_cleanly(stored_data) -> None:
    store, key, version_id, data = stored_data
    reader = ObjectReader(SlowPrefetchStore(store.settings), key, version_id, len(data), min_block_size=4 * KiB, max_block_size=MiB)

    # Blocks of 4 KiB doubling to 512 KiB end at 1020 KiB; the first 1 MiB block there starts a prefetch.
    for offset in range(0, 1100 * KiB, 100 * KiB):
        assert reader.read(100 * KiB) == data[offset : offset + 100 * KiB]
    assert reader._prefetch is not None
    dropped = weakref.ref(reader)
    del reader  # while the prefetch GET still waits in SlowPrefetchStore

    # The pending GET must not keep the reader alive, because its finalizer would then run on the
    # read-ahead thread, where close() cannot join that thread.
    assert dropped() is None
    assert _read_ahead_threads() == []
