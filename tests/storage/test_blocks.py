"""ByteBlocks: blocks of a requested size from chunks of any size, bytes unchanged and in order."""

from __future__ import annotations

import random

from vault.storage.blocks import ByteBlocks


def test_blocks_random_chunks_round_trip() -> None:
    rng = random.Random(7)
    data = rng.randbytes(1_000_003)
    blocks = ByteBlocks()
    out: list[bytes] = []
    position = 0
    while position < len(data):
        step = rng.choice([0, 1, 17, 4096, 65_536, 300_000])
        blocks.append(data[position : position + step])
        position += step
        while len(blocks) >= 65_536:
            block = blocks.pop(65_536)
            assert len(block) == 65_536
            out.append(block)
    out.append(blocks.pop(len(blocks)))

    assert b"".join(out) == data
    assert len(blocks) == 0


def test_blocks_whole_chunk_returned_without_copy() -> None:
    chunk = bytes(range(256)) * 16
    blocks = ByteBlocks()
    blocks.append(chunk)

    assert blocks.pop(len(chunk)) is chunk


def test_blocks_mutable_buffer_copied_on_append() -> None:
    buffer = bytearray(b"abcdef")
    blocks = ByteBlocks()
    blocks.append(buffer)
    buffer[:] = b"xxxxxx"

    assert blocks.pop(6) == b"abcdef"


def test_blocks_pop_more_than_held_and_empty() -> None:
    blocks = ByteBlocks()

    assert blocks.pop(10) == b""
    blocks.append(b"abc")
    assert blocks.pop(10) == b"abc"
    assert len(blocks) == 0


def test_blocks_clear_drops_everything() -> None:
    blocks = ByteBlocks()
    blocks.append(b"abc")
    blocks.append(memoryview(b"def"))
    blocks.clear()

    assert len(blocks) == 0
    assert blocks.pop(3) == b""
