"""One-pass hashing: SHA-256 always, MD5/SHA-1 on request, and the evidence Merkle tree.

Input is cut into blocks of about 1 MiB (a whole number of leaves). The
caller's thread runs the whole-file SHA-256; every other task (the leaf
hashes, MD5, SHA-1) runs in its own worker thread fed from a bounded queue of
immutable blocks. hashlib releases the GIL while it hashes a buffer of more
than 2 KiB, so the tasks run on separate cores, and the bounded queues keep
memory flat whatever the input size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vault.errors import InvalidInput, VaultError
from vault.hashing.digest import Digest
from vault.hashing.merkle import EMPTY_ROOT, LEAF_SIZE, hash_children, hash_leaf

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
            self._add_leaf(hash_leaf(view[start : start + self.leaf_size]))

    def _add_leaf(self, leaf: bytes) -> None:
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

        self._sha256 = hashlib.sha256()
        self._extra = {algorithm: hashlib.new(algorithm) for algorithm in self._algorithms[1:]}
        self._merkle = _MerkleAccumulator(leaf_size)
        self._workers = [_Worker("merkle", self._merkle.add_block)]
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

    def _dispatch(self, block: bytes) -> None:
        for worker in self._workers:
            worker.put(block)
        self._sha256.update(block)

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
