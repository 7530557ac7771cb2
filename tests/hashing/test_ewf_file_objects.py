"""check_ewf over file objects: stored versions read with ranged GETs give the same result as local paths."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import EXT2_MEDIA_MD5
from tests.hashing.test_ewf import DFVFS, EWF_SETS, damaged_copy, section_offset
from vault.errors import InvalidInput
from vault.hashing import ewf
from vault.hashing.ewf import check_ewf
from vault.storage.errors import StorageUnavailable
from vault.storage.objects import ObjectStore
from vault.storage.reader import ObjectReader


def stored_readers(store: ObjectStore, paths: list[Path]) -> list[ObjectReader]:
    """Store each file under a key that hides its name and open a reader named after it."""
    retain_until = datetime.now(timezone.utc) + timedelta(days=1)
    readers = []
    for number, path in enumerate(paths):
        stored = store.put_locked(f"evidence/set/{number}", path.read_bytes(), retain_until)
        readers.append(store.open_reader(stored.key, stored.version_id, name=path.name))
    return readers


class FailingFile(io.RawIOBase):
    """A local segment whose reads raise `error` once armed."""

    def __init__(self, path: Path, error: Exception) -> None:
        super().__init__()
        self._file = path.open("rb")
        self.name = path.name
        self.error = error
        self.armed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.armed:
            raise self.error
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()
        super().close()


@pytest.mark.parametrize("name", sorted(EWF_SETS))
def test_stored_sets_match_paths(object_store: ObjectStore, name: str) -> None:
    paths = [DFVFS / file for file in EWF_SETS[name][0]]
    readers = stored_readers(object_store, paths)

    from_paths = check_ewf(paths)
    from_storage = check_ewf(list(reversed(readers)))

    assert from_storage == from_paths
    assert from_storage.verdict == "match"
    assert from_storage.decoder == "libewf"
    assert all(not reader.closed for reader in readers)  # the caller owns the readers


@pytest.mark.parametrize(
    "where, fix_checksum, decoder, verdict",
    [
        (lambda data: section_offset(data, b"hash") + 76, True, "libewf", "mismatch"),
        (lambda data: section_offset(data, b"hash") + 76, False, "own", "mismatch"),
        (lambda data: 13 + 40, False, "own", "match"),
        (lambda data: 8, False, "libewf", "match"),
    ],
    ids=["stored-hash-rewritten", "stored-hash-stale-checksum", "header2-descriptor", "file-header"],
)
def test_stored_tampered_copy_matches_path(
    object_store: ObjectStore, tmp_path: Path, where, fix_checksum: bool, decoder: str, verdict: str
) -> None:
    original = (DFVFS / "ext2.E01").read_bytes()
    copy = damaged_copy(tmp_path, where(original), fix_hash_checksum=fix_checksum)
    readers = stored_readers(object_store, [copy])

    from_path = check_ewf([copy])
    from_storage = check_ewf(readers)

    assert from_storage == from_path
    assert from_storage.decoder == decoder
    assert from_storage.verdict == verdict
    assert from_storage.computed[0].hex == EXT2_MEDIA_MD5
    assert from_storage.metadata_damage or fix_checksum


def test_local_file_objects_match_paths() -> None:
    paths = [DFVFS / "ext2.split.E01", DFVFS / "ext2.split.E02"]

    with paths[0].open("rb") as first, paths[1].open("rb") as second:
        from_files = check_ewf([second, first])
        still_open = not first.closed and not second.closed

    assert from_files == check_ewf(paths)
    assert still_open


def test_storage_error_inside_libewf_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = StorageUnavailable("S3 GetObject failed for s3://bucket/evidence/set/0: cannot reach the endpoint")
    segment = FailingFile(DFVFS / "ext2.E01", failure)
    decode = ewf._decode_with_libewf

    def arm_then_decode(segments):
        segment.armed = True
        return decode(segments)

    monkeypatch.setattr(ewf, "_decode_with_libewf", arm_then_decode)

    with pytest.raises(StorageUnavailable) as raised:
        check_ewf([segment])

    assert raised.value is failure


def test_os_error_inside_libewf_is_invalid_input(monkeypatch: pytest.MonkeyPatch) -> None:
    segment = FailingFile(DFVFS / "ext2.E01", OSError(5, "Input/output error"))
    decode = ewf._decode_with_libewf

    def arm_then_decode(segments):
        segment.armed = True
        return decode(segments)

    monkeypatch.setattr(ewf, "_decode_with_libewf", arm_then_decode)

    with pytest.raises(InvalidInput, match="cannot read ext2.E01: Input/output error"):
        check_ewf([segment])


def test_missing_path_is_invalid_input(tmp_path: Path) -> None:
    missing = tmp_path / "ext2.split.E02"

    with pytest.raises(InvalidInput, match=f"cannot read {missing}: No such file or directory"):
        check_ewf([DFVFS / "ext2.split.E01", missing])


def test_file_object_without_name_rejected() -> None:
    with pytest.raises(TypeError, match="has no string 'name'"):
        check_ewf([io.BytesIO((DFVFS / "image.E01").read_bytes())])
