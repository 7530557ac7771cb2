"""Reading where an EWF1 segment's chain of sections ends, and naming the segment after it."""

from __future__ import annotations

import shutil

import pytest

from vault.hashing.segment_ends import last_section_type, missing_next_segment, next_segment_name


@pytest.mark.parametrize("name,expected", [
    ("dfvfs/ext2.E01", "done"),
    ("dfvfs/image.E01", "done"),
    ("dfvfs/ext2.split.E01", "next"),
    ("dfvfs/ext2.split.E02", "done"),
    ("dfvfs/image-split.E01", "next"),
    ("dfvfs/image-split.E02", "done"),
])
def test_last_section_of_fixture(manifest, name, expected):
    assert last_section_type(manifest[name].path) == expected


def test_raw_image_not_checked(manifest):
    assert last_section_type(manifest["dfvfs/image.dd"].path) is None


def test_truncated_segment_not_checked(manifest, tmp_path):
    source = manifest["dfvfs/image-split.E01"].path
    truncated = tmp_path / "image-split.E01"
    truncated.write_bytes(source.read_bytes()[:4096])

    assert last_section_type(truncated) is None
    assert missing_next_segment(truncated) is None


def test_missing_next_segment_named(manifest, tmp_path):
    renamed = tmp_path / "disk.e07"
    shutil.copyfile(manifest["dfvfs/image-split.E01"].path, renamed)

    assert missing_next_segment(manifest["dfvfs/image-split.E01"].path) == "image-split.E02"
    assert missing_next_segment(manifest["dfvfs/image-split.E02"].path) is None
    assert missing_next_segment(renamed) == "disk.e08"


@pytest.mark.parametrize("name,expected", [
    ("disk.E01", "disk.E02"),
    ("disk.e09", "disk.e10"),
    ("disk.E99", "disk.EAA"),
    ("disk.e99", "disk.eaa"),
    ("disk.EAZ", "disk.EBA"),
    ("disk.EZZ", "disk.FAA"),
    ("disk.ZZY", "disk.ZZZ"),
    ("disk.ZZZ", None),
    ("disk.Ex01", "disk.Ex02"),
    ("disk.s01", "disk.s02"),
    ("my.case.E01", "my.case.E02"),
    ("disk.dd", None),
])
def test_next_segment_name(name, expected):
    assert next_segment_name(name) == expected
