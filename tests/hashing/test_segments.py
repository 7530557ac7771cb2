"""Segment ordering for EWF and split raw sets, including incomplete sets."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import IMAGES_DIR
from vault.errors import InvalidInput
from vault.hashing.segments import order_segment_names, order_segments


def ordered(names: list[str]) -> list[str]:
    permutation, _, _ = order_segment_names(names)
    return [names[i] for i in permutation]


def test_ewf_shuffled_past_e99() -> None:
    expected = [f"disk.E{i:02d}" for i in range(1, 100)] + ["disk.EAA", "disk.EAB", "disk.EBA", "disk.EZZ", "disk.FAA"]
    shuffled = expected[:]
    random.Random(3).shuffle(shuffled)

    permutation, kind, warnings = order_segment_names(shuffled)

    assert [shuffled[i] for i in permutation][:101] == expected[:101]
    assert kind == "ewf"
    assert any("missing" in warning for warning in warnings)  # EAC … EAZ, EBB … absent


def test_ewf_complete_set_has_no_warning() -> None:
    names = ["case.e03", "case.E01", "case.E02"]

    permutation, kind, warnings = order_segment_names(names)

    assert [names[i] for i in permutation] == ["case.E01", "case.E02", "case.e03"]
    assert kind == "ewf"
    assert warnings == []


def test_split_raw_from_000() -> None:
    paths = [IMAGES_DIR / "dfvfs/ext2.splitraw.001", IMAGES_DIR / "dfvfs/ext2.splitraw.000"]

    segments = order_segments(paths)

    assert segments.kind == "split-raw"
    assert [p.name for p in segments.paths] == ["ext2.splitraw.000", "ext2.splitraw.001"]
    assert segments.warnings == ()


def test_split_raw_lettered() -> None:
    assert ordered(["img.ac", "img.aa", "img.ab"]) == ["img.aa", "img.ab", "img.ac"]


def test_bogus_001_alone_warns_incomplete() -> None:
    segments = order_segments([IMAGES_DIR / "dfvfs/bogus.001"])

    assert segments.kind == "split-raw"
    assert len(segments.warnings) == 1
    assert "no .000" in segments.warnings[0]
    assert "looks incomplete" in segments.warnings[0]


def test_gap_in_split_raw_warns() -> None:
    _, _, warnings = order_segment_names(["x.003", "x.000", "x.001"])

    assert len(warnings) == 1
    assert "(2)" in warnings[0]


def test_ewf_without_e01_warns() -> None:
    _, _, warnings = order_segment_names(["x.E02", "x.E03"])

    assert warnings == ["segment set starts at x.E02: the earlier segments look missing (the set should start with x.E01)"]


def test_single_file_kinds() -> None:
    assert order_segment_names(["image.dd"]) == ([0], "single", [])
    assert order_segment_names(["setup.exe"]) == ([0], "single", [])
    assert order_segment_names(["ímynd.dd"]) == ([0], "single", [])
    assert order_segment_names(["ext2.E01"])[1] == "ewf"


def test_bare_names_and_paths_agree() -> None:
    names = ["ext2.split.E02", "ext2.split.E01"]

    segments = order_segments([Path("/somewhere") / name for name in names])

    assert [p.name for p in segments.paths] == ordered(names)


@pytest.mark.parametrize(
    "names, message",
    [
        ([], "no files"),
        (["a.E01", "a.E01"], "more than once"),
        (["a.E01", "b.E02"], "different segment sets"),
        (["a.E01", "a.000"], "different segment sets"),
        (["a.txt", "b.pdf"], "not named like image segments"),
        (["a.E01", "a.e01"], "same segment number"),
    ],
)
def test_invalid_sets_rejected(names: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        order_segment_names(names)
