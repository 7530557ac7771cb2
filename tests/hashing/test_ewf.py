"""EWF container checks on the real fixtures and on damaged copies of ext2.E01."""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from tests.conftest import EXT2_MEDIA_MD5, IMAGES_DIR, MANIFEST
from vault.errors import InvalidInput
from vault.hashing.ewf import check_ewf, media_hashes_of_concatenation

EXT2_MEDIA_SHA256 = "a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80"
DFVFS = IMAGES_DIR / "dfvfs"

# Stored acquisition MD5 of each set, as listed in the fixtures manifest.
EWF_SETS = {
    "ext2.E01": (["ext2.E01"], EXT2_MEDIA_MD5),
    "ext2.split": (["ext2.split.E01", "ext2.split.E02"], EXT2_MEDIA_MD5),
    "image.E01": (["image.E01"], "d73c51f10c7ee6a681b7b619ccc6f1c4"),
    "image-split": (["image-split.E01", "image-split.E02"], "38ea5af8a80e16e46c095c9110242fc0"),
}


def section_offset(data: bytes, kind: bytes) -> int:
    """Offset of the first section descriptor of `kind` in an EWF1 segment."""
    offset = 13
    while True:
        name, next_offset = struct.unpack_from("<16sQ", data, offset)
        if name.rstrip(b"\0") == kind:
            return offset
        assert next_offset > offset, f"no {kind!r} section"
        offset = next_offset


def damaged_copy(tmp_path: Path, position: int, fix_hash_checksum: bool = False) -> Path:
    data = bytearray((DFVFS / "ext2.E01").read_bytes())
    data[position] ^= 0x01
    if fix_hash_checksum:
        payload = section_offset(bytes(data), b"hash") + 76
        struct.pack_into("<I", data, payload + 32, zlib.adler32(bytes(data[payload : payload + 32])))
    copy = tmp_path / "ext2.E01"
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("name", sorted(EWF_SETS))
def test_fixture_sets_match_stored_md5(name: str) -> None:
    files, stored_md5 = EWF_SETS[name]

    check = check_ewf([DFVFS / file for file in reversed(files)])

    assert check.verdict == "match"
    assert f"md5:{stored_md5}" in [str(d) for d in check.stored]
    assert str(check.computed[0]) == f"md5:{stored_md5}"
    assert check.metadata_damage == ()
    assert check.decoder == "libewf"


@pytest.mark.parametrize("files", [["ext2.E01"], ["ext2.split.E01", "ext2.split.E02"]])
def test_ext2_ewf_media_sha256(files: list[str]) -> None:
    check = check_ewf([DFVFS / file for file in files])

    assert check.media_size == 4194304
    assert [d.algorithm for d in check.computed] == ["md5", "sha1", "sha256"]
    assert check.computed[2].hex == EXT2_MEDIA_SHA256


def test_ext2_split_raw_media_is_concatenation() -> None:
    digests = media_hashes_of_concatenation([DFVFS / "ext2.splitraw.000", DFVFS / "ext2.splitraw.001"])

    assert [str(d) for d in digests] == [
        f"md5:{EXT2_MEDIA_MD5}",
        "sha1:4766c63c7acd5175015e3e8b90013a827e63f4ee",
        f"sha256:{EXT2_MEDIA_SHA256}",
    ]


@pytest.mark.parametrize("fix_checksum", [True, False], ids=["checksum-rewritten", "checksum-stale"])
def test_tampered_stored_hash_is_mismatch(tmp_path: Path, fix_checksum: bool) -> None:
    original = (DFVFS / "ext2.E01").read_bytes()
    position = section_offset(original, b"hash") + 76
    copy = damaged_copy(tmp_path, position, fix_hash_checksum=fix_checksum)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()

    check = check_ewf([copy])

    assert check.verdict == "mismatch"
    assert check.stored[0].hex != EXT2_MEDIA_MD5
    assert check.computed[0].hex == EXT2_MEDIA_MD5
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before  # the check never writes
    if not fix_checksum:
        assert any("'hash'" in damage and "Adler-32" in damage for damage in check.metadata_damage)


@pytest.mark.parametrize(
    "where, expected_damage",
    [
        (lambda data: 13 + 40, "section 'header2' at offset 13: descriptor Adler-32 checksum mismatch"),
        (lambda data: section_offset(data, b"header") + 76 + 30, "section 'header'"),
        (lambda data: section_offset(data, b"header") - 1, "compressed payload is corrupt"),
        (lambda data: 8, "file header"),
    ],
    ids=["header2-descriptor", "header-payload", "header2-zlib-checksum", "file-header"],
)
def test_header_damage_reported_media_intact(tmp_path: Path, where, expected_damage: str) -> None:
    original = (DFVFS / "ext2.E01").read_bytes()
    copy = damaged_copy(tmp_path, where(original))

    check = check_ewf([copy])

    assert any(expected_damage in damage for damage in check.metadata_damage), check.metadata_damage
    assert check.computed[0].hex == EXT2_MEDIA_MD5
    assert check.computed[2].hex == EXT2_MEDIA_SHA256
    assert check.verdict == "match"


def test_damaged_chunk_is_not_reported_intact(tmp_path: Path) -> None:
    original = (DFVFS / "ext2.E01").read_bytes()
    copy = damaged_copy(tmp_path, section_offset(original, b"sectors") + 76 + 200)

    try:
        check = check_ewf([copy])
    except InvalidInput as error:
        assert "cannot be decoded" in str(error)
    else:
        assert check.verdict == "mismatch"


def test_damaged_sectors_size_is_invalid_input(tmp_path: Path) -> None:
    # Byte 5 of the section size makes the last chunk reach gigabytes past the end of the file.
    original = (DFVFS / "ext2.E01").read_bytes()
    copy = damaged_copy(tmp_path, section_offset(original, b"sectors") + 24 + 5)

    with pytest.raises(InvalidInput, match="runs past the end of segment 1"):
        check_ewf([copy])


def test_raw_file_named_e01_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "fake.E01"
    shutil.copyfile(MANIFEST["dfvfs/image.dd"].path, fake)

    with pytest.raises(InvalidInput, match="not an EWF1"):
        check_ewf([fake])


def test_split_raw_set_rejected_as_ewf() -> None:
    with pytest.raises(InvalidInput, match="not an EWF segment set"):
        check_ewf([DFVFS / "ext2.splitraw.000", DFVFS / "ext2.splitraw.001"])


def test_to_dict_carries_algorithms() -> None:
    report = check_ewf([DFVFS / "image.E01"]).to_dict()

    assert report["verdict"] == "match"
    assert report["stored"] == ["md5:d73c51f10c7ee6a681b7b619ccc6f1c4"]
    assert report["computed"][2] == "sha256:a9c0220b1dadd1812fc4bbe137f495d2c3b88c7b33b5a4de545d201fd31b3bc0"


def test_chunk_inflating_past_chunk_size_rejected() -> None:
    # 1 MiB of zeros deflates to about 1 KiB, and a chunk of this geometry contains 32 KiB of media.
    from vault.hashing.ewf_sections import EwfFormatError, EwfLayout, Geometry, _Chunk, read_media

    bomb = zlib.compress(b"\0" * 2**20, 9)
    source = io.BytesIO(bomb)
    source.name = "bomb.E01"
    layout = EwfLayout(geometry=Geometry(1, 64, 512, 64), chunks=[_Chunk(0, 0, len(bomb), True)])

    with pytest.raises(EwfFormatError, match="inflates to more than the chunk size"):
        list(read_media([source], layout))
