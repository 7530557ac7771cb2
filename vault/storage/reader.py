"""A seekable, read-only file object over one stored object version, read with ranged GETs.

Libraries that take file objects (libewf, the EWF section walker) can read
evidence straight from the bucket with it, so nothing is copied to local disk.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from vault.errors import InvalidInput, StorageError
from vault.storage.errors import describe_location

if TYPE_CHECKING:
    from vault.storage.objects import ObjectStore

MAX_BLOCK_SIZE = 8 * 2**20
MIN_BLOCK_SIZE = 64 * 2**10
RECENT_BLOCKS = 4


class ObjectReader(io.RawIOBase):
    """Read-only, seekable view of one object version. Every GET names that version id.

    Sequential reads are served from one read-ahead block. The block starts at
    `min_block_size` after a seek elsewhere and doubles with each sequential
    refill up to `max_block_size`, so a scan costs one GET per `max_block_size`
    bytes while scattered small reads (section descriptors) do not fetch 8 MiB
    each. Once a scan reaches `max_block_size` blocks, the next block is
    fetched in a background thread while the caller works on the current one.
    The last few `min_block_size` blocks stay cached, because libewf and the
    section walk go back to the same descriptors and tables several times.
    Memory use is at most two `max_block_size` blocks (current and prefetched),
    `RECENT_BLOCKS` small blocks and the bytes of the current `read` call.

    Not thread-safe: give each thread its own reader. Reads raise `StorageError`
    (from `ObjectStore.read`) when a GET fails or returns another version or length.
    """

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        version_id: str,
        size: int,
        name: str | None = None,
        max_block_size: int = MAX_BLOCK_SIZE,
        min_block_size: int = MIN_BLOCK_SIZE,
    ) -> None:
        super().__init__()
        if not version_id:
            raise InvalidInput(f"missing version id for key {key!r}: a reader must be pinned to one stored version")
        if size < 0:
            raise InvalidInput(f"invalid size {size} for {describe_location(store.bucket, key, version_id)}: must be non-negative")
        if not 0 < min_block_size <= max_block_size:
            raise InvalidInput(
                f"invalid read-ahead block sizes min={min_block_size} max={max_block_size}: need 0 < min <= max"
            )
        self.store = store
        self.key = key
        self.version_id = version_id
        self.size = size
        self.name = name if name is not None else key
        self.requests_sent = 0  # GET requests sent so far
        self._max_block = max_block_size
        self._min_block = min_block_size
        self._position = 0
        self._block = b""
        self._block_start = 0
        self._fetched_end = -1  # end of the last GET, to tell a sequential refill from a seek
        self._next_block_size = min_block_size
        self._recent: list[tuple[int, bytes]] = []  # (offset, bytes) of earlier small blocks, oldest first
        self._prefetch: tuple[int, int, Future[bytes]] | None = None  # (offset, length, pending GET) of the next block
        self._executor: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"ObjectReader({describe_location(self.store.bucket, self.key, self.version_id)}, name={self.name!r})"

    # io.RawIOBase interface

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._require_open()
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._require_open()
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._position + offset
        elif whence == os.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}: use os.SEEK_SET, os.SEEK_CUR or os.SEEK_END")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def read(self, size: int | None = -1) -> bytes:
        """Return up to `size` bytes from the current position (all remaining bytes for -1 or None).

        The result is short only at the end of the object.
        """
        self._require_open()
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        if end <= self._position:
            return b""
        parts = []
        position = self._position
        while position < end:
            block_end = self._block_start + len(self._block)
            if self._block_start <= position < block_end:
                take = min(end, block_end) - position
                start = position - self._block_start
                parts.append(self._block[start : start + take])
                position += take
                if position == block_end and len(self._block) > self._min_block:
                    self._block = b""  # dropped once consumed, so a reader at its end holds no large block
                continue
            if end - position >= self._max_block:
                # A read of a whole block or more goes straight to the caller, so the buffer never grows past one block.
                parts.append(self._get(position, end - position))
                self._next_block_size = self._min_block
                position = end
                continue
            self._fill(position)
        self._position = end
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def] - any writable buffer, as io.RawIOBase takes
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        self._block = b""
        self._recent = []
        self._prefetch = None
        # getattr: the finalizer also closes a reader whose __init__ raised before the executor was set.
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
        super().close()

    # Internals

    def _fill(self, position: int) -> None:
        """Make the block that contains `position` current: from the recent blocks, or with one GET."""
        sequential = position == self._fetched_end or (bool(self._block) and position == self._block_start + len(self._block))
        if self._block and len(self._block) <= self._min_block:
            self._remember(self._block_start, self._block)
        for index, (start, data) in enumerate(self._recent):
            if start <= position < start + len(data):
                del self._recent[index]
                self._block, self._block_start = data, start
                return
        prefetched = self._take_prefetched(position)
        if prefetched is not None:
            # A scan that went elsewhere for a few small reads resumes here at full block size.
            self._block, length, sequential = prefetched, len(prefetched), True
            self._next_block_size = self._max_block
        else:
            block_size = self._next_block_size if sequential else self._min_block
            length = min(block_size, self.size - position)
            self._block = self._get(position, length)
            self._next_block_size = min(self._max_block, block_size * 2)
        self._block_start = position
        following = position + length
        if sequential and length == self._max_block and following < self.size:
            self._start_prefetch(following, min(self._max_block, self.size - following))

    def _start_prefetch(self, offset: int, length: int) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault-read-ahead")
        self.requests_sent += 1
        # The job gets the store and object, not the reader, so a dropped reader is finalized (and closed)
        # on the caller's thread. On the read-ahead thread, close() would try to join that same thread.
        job = self._executor.submit(_fetch, self.store, self.key, self.version_id, self.size, offset, length)
        self._prefetch = (offset, length, job)

    def _take_prefetched(self, offset: int) -> bytes | None:
        """Return the prefetched block if it starts at `offset`; otherwise keep it for when the scan resumes."""
        if self._prefetch is None or self._prefetch[0] != offset:
            return None
        (_, length, pending), self._prefetch = self._prefetch, None
        self._fetched_end = offset + length
        return pending.result()

    def _remember(self, start: int, data: bytes) -> None:
        self._recent = [(s, d) for s, d in self._recent if s != start][-(RECENT_BLOCKS - 1) :]
        self._recent.append((start, data))

    def _get(self, offset: int, length: int) -> bytes:
        self.requests_sent += 1
        self._fetched_end = offset + length
        return _fetch(self.store, self.key, self.version_id, self.size, offset, length)

    def _require_open(self) -> None:
        if self.closed:
            raise ValueError(f"I/O operation on closed reader {self.name!r}")


def _fetch(store: ObjectStore, key: str, version_id: str, size: int, offset: int, length: int) -> bytes:
    """Run one ranged GET of a version that is `size` bytes long. It touches no reader state, so the prefetch thread may call it."""
    data = b"".join(store.read(key, version_id, offset=offset, length=length, chunk_size=MAX_BLOCK_SIZE))
    if len(data) != length:
        raise StorageError(
            f"{describe_location(store.bucket, key, version_id)}: a GET of {length} bytes at offset {offset} "
            f"returned {len(data)} bytes, but the version is {size} bytes; check that the size passed to the reader is the stored size"
        )
    return data
