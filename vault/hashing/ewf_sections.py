"""A small independent reader for EWF1 (EnCase `.E01`) segment files.

It walks the section descriptors of each segment, checks every checksum the
format carries, and can decode the media from the chunk tables on its own.
`check_ewf` uses it to name damaged metadata precisely and to recompute the
media when libewf refuses a container whose chunks are intact.

Each segment is a path or a seekable binary file object (`read`, `seek`,
`tell`). Only section descriptors, metadata payloads and chunks are read,
with seek and read, so a segment of any size is never held in memory whole.

Layout (EWF1, as written by EnCase and libewf's ewfacquire):
- file header, 13 bytes: signature `EVF\\t\\r\\n\\xff\\x00`, 0x01, segment number (u16 LE), 0x0000;
- section descriptor, 76 bytes: type (16 bytes, NUL-padded), next offset (u64),
  section size (u64, descriptor included), 40 bytes padding, Adler-32 of the first 72 bytes;
- `volume`/`disk`/`data`: u32 chunk count, u32 sectors per chunk, u32 bytes per sector and
  u64 sector count at payload offsets 4, 8, 12 and 16; Adler-32 of the first 1048 bytes at 1048;
- `table`/`table2`: u32 entry count, 4 bytes padding, u64 base offset, 4 bytes padding,
  Adler-32 of those 20 bytes, then u32 entries (bit 31 set: zlib-compressed chunk; the low
  31 bits: offset from the base) and an Adler-32 of the entries;
- `hash`: MD5 (16 bytes), 16 unknown bytes, Adler-32 of those 32 bytes;
- `digest`: MD5 (16), SHA-1 (20), 40 bytes padding, Adler-32 of those 76 bytes;
- `header`/`header2`: zlib streams; `next` ends a segment, `done` the last one.
An uncompressed chunk is followed by the Adler-32 of its bytes.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import BinaryIO, Union

EWF1_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
EWF2_SIGNATURE = b"EVF2\x0d\x0a\x81\x00"
FILE_HEADER_SIZE = 13
# Section descriptor: type (16 bytes, NUL-padded), next offset (u64), section size (u64), padding (40), Adler-32 (u32).
DESCRIPTOR = struct.Struct("<16sQQ40sI")
_VOLUME_TYPES = (b"volume", b"disk", b"data")
# Upper bound on sections walked in one segment, so a looping chain of offsets ends.
_MAX_PAYLOAD = 64 << 20
_MAX_SECTIONS = 1_000_000


# A segment file: a path, or an open binary file object with read, seek and tell.
SegmentSource = Union[str, os.PathLike, BinaryIO]


class EwfFormatError(Exception):
    """The files cannot be read as EWF1; the message names the segment and offset."""


@dataclass
class Geometry:
    chunk_count: int
    sectors_per_chunk: int
    bytes_per_sector: int
    sector_count: int

    @property
    def media_size(self) -> int:
        return self.sector_count * self.bytes_per_sector

    @property
    def chunk_size(self) -> int:
        return self.sectors_per_chunk * self.bytes_per_sector


@dataclass
class _Chunk:
    segment: int
    offset: int  # absolute offset in the segment file
    size: int  # stored size, checksum included for an uncompressed chunk
    compressed: bool


@dataclass
class EwfLayout:
    """What the walk found in all segments: damage, stored hashes, geometry and chunks."""

    damage: list[str] = field(default_factory=list)
    stored_md5: bytes | None = None
    stored_sha1: bytes | None = None
    geometry: Geometry | None = None
    chunks: list[_Chunk] = field(default_factory=list)


def is_ewf1(source: SegmentSource) -> bool:
    with opened([source]) as (handle,):
        return _read_at(handle, 0, len(EWF1_SIGNATURE)) == EWF1_SIGNATURE


def source_name(source: SegmentSource) -> str:
    """Return the file name of a segment: the last part of its path or of the file object's `name`."""
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"segment file object {source!r} has no string 'name': give it the segment's file name (.E01, .E02, …), "
            "which sets the segment order"
        )
    return PurePath(name).name


@contextmanager
def opened(sources: Sequence[SegmentSource]) -> Iterator[list[BinaryIO]]:
    """Open the path sources for reading and pass file objects through; close only what was opened here."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(open(source, "rb")) if isinstance(source, (str, os.PathLike)) else source
            for source in sources
        ]


def walk(sources: Sequence[SegmentSource]) -> EwfLayout:
    """Walk every segment's sections and record checksum failures; never writes."""
    layout = EwfLayout()
    with opened(sources) as handles:
        for number, (source, handle) in enumerate(zip(sources, handles)):
            _walk_segment(number, source_name(source), _Segment(handle), layout)
    return layout


class _Segment:
    """Random access to one segment file through seek and read."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.size = handle.seek(0, os.SEEK_END)

    def read(self, offset: int, length: int) -> bytes:
        """Return `length` bytes from `offset`, fewer only where the file ends."""
        return _read_at(self.handle, offset, min(length, max(0, self.size - offset)))


def _read_at(handle: BinaryIO, offset: int, length: int) -> bytes:
    # A raw file object may return fewer bytes than requested before its end.
    handle.seek(offset)
    parts = []
    remaining = length
    while remaining > 0:
        part = handle.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _walk_segment(number: int, name: str, segment: _Segment, layout: EwfLayout) -> None:
    header = segment.read(0, FILE_HEADER_SIZE)
    if header[:8] != EWF1_SIGNATURE:
        raise EwfFormatError(f"{name} does not start with the EWF1 signature")
    if len(header) < FILE_HEADER_SIZE:
        raise EwfFormatError(f"{name} is {len(header)} bytes, shorter than the {FILE_HEADER_SIZE}-byte EWF1 file header")
    if header[8] != 1 or header[11:13] != b"\x00\x00":
        layout.damage.append(f"{name}: file header fields at offsets 8 and 11-12 differ from 0x01 and 0x0000")
    declared = struct.unpack_from("<H", header, 9)[0]
    if declared != number + 1:
        layout.damage.append(f"{name}: file header gives segment number {declared}, expected {number + 1}")

    offset = FILE_HEADER_SIZE
    sectors_end: int | None = None
    have_table = False
    for _ in range(_MAX_SECTIONS):
        if offset + DESCRIPTOR.size > segment.size:
            layout.damage.append(f"{name}: section chain runs past the end of the file at offset {offset}")
            return
        descriptor = segment.read(offset, DESCRIPTOR.size)
        kind_raw, next_offset, size, _, checksum = DESCRIPTOR.unpack(descriptor)
        kind = kind_raw.rstrip(b"\x00")
        label = f"{name}: section {kind.decode('ascii', 'replace')!r} at offset {offset}"
        if zlib.adler32(descriptor[:72]) != checksum:
            layout.damage.append(f"{label}: descriptor Adler-32 checksum mismatch")
        # The sectors section contains the media itself, so it is never read here. Other sections are small
        # metadata, and a damaged size field cannot make one cost more than _MAX_PAYLOAD bytes.
        if kind == b"sectors" or size < DESCRIPTOR.size:
            payload = b""
        else:
            payload = segment.read(offset + DESCRIPTOR.size, min(size - DESCRIPTOR.size, _MAX_PAYLOAD))

        if kind in (b"header", b"header2"):
            _check_zlib(payload, label, layout)
        elif kind in _VOLUME_TYPES:
            _read_volume(payload, label, layout)
        elif kind == b"sectors":
            sectors_end = offset + size
        elif kind in (b"table", b"table2"):
            # table2 mirrors table; its chunks are used only if table was unreadable.
            if kind == b"table" or not have_table:
                end = sectors_end if sectors_end is not None else offset
                have_table = _read_table(number, payload, end, label, layout) or have_table
        elif kind == b"hash":
            if _check_adler(payload, 32, label, layout) or layout.stored_md5 is None:
                layout.stored_md5 = payload[:16] if len(payload) >= 16 else None
        elif kind == b"digest":
            if _check_adler(payload, 76, label, layout) or layout.stored_sha1 is None:
                layout.stored_md5 = payload[:16] if len(payload) >= 16 else layout.stored_md5
                layout.stored_sha1 = payload[16:36] if len(payload) >= 36 else None

        if kind in (b"done", b"next") or next_offset == offset:
            return
        if not offset < next_offset <= segment.size - DESCRIPTOR.size:
            layout.damage.append(f"{label}: next section offset {next_offset} is outside the file; walk stopped")
            return
        offset = next_offset
    layout.damage.append(f"{name}: more than {_MAX_SECTIONS} sections; walk stopped")


def _check_adler(payload: bytes, covered: int, label: str, layout: EwfLayout) -> bool:
    if len(payload) < covered + 4:
        layout.damage.append(f"{label}: payload is {len(payload)} bytes, too short for its checksum")
        return False
    stored = struct.unpack_from("<I", payload, covered)[0]
    if zlib.adler32(payload[:covered]) != stored:
        layout.damage.append(f"{label}: payload Adler-32 checksum mismatch")
        return False
    return True


def _check_zlib(payload: bytes, label: str, layout: EwfLayout) -> None:
    try:
        zlib.decompress(payload)
    except zlib.error as error:
        layout.damage.append(f"{label}: compressed payload is corrupt ({error})")


def _read_volume(payload: bytes, label: str, layout: EwfLayout) -> None:
    if not _check_adler(payload, 1048, label, layout):
        if layout.geometry is not None or len(payload) < 24:
            return
    chunk_count, sectors_per_chunk, bytes_per_sector, sector_count = struct.unpack_from("<IIIQ", payload, 4)
    geometry = Geometry(chunk_count, sectors_per_chunk, bytes_per_sector, sector_count)
    if layout.geometry is None:
        layout.geometry = geometry
    elif layout.geometry != geometry:
        layout.damage.append(f"{label}: media geometry differs from the first volume section")


def _read_table(segment: int, payload: bytes, chunks_end: int, label: str, layout: EwfLayout) -> bool:
    if not _check_adler(payload, 20, label, layout):
        return False
    count, _, base = struct.unpack_from("<IIQ", payload, 0)
    entries_end = 24 + 4 * count
    if len(payload) < entries_end:
        layout.damage.append(f"{label}: table of {count} entries is longer than its section")
        return False
    entries = struct.unpack_from(f"<{count}I", payload, 24)
    if len(payload) >= entries_end + 4 and zlib.adler32(payload[24:entries_end]) != struct.unpack_from("<I", payload, entries_end)[0]:
        layout.damage.append(f"{label}: table entries Adler-32 checksum mismatch")
        return False
    offsets = [base + (entry & 0x7FFFFFFF) for entry in entries]
    for i, entry in enumerate(entries):
        end = offsets[i + 1] if i + 1 < count else chunks_end
        layout.chunks.append(_Chunk(segment, offsets[i], end - offsets[i], bool(entry & 0x80000000)))
    return True


def read_media(sources: Sequence[SegmentSource], layout: EwfLayout) -> Iterator[bytes]:
    """Yield the decoded media chunk by chunk, checking each chunk's checksum.

    Raises EwfFormatError when the geometry is unknown, a chunk is corrupt or
    the chunks do not add up to the media size.
    """
    geometry = layout.geometry
    if geometry is None:
        raise EwfFormatError("no readable volume section, so the media size is unknown")
    remaining = geometry.media_size
    with opened(sources) as handles:
        # _Segment.read stops at the end of the file, so a damaged table entry cannot ask for gigabytes.
        segments = [_Segment(handle) for handle in handles]
        for number, chunk in enumerate(layout.chunks):
            if remaining <= 0:
                break
            stored = segments[chunk.segment].read(chunk.offset, chunk.size)
            decoded = _decode_chunk(stored, chunk, geometry.chunk_size, number)
            decoded = decoded[:remaining]
            remaining -= len(decoded)
            yield decoded
    if remaining:
        raise EwfFormatError(f"chunk tables end {remaining} bytes short of the media size {geometry.media_size}")


def _decode_chunk(stored: bytes, chunk: _Chunk, chunk_size: int, number: int) -> bytes:
    if len(stored) != chunk.size:
        raise EwfFormatError(f"chunk {number} runs past the end of segment {chunk.segment + 1}")
    if chunk.compressed:
        # A chunk contains at most chunk_size bytes of media, so inflating one byte more is enough to tell a
        # damaged or crafted stream. Unbounded, 1 KiB of such a stream can inflate to 1 MiB in memory.
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(stored, chunk_size + 1)
        except zlib.error as error:
            raise EwfFormatError(f"chunk {number} is corrupt: {error}") from error
        if len(data) > chunk_size:
            raise EwfFormatError(f"chunk {number} inflates to more than the chunk size of {chunk_size} bytes")
        if not inflater.eof:
            raise EwfFormatError(f"chunk {number} is corrupt: its zlib stream is incomplete")
        return data
    data_size = min(chunk_size, len(stored) - 4)
    data, checksum = stored[:data_size], stored[data_size : data_size + 4]
    if data_size <= 0 or zlib.adler32(data) != struct.unpack("<I", checksum)[0]:
        raise EwfFormatError(f"chunk {number} fails its Adler-32 checksum")
    return data
