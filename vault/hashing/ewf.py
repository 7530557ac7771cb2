"""Container hash checks: the acquisition hash stored in an EWF image against its media.

libewf (pyewf) decodes the media and reads the stored MD5/SHA-1. Our own
section walk (`ewf_sections`) checks every descriptor and payload checksum,
so damaged metadata is named even where the media is intact. libewf
20240506 rejects most containers with a bad checksum and silently stops
reading at a bad section descriptor. In both cases the walk's own chunk
reader decodes the media instead, and it checks every chunk's checksum.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyewf

from vault.errors import InvalidInput
from vault.hashing import ewf_sections
from vault.hashing.digest import Digest
from vault.hashing.engine import HashResult, StreamHasher, hash_files
from vault.hashing.segments import order_segments

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


def check_ewf(paths: Sequence[Path]) -> ContainerCheck:
    """Compare the stored acquisition hashes of an EWF image with its decoded media.

    The segments may come in any order. The files are only read, never
    modified. A mismatch is reported in the verdict, not raised. Raises
    InvalidInput when the files are not an EWF1 segment set or neither libewf
    nor the section walk can decode the whole media.
    """
    # 1. Segment order and signatures.
    segments = order_segments([Path(path) for path in paths])
    if segments.kind != "ewf":
        raise InvalidInput(f"not an EWF segment set (.E01, .E02, …): {', '.join(p.name for p in segments.paths)}")
    for path in segments.paths:
        try:
            if not ewf_sections.is_ewf1(path):
                # NOTE: EWF2 (.Ex01) containers are not walked or decoded here yet.
                raise InvalidInput(f"{path.name} is not an EWF1 (EnCase .E01) segment: wrong file signature")
        except OSError as error:
            raise InvalidInput(f"cannot read {path}: {error.strerror or error}") from error

    # 2. Walk the sections for damage, stored hashes and the chunk tables.
    try:
        layout = ewf_sections.walk(segments.paths)
    except ewf_sections.EwfFormatError as error:
        raise InvalidInput(f"not a readable EWF image: {error}") from error
    damage = list(layout.damage)

    # 3. Decode the media with libewf, or with the walk's reader if libewf fails.
    decoder = "libewf"
    stored_md5, stored_sha1 = layout.stored_md5, layout.stored_sha1
    expected_size = layout.geometry.media_size if layout.geometry else None
    try:
        media, stored_by_libewf = _hash_with_libewf(segments.paths)
        if expected_size is not None and media.size != expected_size:
            raise _LibewfShort(f"libewf decoded {media.size} bytes, the volume section gives {expected_size}")
        stored_md5 = stored_by_libewf.get("md5", stored_md5)
        stored_sha1 = stored_by_libewf.get("sha1", stored_sha1)
    except (OSError, _LibewfShort) as error:
        decoder = "own"
        damage.append(f"libewf could not decode the media: {_first_line(error)}")
        media = _hash_with_own_reader(segments.paths, layout)

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


def _hash_with_libewf(paths: Sequence[Path]) -> tuple[HashResult, dict[str, bytes]]:
    handle = pyewf.handle()
    handle.open([str(path) for path in paths])
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


def _hash_with_own_reader(paths: Sequence[Path], layout: ewf_sections.EwfLayout) -> HashResult:
    hasher = StreamHasher(("md5", "sha1"))
    try:
        for chunk in _chunks_or_invalid(paths, layout):
            hasher.update(chunk)
        return hasher.finish()
    finally:
        hasher.close()


def _chunks_or_invalid(paths: Sequence[Path], layout: ewf_sections.EwfLayout) -> Iterator[bytes]:
    try:
        yield from ewf_sections.read_media(paths, layout)
    except (ewf_sections.EwfFormatError, OSError) as error:
        damage = "; ".join(layout.damage) or "no damaged section found"
        raise InvalidInput(f"the EWF media cannot be decoded: {error} (section walk: {damage})") from error


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.split(". ")[0] if len(text) > 200 else text
