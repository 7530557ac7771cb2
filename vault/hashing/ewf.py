"""Container hash checks: the acquisition hash stored in an EWF image against its media.

libewf (pyewf) decodes the media and reads the stored MD5/SHA-1. Our own
section walk (`ewf_sections`) checks every descriptor and payload checksum,
so damaged metadata is named even where the media is intact. libewf
20240506 rejects most containers with a bad checksum and silently stops
reading at a bad section descriptor. In both cases the walk's own chunk
reader decodes the media instead, and it checks every chunk's checksum.

Segments are paths or seekable binary file objects with a `name` (for
example `vault.storage.ObjectReader` over a stored version), so the intake
checks evidence in the bucket without copying it to local disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import pyewf

from vault.errors import InvalidInput
from vault.hashing import ewf_sections
from vault.hashing.digest import Digest
from vault.hashing.engine import HashResult, StreamHasher, hash_files
from vault.hashing.ewf_sections import SegmentSource, source_name
from vault.hashing.segments import order_segment_names

_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class ContainerCheck:
    """Result of checking one EWF container against the hashes stored inside it."""

    format: str  # "ewf"
    media_size: int
    stored: tuple[Digest, ...]  # acquisition hashes stored in the container (md5/sha1), may be empty
    computed: tuple[Digest, ...]  # md5, sha1 and sha256 of the decoded media
    verdict: str  # "match", "mismatch" or "no-stored-hash"
    metadata_damage: tuple[str, ...]  # checksum failures found by the section walk
    decoder: str = "libewf"  # "libewf", or "own" when libewf could not decode the media

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "media_size": self.media_size,
            "stored": [str(digest) for digest in self.stored],
            "computed": [str(digest) for digest in self.computed],
            "verdict": self.verdict,
            "metadata_damage": list(self.metadata_damage),
            "decoder": self.decoder,
        }


def check_ewf(sources: Sequence[SegmentSource]) -> ContainerCheck:
    """Compare the stored acquisition hashes of an EWF image with its decoded media.

    Each segment is a path or a seekable binary file object whose `name` ends
    in the segment's file name. The names set the order, so the segments may
    come in any order. File objects are read from any position and left open.
    The segments are only read, never modified. A mismatch is reported in the
    verdict, not raised. Raises InvalidInput when the segments are not an EWF1
    segment set, a local file cannot be read, or neither libewf nor the
    section walk can decode the whole media. Errors raised by a file object
    other than OSError (such as `StorageError`) propagate unchanged.
    """
    # 1. Segment order and signatures.
    names = [source_name(source) for source in sources]
    order, kind, _ = order_segment_names(names)
    names = [names[i] for i in order]
    if kind != "ewf":
        raise InvalidInput(f"not an EWF segment set (.E01, .E02, …): {', '.join(names)}")
    with ExitStack() as stack:
        opened = ewf_sections.opened([sources[i] for i in order])
        handles = _read_or_invalid(", ".join(names), lambda: stack.enter_context(opened))
        for name, handle in zip(names, handles):
            if not _read_or_invalid(name, lambda: ewf_sections.is_ewf1(handle)):
                # NOTE: EWF2 (.Ex01) containers are not walked or decoded here yet.
                raise InvalidInput(f"{name} is not an EWF1 (EnCase .E01) segment: wrong file signature")
        segments = [_NamedSegment(name, handle) for name, handle in zip(names, handles)]
        return _check_segments(segments)


def _check_segments(segments: Sequence[_NamedSegment]) -> ContainerCheck:
    # 2. Walk the sections for damage, stored hashes and the chunk tables.
    try:
        layout = _read_or_invalid(", ".join(s.name for s in segments), lambda: ewf_sections.walk(segments))
    except ewf_sections.EwfFormatError as error:
        raise InvalidInput(f"not a readable EWF image: {error}") from error
    damage = list(layout.damage)

    # 3. Decode the media with libewf, or with the walk's reader if libewf fails.
    decoder = "libewf"
    stored_md5, stored_sha1 = layout.stored_md5, layout.stored_sha1
    expected_size = layout.geometry.media_size if layout.geometry else None
    try:
        media, stored_by_libewf = _hash_with_libewf(segments)
        if expected_size is not None and media.size != expected_size:
            raise _LibewfShort(f"libewf decoded {media.size} bytes, the volume section gives {expected_size}")
        stored_md5 = stored_by_libewf.get("md5", stored_md5)
        stored_sha1 = stored_by_libewf.get("sha1", stored_sha1)
    except (OSError, _LibewfShort) as error:
        decoder = "own"
        damage.append(f"libewf could not decode the media: {_first_line(error)}")
        media = _hash_with_own_reader(segments, layout)

    # 4. Compare stored with computed hashes.
    computed = media_digests(media)
    # An all-zero value is how EWF writers leave a hash they did not compute.
    stored = tuple(
        Digest.from_bytes(name, value)
        for name, value in (("md5", stored_md5), ("sha1", stored_sha1))
        if value and any(value)
    )
    by_algorithm = {digest.algorithm: digest for digest in computed}
    if not stored:
        verdict = "no-stored-hash"
    elif all(by_algorithm[digest.algorithm] == digest for digest in stored):
        verdict = "match"
    else:
        verdict = "mismatch"
    return ContainerCheck(
        format="ewf",
        media_size=media.size,
        stored=stored,
        computed=computed,
        verdict=verdict,
        metadata_damage=tuple(damage),
        decoder=decoder,
    )


def media_hashes_of_concatenation(paths: Sequence[Path]) -> tuple[Digest, ...]:
    """Return md5, sha1 and sha256 of the files concatenated in the given order (split raw media)."""
    return media_digests(hash_files([Path(path) for path in paths], ("md5", "sha1")))


def media_digests(result: HashResult) -> tuple[Digest, ...]:
    """Return md5, sha1 and sha256 from a result hashed with md5 and sha1 requested."""
    return tuple(digest for name in ("md5", "sha1", "sha256") if (digest := result.digest(name)) is not None)


class _LibewfShort(Exception):
    pass


_T = TypeVar("_T")


class _NamedSegment:
    """One open segment file and its name, with the first exception its file object raised.

    libewf turns any exception raised by a Python file object into a generic
    OSError, which would read as container damage. The kept exception lets the
    check tell a failed read (storage down, disk error) from a damaged container.
    """

    def __init__(self, name: str, handle: BinaryIO) -> None:
        self.name = name
        self.handle = handle
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        return self._call(self.handle.read, size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._call(self.handle.seek, offset, whence)

    def tell(self) -> int:
        return self._call(self.handle.tell)

    def _call(self, method: Callable[..., _T], *arguments: int) -> _T:
        try:
            return method(*arguments)
        except Exception as error:
            if self.error is None:
                self.error = error
            raise


def _read_or_invalid(name: str, read: Callable[[], _T]) -> _T:
    try:
        return read()
    except OSError as error:
        raise InvalidInput(f"cannot read {error.filename or name}: {error.strerror or error}") from error


def _hash_with_libewf(segments: Sequence[_NamedSegment]) -> tuple[HashResult, dict[str, bytes]]:
    try:
        return _decode_with_libewf(segments)
    except OSError as error:
        failed = next((segment for segment in segments if segment.error is not None), None)
        if failed is None:
            raise
        if isinstance(failed.error, OSError):
            raise InvalidInput(f"cannot read {failed.name}: {failed.error.strerror or failed.error}") from failed.error
        raise failed.error from error


def _decode_with_libewf(segments: Sequence[_NamedSegment]) -> tuple[HashResult, dict[str, bytes]]:
    handle = pyewf.handle()
    # libewf-python 20260924 reads Python file objects through read, seek (whence 0 and 2) and tell.
    handle.open_file_objects(list(segments))
    try:
        hasher = StreamHasher(("md5", "sha1"))
        try:
            remaining = handle.get_media_size()
            while remaining > 0:
                chunk = handle.read(min(_READ_SIZE, remaining))
                if not chunk:
                    raise _LibewfShort(f"libewf stopped reading with {remaining} bytes of media left")
                hasher.update(chunk)
                remaining -= len(chunk)
            result = hasher.finish()
        finally:
            hasher.close()
        stored = {}
        for name, key in (("md5", "MD5"), ("sha1", "SHA1")):
            value = handle.get_hash_value(key)
            if value:
                stored[name] = bytes.fromhex(value)
        return result, stored
    finally:
        handle.close()


def _hash_with_own_reader(segments: Sequence[_NamedSegment], layout: ewf_sections.EwfLayout) -> HashResult:
    hasher = StreamHasher(("md5", "sha1"))
    try:
        for chunk in _chunks_or_invalid(segments, layout):
            hasher.update(chunk)
        return hasher.finish()
    finally:
        hasher.close()


def _chunks_or_invalid(segments: Sequence[_NamedSegment], layout: ewf_sections.EwfLayout) -> Iterator[bytes]:
    try:
        yield from ewf_sections.read_media(segments, layout)
    except (ewf_sections.EwfFormatError, OSError) as error:
        damage = "; ".join(layout.damage) or "no damaged section found"
        raise InvalidInput(f"the EWF media cannot be decoded: {error} (section walk: {damage})") from error


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.split(". ")[0] if len(text) > 200 else text
