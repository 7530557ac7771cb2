"""Order the files of a multi-file image by their segment extensions.

Recognized sets (case-insensitive):
- EWF: `.E01` … `.E99`, then `.EAA` … `.EZZ`, `.FAA` … `.ZZZ` (libewf naming);
  also `.Ex01` (EWF2), `.L01`/`.Lx01` (logical) and `.s01` (SMART), which
  stop at 99 here.
- Split raw: `.000`, `.001`, … (numbered from 0 or 1) and `split`'s `.aa`, `.ab`, ….
Anything else is a single file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from vault.errors import InvalidInput

_EWF_NUMBERED = re.compile(r"^(?P<stem>.+)\.(?P<letter>[els])(?P<x>x?)(?P<number>\d\d)$", re.IGNORECASE)
_EWF_LETTERED = re.compile(r"^(?P<stem>.+)\.(?P<letters>[e-z][a-z]{2})$", re.IGNORECASE)
_RAW_NUMBERED = re.compile(r"^(?P<stem>.+)\.(?P<number>\d{3,})$")
_RAW_LETTERED = re.compile(r"^(?P<stem>.+)\.(?P<letters>[a-z]{2})$")


@dataclass(frozen=True)
class SegmentSet:
    """The files of one evidence item in segment order."""

    kind: str  # "ewf", "split-raw" or "single"
    paths: tuple[Path, ...]
    warnings: tuple[str, ...]  # accepted but suspicious, e.g. a missing first segment


@dataclass(frozen=True)
class _Segment:
    kind: str
    family: str  # stem plus extension pattern; all segments of a set share it
    number: int
    first_number: int  # the number a complete set starts with
    name: str


def order_segments(paths: Sequence[Path]) -> SegmentSet:
    """Put the paths of one image in segment order; only the names are looked at."""
    names = [PurePath(path).name for path in paths]
    permutation, kind, warnings = order_segment_names(names)
    return SegmentSet(kind, tuple(Path(paths[i]) for i in permutation), tuple(warnings))


def order_segment_names(names: Sequence[str]) -> tuple[list[int], str, list[str]]:
    """Return the permutation that puts `names` in segment order, the set kind and warnings.

    Raises InvalidInput for an empty list, duplicate names, names from
    different sets, or several files that do not form a segment set.
    """
    if not names:
        raise InvalidInput("no files given; an evidence item needs at least one file")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInput(f"file name listed more than once: {', '.join(duplicates)}")

    segments = [_parse(name, several=len(names) > 1) for name in names]
    # A lettered EWF extension (.EAA) only follows a full run of .E01 … .E99.
    numbered_ewf = {s.family for s in segments if s and s.kind == "ewf" and s.number < 100}
    segments = [s if s is None or s.kind != "ewf" or s.number < 100 or s.family in numbered_ewf else None for s in segments]
    if len(names) == 1 and segments[0] is None:
        return [0], "single", []
    unrecognized = [name for name, segment in zip(names, segments) if segment is None]
    if unrecognized:
        listed = ", ".join(unrecognized[:10]) + (f" and {len(unrecognized) - 10} more" if len(unrecognized) > 10 else "")
        raise InvalidInput(
            f"not named like image segments (.E01, .000, .001, .aa): {listed}; "
            "upload unrelated files as separate items"
        )
    families = {segment.family for segment in segments if segment}
    if len(families) > 1:
        raise InvalidInput(f"the files belong to different segment sets: {', '.join(names)}")

    ordered = sorted(range(len(names)), key=lambda i: segments[i].number)  # type: ignore[union-attr]
    numbers = [segments[i].number for i in ordered]  # type: ignore[union-attr]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput(f"two files have the same segment number: {', '.join(names)}")
    first = segments[ordered[0]]
    assert first is not None
    return ordered, first.kind, _gap_warnings(first, numbers)


def _gap_warnings(first: _Segment, numbers: list[int]) -> list[str]:
    warnings = []
    if first.number != first.first_number:
        if first.kind == "split-raw" and first.first_number == 0 and first.number == 1:
            warnings.append(
                f"segment set starts at {first.name} and has no .000 segment: "
                "it looks incomplete unless the imaging tool numbers segments from .001"
            )
        else:
            expected = _first_segment_name(first)
            named = f" (the set should start with {expected})" if expected else ""
            warnings.append(f"segment set starts at {first.name}: the earlier segments look missing{named}")
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if missing:
        listed = ", ".join(str(number) for number in missing[:10]) + (", …" if len(missing) > 10 else "")
        warnings.append(f"{len(missing)} segment(s) missing between numbers {numbers[0]} and {numbers[-1]} ({listed}): the set looks incomplete")
    return warnings


def _first_segment_name(segment: _Segment) -> str | None:
    """Return the name the first segment of `segment`'s set would have, for numbered extensions only."""
    match = _EWF_NUMBERED.match(segment.name)
    if segment.kind == "ewf" and match:
        return f"{match['stem']}.{match['letter']}{match['x']}01"
    match = _RAW_NUMBERED.match(segment.name)
    if segment.kind == "split-raw" and match:
        return f"{match['stem']}.{'0' * len(match['number'])}"
    return None


def _parse(name: str, several: bool) -> _Segment | None:
    match = _EWF_NUMBERED.match(name)
    if match and int(match["number"]) >= 1:
        family = f"{match['stem']}.{match['letter'].upper()}{match['x'].lower()}"
        return _Segment("ewf", family, int(match["number"]), 1, name)

    match = _RAW_NUMBERED.match(name)
    if match:
        digits = match["number"]
        return _Segment("split-raw", f"{match['stem']}.{'#' * len(digits)}", int(digits), 0, name)

    # Lettered extensions (.EAA, .aa) are too common to mean a segment on
    # their own (a lone setup.exe or notes.aa), so they count only in a set.
    if not several:
        return None
    match = _EWF_LETTERED.match(name)
    if match:
        # libewf continues after .E99 with .EAA … .EZZ, then .FAA … .ZZZ.
        high, first, second = (ord(letter) - 65 for letter in match["letters"].upper())
        number = 100 + (high - 4) * 676 + first * 26 + second
        return _Segment("ewf", f"{match['stem']}.E", number, 1, name)
    match = _RAW_LETTERED.match(name)
    if match:
        first, second = (ord(letter) - 97 for letter in match["letters"])
        return _Segment("split-raw", f"{match['stem']}.??", first * 26 + second, 0, name)
    return None
