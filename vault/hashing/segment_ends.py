"""Tell, from local files, whether the last EWF1 segment given ends its set.

Every EWF1 (EnCase `.E01`) segment file is a chain of section descriptors.
The chain of the last segment of a set ends with a `done` section. Every
other segment's chain ends with `next`, because another segment follows it. `vault.hashing.ewf_sections.walk` follows the same chain but does not
return the type of its last section, so this module reads just the
descriptors: 76 bytes each, a few per segment, never the media.

NOTE: only EWF1 segments (signature `EVF\\t\\r\\n\\xff\\x00`) are checked.
EWF2 (`.Ex01`) and logical (`.L01`) files get None from `last_section_type`
and pass unchecked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vault.hashing.ewf_sections import DESCRIPTOR, EWF1_SIGNATURE, FILE_HEADER_SIZE

# Upper bound on descriptors read from one file, so a looping chain of offsets ends.
_MAX_SECTIONS = 100_000

_NUMBERED = re.compile(r"^(?P<letter>[ELSels])(?P<version_marker>[xX]?)(?P<number>\d\d)$")
_LETTERED = re.compile(r"^[E-Ze-z][A-Za-z]{2}$")


def last_section_type(path: Path) -> str | None:
    """Return the type of the section that ends an EWF1 segment's chain, `next` or `done`.

    Returns None when the file is not EWF1 or its chain of descriptors ends
    elsewhere (a damaged or truncated file), because then this check cannot
    tell. The vault's container check on the stored bytes reports such damage.
    """
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(0)
        if handle.read(len(EWF1_SIGNATURE)) != EWF1_SIGNATURE:
            return None
        offset = FILE_HEADER_SIZE
        for _ in range(_MAX_SECTIONS):
            if offset + DESCRIPTOR.size > size:
                return None
            handle.seek(offset)
            kind_raw, next_offset, _, _, _ = DESCRIPTOR.unpack(handle.read(DESCRIPTOR.size))
            kind = kind_raw.rstrip(b"\x00")
            if kind in (b"next", b"done"):
                return kind.decode("ascii")
            if not offset < next_offset <= size - DESCRIPTOR.size:
                return None
            offset = next_offset
    return None


def next_segment_name(name: str) -> str | None:
    """Return the file name libewf gives the segment after `name`, or None past the last possible name.

    `.E01` is followed by `.E02`, `.E99` by `.EAA`, `.EAZ` by `.EBA` and `.EZZ`
    by `.FAA`, up to `.ZZZ`. The case of the extension is kept.
    """
    stem, _, extension = name.rpartition(".")
    numbered = _NUMBERED.match(extension)
    if numbered:
        letter, version_marker, number = numbered["letter"], numbered["version_marker"], int(numbered["number"]) + 1
        if number <= 99:
            return f"{stem}.{letter}{version_marker}{number:02d}"
        if version_marker:
            return None
        return f"{stem}.{letter}{'AA' if letter.isupper() else 'aa'}"
    if _LETTERED.match(extension):
        value = sum((ord(letter) - ord("A")) * 26 ** power for power, letter in enumerate(reversed(extension.upper()))) + 1
        if value >= 26 ** 3:
            return None
        letters = "".join(chr(ord("A") + value // 26 ** power % 26) for power in (2, 1, 0))
        return f"{stem}.{letters if extension.isupper() else letters.lower()}"
    return None


def missing_next_segment(last: Path) -> str | None:
    """Return the name of the segment that must follow `last`, or None when `last` ends its set.

    `last` is the last segment of the set that is about to be uploaded. A
    segment whose chain ends with `next` is followed by another one. A name
    past `.ZZZ` cannot be given, so "the next segment" stands for it.
    """
    if last_section_type(last) != "next":
        return None
    return next_segment_name(last.name) or "the next segment"
