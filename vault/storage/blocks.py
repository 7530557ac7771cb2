"""Fixed-size blocks cut from a stream of chunks of any size, copying each byte once."""

from __future__ import annotations

from collections import deque


class ByteBlocks:
    """A FIFO of received bytes that hands them out as blocks of a requested size.

    Appending keeps a reference to each chunk, and `pop()` joins the chunks of
    one block into a new bytes object, so every byte is copied once on its way
    from the network to an S3 part or a hashing block. A chunk that is exactly
    one block is returned as it is, without a copy.
    """

    def __init__(self) -> None:
        self._pieces: deque[bytes | memoryview] = deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes at the end. A mutable buffer is copied, because its owner may reuse it."""
        if not len(data):
            return
        piece = data if isinstance(data, bytes) else bytes(data)
        self._pieces.append(piece)
        self._size += len(piece)

    def pop(self, size: int) -> bytes:
        """Remove and return the first `size` bytes, or all bytes when fewer are buffered."""
        size = min(size, self._size)
        first = self._pieces[0] if self._pieces else b""
        if len(first) == size and isinstance(first, bytes):
            if size:
                self._pieces.popleft()
                self._size -= size
            return first
        parts: list[bytes | memoryview] = []
        needed = size
        while needed:
            piece = self._pieces.popleft()
            if len(piece) <= needed:
                parts.append(piece)
                needed -= len(piece)
            else:
                view = memoryview(piece)
                parts.append(view[:needed])
                self._pieces.appendleft(view[needed:])
                needed = 0
        self._size -= size
        return b"".join(parts)

    def clear(self) -> None:
        """Drop every buffered byte."""
        self._pieces.clear()
        self._size = 0
