"""A planned upload keeps its part size for the whole declared size, so memory stays at (in flight + 2) parts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vault.storage.multipart import part_size_for
from vault.storage.objects import ObjectStore

MiB = 2**20


@pytest.mark.parametrize("size", [70 * 2**30, 9000 * 8 * MiB + 1, 2**40, 5 * 2**40])
def test_planned_parts_never_grow(object_store: ObjectStore, size) -> None:
    retain_until = datetime.now(timezone.utc) + timedelta(days=1)
    with object_store.start_upload(f"items/plan-{size}", retain_until, expected_size=size) as writer:
        base, in_flight, step = writer.part_size, writer.concurrency, writer.size_step
    parts = -(-size // base)
    # Only the first and last parts are computed: part sizes never shrink as the part number rises.
    largest = part_size_for(parts, base, step)

    assert parts <= 9000
    assert largest == base
    assert in_flight * largest <= max(32 * MiB, base)
