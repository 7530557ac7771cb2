"""One-pass hashing: SHA-256 always, MD5/SHA-1 on request, and the evidence Merkle tree.

Input is cut into blocks of about 1 MiB (a whole number of leaves). Where
the SHA-NI lanes of `vault.hashing.lanes` are available, the caller's thread
hashes each leaf for the whole-file SHA-256 and the Merkle leaf together,
with an optional third lane for the spans a caller asks for (the S3 parts of
an upload). Without them, the caller's thread runs the whole-file SHA-256
and the leaf hashes run in a worker thread. MD5 and SHA-1 always run in
worker threads. Every worker is fed from a bounded queue of immutable
blocks, and hashlib and the lanes release the GIL while they hash, so the
tasks run on separate cores and memory stays flat whatever the input size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.errors import InvalidInput, VaultError
from vault.hashing import lanes
from vault.hashing.digest import Digest
from vault.hashing.merkle import EMPTY_ROOT, LEAF_PREFIX, LEAF_SIZE, hash_children, hash_leaf

# Extra whole-file algorithms a caller may request, in the order they appear in a result.
EXTRA_ALGORITHMS = ("md5", "sha1")

# Target size of one block handed to the workers.
_BLOCK_TARGET = 1 << 20
# Blocks waiting in each worker's queue; with the block being filled this bounds memory
# to about (_QUEUE_DEPTH + 2) blocks however fast the input arrives.
_QUEUE_DEPTH = 4
_STOP = None


@dataclass(frozen=True)
class HashResult:
    """Digests, size and Merkle tree of one byte stream."""

    size: int
    digests: tuple[Digest, ...]  # sha256 first, then md5 and sha1 when requested
    merkle_root: Digest  # RFC 6962 root over leaf_size leaves; EMPTY_ROOT for 0 bytes
    leaf_size: int
    leaf_hashes: bytes  # packed 32-byte leaf hashes, in leaf order

    @property
    def sha256(self) -> Digest:
        return self.digests[0]

    @property
    def leaf_count(self) -> int:
        return len(self.leaf_hashes) // 32

    def digest(self, algorithm: str) -> Digest | None:
        """Return the digest computed with `algorithm`, or None if it was not requested."""
        for digest in self.digests:
            if digest.algorithm == algorithm:
                return digest
        return None


class _MerkleAccumulator:
    """Leaf hashes plus a compact range of perfect subtrees, so the root costs O(log n) memory."""

    def __init__(self, leaf_size: int) -> None:
        self.leaf_size = leaf_size
        self.leaf_hashes = bytearray()
        self._stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing

    def add_block(self, block: bytes) -> None:
        view = memoryview(block)
        for start in range(0, len(view), self.leaf_size):
            self.add_leaf(hash_leaf(view[start : start + self.leaf_size]))

    def add_leaf(self, leaf: bytes) -> None:
        """Append the hash of the next leaf."""
        self.leaf_hashes += leaf
        height, node = 0, leaf
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            node = hash_children(left, node)
            height += 1
        self._stack.append((height, node))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        # The RFC 6962 tree over n leaves is the perfect subtrees of the binary
        # expansion of n, joined from the right.
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = hash_children(left, node)
        return node


class _Worker:
    """One task on its own thread, fed blocks through a bounded queue."""

    def __init__(self, name: str, consume: Callable[[bytes], None]) -> None:
        self._consume = consume
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._cancelled = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"vault-hash-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            block = self._queue.get()
            if block is _STOP:
                return
            if self._cancelled or self.error is not None:
                continue  # drain so the producer never blocks on a dead consumer
            try:
                self._consume(block)
            except BaseException as error:  # reported to the caller by finish()
                self.error = error

    def put(self, block: bytes) -> None:
        self._queue.put(block)

    def stop(self, cancel: bool = False) -> None:
        if cancel:
            self._cancelled = True
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()


class _SpanDigests:
    """SHA-256 of consecutive spans of a stream, kept until their consumer takes them."""

    def __init__(self, size_at: Callable[[int], int]) -> None:
        self._size_at = size_at
        self.number = 1
        self.size = self._span_size(1)
        self.filled = 0
        self.current = lanes.new_sha256()
        self._done: dict[int, tuple[int, bytes]] = {}

    @property
    def remaining(self) -> int:
        return self.size - self.filled

    def advance(self, count: int) -> None:
        self.filled += count
        if self.filled == self.size:
            self._done[self.number] = (self.size, self.current.digest())
            self.number += 1
            self.size = self._span_size(self.number)
            self.filled = 0
            self.current = lanes.new_sha256()

    def take(self, number: int, size: int) -> bytes | None:
        if number in self._done:
            done_size, digest = self._done.pop(number)
            return digest if done_size == size else None
        if number == self.number and 0 < size == self.filled:
            return self.current.digest()
        return None

    def _span_size(self, number: int) -> int:
        size = self._size_at(number)
        if size <= 0:
            raise InvalidInput(f"span {number} must be at least 1 byte long, got {size}")
        return size


class StreamHasher:
    """Hash a byte stream in one pass: whole-stream digests and Merkle leaves side by side.

    Feed it with `update()` in chunks of any size, then call `finish()` once.
    Call `close()` instead to abandon the stream (for example when an upload
    aborts): it stops the worker threads and gives no result. Memory stays
    at a few blocks of about 1 MiB plus 32 bytes of leaf hash per leaf.
    """

    def __init__(self, algorithms: Iterable[str] = (), leaf_size: int = LEAF_SIZE) -> None:
        requested = {algorithm.lower() for algorithm in algorithms}
        unknown = requested - set(EXTRA_ALGORITHMS) - {"sha256"}
        if unknown:
            raise InvalidInput(
                f"unsupported hash algorithm {', '.join(sorted(unknown))}; use {', '.join(EXTRA_ALGORITHMS)}"
            )
        if leaf_size <= 0:
            raise InvalidInput(f"leaf size must be positive, got {leaf_size}")
        self._algorithms = ("sha256",) + tuple(a for a in EXTRA_ALGORITHMS if a in requested)
        self._leaf_size = leaf_size
        self._block_size = leaf_size * max(1, _BLOCK_TARGET // leaf_size)

        self._together = lanes.engine() != "hashlib"
        self._sha256 = lanes.new_sha256()
        self._extra = {algorithm: hashlib.new(algorithm) for algorithm in self._algorithms[1:]}
        self._merkle = _MerkleAccumulator(leaf_size)
        self._spans: _SpanDigests | None = None
        self._leaf: Any = None  # the leaf being hashed by the lanes
        self._leaf_filled = 0
        # With the lanes, leaves are hashed beside the file SHA-256 in the caller's thread, and
        # without extra algorithms no worker needs immutable blocks, so input is hashed where it lies.
        self._in_place = self._together and not self._extra
        self._workers = [] if self._together else [_Worker("merkle", self._merkle.add_block)]
        self._workers += [_Worker(name, hasher.update) for name, hasher in self._extra.items()]

        self._pending = bytearray()
        self._size = 0
        self._done = False

    def __enter__(self) -> "StreamHasher":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next bytes of the stream."""
        self._check_open()
        view = memoryview(data).cast("B")
        self._size += len(view)
        if self._in_place:
            self._hash_together(view)
            return
        if self._pending:
            take = min(len(view), self._block_size - len(self._pending))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) == self._block_size:
                self._dispatch(bytes(self._pending))
                self._pending.clear()
        while len(view) >= self._block_size:
            block = view[: self._block_size]
            # A full-size bytes object can be shared with the workers as it is.
            self._dispatch(data if isinstance(data, bytes) and len(data) == self._block_size else bytes(block))
            view = view[self._block_size :]
        if len(view):
            self._pending += view

    def finish(self) -> HashResult:
        """Flush the last partial block, wait for the workers and return the result."""
        self._check_open()
        if self._pending:
            self._dispatch(bytes(self._pending))
            self._pending.clear()
        if self._leaf_filled:
            self._merkle.add_leaf(self._leaf.digest())
        self._done = True
        for worker in self._workers:
            worker.stop()
        for worker in self._workers:
            if worker.error is not None:
                raise VaultError(f"hash worker failed: {worker.error}") from worker.error

        digests = [Digest.from_bytes("sha256", self._sha256.digest())]
        digests += [Digest.from_bytes(name, hasher.digest()) for name, hasher in self._extra.items()]
        return HashResult(
            size=self._size,
            digests=tuple(digests),
            merkle_root=Digest.from_bytes("sha256", self._merkle.root()),
            leaf_size=self._leaf_size,
            leaf_hashes=bytes(self._merkle.leaf_hashes),
        )

    def close(self) -> None:
        """Stop the worker threads without a result; safe to call more than once."""
        self._done = True
        self._pending.clear()
        for worker in self._workers:
            worker.stop(cancel=True)

    def digest_spans(self, size_at: Callable[[int], int]) -> bool:
        """Also compute the SHA-256 of consecutive spans of the stream; span n (from 1) is `size_at(n)` bytes long.

        An upload uses this to hash its S3 parts in the same pass as the file
        and the leaves; `take_span_digest` hands each digest over. Returns
        False, and computes nothing, without the SHA-NI lanes, because
        separate hashlib passes cost the same wherever they run. Call it
        before the first `update()`.
        """
        if self._size or self._done:
            raise InvalidInput("digest_spans() must be called before the first update() of a StreamHasher")
        if not self._together:
            return False
        self._spans = _SpanDigests(size_at)
        return True

    def take_span_digest(self, number: int, size: int) -> bytes | None:
        """Return and forget the SHA-256 of span `number` if it is complete and `size` bytes long, else None.

        The current span counts as complete once it contains `size` bytes, so the
        shorter last span is available after `finish()`. None tells the caller
        to hash the bytes itself.
        """
        return self._spans.take(number, size) if self._spans is not None else None

    def _dispatch(self, block: bytes) -> None:
        for worker in self._workers:
            worker.put(block)
        if self._together:
            self._hash_together(memoryview(block))
        else:
            self._sha256.update(block)

    def _hash_together(self, view: memoryview) -> None:
        """Hash `view` for the file, the current leaf and the current span in one interleaved pass."""
        position = 0
        while position < len(view):
            if self._leaf_filled == 0:
                self._leaf = lanes.new_sha256(LEAF_PREFIX)
            take = min(len(view) - position, self._leaf_size - self._leaf_filled)
            spans = self._spans
            piece = view[position : position + take] if spans is None else view[position : position + min(take, spans.remaining)]
            if spans is None:
                lanes.update_together((self._sha256, self._leaf), piece)
            else:
                lanes.update_together((self._sha256, self._leaf, spans.current), piece)
                spans.advance(len(piece))
            position += len(piece)
            self._leaf_filled += len(piece)
            if self._leaf_filled == self._leaf_size:
                self._merkle.add_leaf(self._leaf.digest())
                self._leaf_filled = 0

    def _check_open(self) -> None:
        if self._done:
            raise InvalidInput("this StreamHasher is already finished or closed; create a new one")


def hash_file(path: Path, algorithms: Iterable[str] = (), leaf_size: int = LEAF_SIZE) -> HashResult:
    """Hash one local file; raises InvalidInput if it cannot be read."""
    return hash_files([path], algorithms, leaf_size)


def hash_files(paths: Iterable[Path], algorithms: Iterable[str] = (), leaf_size: int = LEAF_SIZE) -> HashResult:
    """Hash the concatenation of local files in the given order (a split raw image's media)."""
    hasher = StreamHasher(algorithms, leaf_size)
    read_size = hasher._block_size
    try:
        for path in paths:
            try:
                with open(path, "rb", buffering=0) as handle:
                    while chunk := handle.read(read_size):
                        hasher.update(chunk)
            except OSError as error:
                raise InvalidInput(f"cannot read {path}: {error.strerror or error}") from error
        return hasher.finish()
    finally:
        hasher.close()
