"""The entry format: RFC 8785 bytes, UTC microsecond time, integers only."""

from __future__ import annotations

import collections
import enum
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from vault.custody.entry import GENESIS_HASH, canonical_entry, entry_hash, format_time, parse_entry
from vault.errors import InvalidInput

TIME = datetime(2026, 12, 4, 19, 48, 43, 120034, tzinfo=timezone.utc)


def test_entry_bytes_are_canonical_json() -> None:
    raw = canonical_entry(0, TIME, "analyst.alice", "intake", "case-1", None, {"z": 1, "a": ["x", True]}, GENESIS_HASH)

    assert raw == (
        b'{"action":"intake","actor":"analyst.alice","case":"case-1","details":{"a":["x",true],"z":1},'
        b'"index":0,"item":null,"prev":"sha256:' + b"0" * 64 + b'","time":"2026-12-04T19:48:43.120034Z","version":1}'
    )
    assert entry_hash(raw) == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_non_utc_time_is_converted_to_utc() -> None:
    local = TIME.astimezone(timezone(timedelta(hours=5, minutes=30)))

    raw = canonical_entry(3, local, "a", "access", None, None, {}, GENESIS_HASH)

    assert json.loads(raw)["time"] == "2026-12-04T19:48:43.120034Z"
    assert raw == canonical_entry(3, TIME, "a", "access", None, None, {}, GENESIS_HASH)


def test_whole_second_time_keeps_six_digits() -> None:
    assert format_time(TIME.replace(microsecond=0)) == "2026-12-04T19:48:43.000000Z"


@pytest.mark.parametrize(
    "details",
    [{"ratio": 0.5}, {"nested": {"x": [1, 2.0]}}, {"big": 2**60}, {1: "non-string key"}, {"value": object()}],
    ids=["float", "nested-float", "integer-beyond-i-json", "integer-key", "object"],
)
def test_details_outside_json_integers_rejected(details: dict) -> None:
    with pytest.raises(InvalidInput):
        canonical_entry(0, TIME, "a", "access", None, None, details, GENESIS_HASH)


def test_naive_time_rejected() -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        canonical_entry(0, TIME.replace(tzinfo=None), "a", "access", None, None, {}, GENESIS_HASH)


@pytest.mark.parametrize("prev", ["", "0" * 64, "sha256:" + "A" * 64, "md5:" + "0" * 32])
def test_malformed_prev_hash_rejected(prev: str) -> None:
    with pytest.raises(InvalidInput, match="previous-entry hash"):
        canonical_entry(1, TIME, "a", "access", None, None, {}, prev)


def test_parse_entry_rejects_non_canonical_bytes() -> None:
    raw = canonical_entry(0, TIME, "a", "access", None, None, {"k": "v"}, GENESIS_HASH)
    spaced = json.dumps(json.loads(raw), indent=1).encode()

    assert parse_entry(raw)["details"] == {"k": "v"}
    with pytest.raises(InvalidInput, match="canonical"):
        parse_entry(spaced)


def test_parse_entry_rejects_extra_key() -> None:
    document = json.loads(canonical_entry(0, TIME, "a", "access", None, None, {}, GENESIS_HASH))
    document["note"] = "added"

    with pytest.raises(InvalidInput, match="unexpected"):
        parse_entry(json.dumps(document, separators=(",", ":"), sort_keys=True).encode())


@pytest.mark.parametrize(
    "document",
    [
        {"quote\"back\\slash": "tab\tnew\nline\r\x00\x1f\x7f\u2028"},
        {"\ue000": 1, "\U0001f600": 2, "a": [True, False, None, -(2**53 - 1)]},
        {"é": "ü", "z": {"b": [], "a": {}}, "émoji": "\U0001f600"},
        {"control": "\b\f\x0b"},
    ],
    ids=["escapes", "utf16-key-order", "non-ascii", "short-escapes"],
)
def test_canonical_json_matches_rfc8785_package(document: dict) -> None:
    import rfc8785

    from vault.custody.entry import canonical_json

    assert canonical_json(document) == rfc8785.dumps(document)


def test_parse_entry_rejects_float_and_huge_integer() -> None:
    raw = canonical_entry(0, TIME, "a", "access", None, None, {"k": 1}, GENESIS_HASH)

    with pytest.raises(InvalidInput, match="integer"):
        parse_entry(raw.replace(b'{"k":1}', b'{"k":1.5}'))
    with pytest.raises(InvalidInput, match="I-JSON"):
        parse_entry(raw.replace(b'{"k":1}', b'{"k":90071992547409930}'))


def test_canonical_json_basic_multilingual_plane() -> None:
    import rfc8785

    from vault.custody.entry import canonical_json

    # Every code point up to U+07FF, then every 7th up to U+FFFF (surrogates excluded), as key and value.
    code_points = [*range(0x800), *(cp for cp in range(0x800, 0x10000, 7) if not 0xD800 <= cp <= 0xDFFF)]
    for start in range(0, len(code_points), 64):
        document = {f"k{chr(cp)}": [chr(cp), f"a{chr(cp)}b"] for cp in code_points[start : start + 64]}
        assert canonical_json(document) == rfc8785.dumps(document), hex(code_points[start])


@pytest.mark.parametrize("value", [0, -1, 10**15, 2**53 - 1, -(2**53 - 1)])
def test_canonical_json_safe_integers(value: int) -> None:
    import rfc8785

    from vault.custody.entry import canonical_json

    assert canonical_json({"n": value, "list": [value]}) == rfc8785.dumps({"n": value, "list": [value]})


def test_parse_entry_sixteen_digit_integers() -> None:
    largest = 2**53 - 1  # 9007199254740991, sixteen digits
    raw = canonical_entry(0, TIME, "a", "access", None, None, {"k": largest}, GENESIS_HASH)

    assert parse_entry(raw)["details"] == {"k": largest}
    with pytest.raises(InvalidInput, match="I-JSON"):
        parse_entry(raw.replace(b"9007199254740991", b"9007199254740992"))
    with pytest.raises(InvalidInput, match="I-JSON"):
        parse_entry(raw.replace(b'{"k":9007199254740991}', b'{"k":-9007199254740992}'))


@pytest.mark.parametrize("opening, closing", [(b"[", b"]"), (b'{"a":', b"}")], ids=["lists", "objects"])
def test_parse_entry_deep_nesting_is_invalid_input(opening: bytes, closing: bytes) -> None:
    # Deeper than Python's recursion limit, so the JSON decoder raises RecursionError.
    raw = canonical_entry(0, TIME, "a", "access", None, None, {"k": 1}, GENESIS_HASH)
    nested = raw.replace(b'{"k":1}', b'{"k":' + opening * 5000 + b"1" + closing * 5000 + b"}")

    with pytest.raises(InvalidInput, match="nested"):
        parse_entry(nested)


def test_canonical_entry_deep_details_is_invalid_input() -> None:
    details: dict = {}
    inner = details
    for _ in range(5000):
        inner["k"] = {}
        inner = inner["k"]

    with pytest.raises(InvalidInput, match="nested"):
        canonical_entry(0, TIME, "a", "access", None, None, details, GENESIS_HASH)


@pytest.mark.parametrize(
    "field, value",
    [
        ("version", True),
        ("actor", ""),
        ("actor", 5),
        ("actor", None),
        ("action", ["access"]),
        ("case", 7),
        ("item", {"id": "x"}),
        ("details", []),
        ("details", None),
    ],
)
def test_parse_entry_rejects_unwritable_field(field: str, value: object) -> None:
    import rfc8785

    document = json.loads(canonical_entry(0, TIME, "a", "access", "case-1", "item-1", {"k": 1}, GENESIS_HASH))
    document[field] = value

    with pytest.raises(InvalidInput, match=field):
        parse_entry(rfc8785.dumps(document))


def test_canonical_json_random_documents() -> None:
    # Keys and values mix ASCII, control characters, the top of the BMP and characters beyond U+FFFF.
    # UTF-16 order and code point order differ for the last, so the fast path must hand them to rfc8785.
    import random

    import rfc8785

    from vault.custody.entry import canonical_json

    rng = random.Random(8785)
    alphabet = ["a", "\x00", "\x1f", '"', "\\", "\x7f", "é", "\u2028", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(4)))

    def value(depth: int) -> object:
        kind = rng.randrange(7 if depth < 4 else 5)
        if kind == 0:
            return text()
        if kind == 1:
            return rng.choice([0, -1, 2**31, 2**53 - 1, -(2**53 - 1), rng.randrange(-(2**53) + 1, 2**53)])
        if kind == 2:
            return rng.choice([True, False])
        if kind == 3:
            return None
        if kind == 4:
            return ()
        if kind == 5:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {text(): value(depth + 1) for _ in range(rng.randrange(5))}

    for number in range(2000):
        document = {text(): value(0) for _ in range(rng.randrange(6))}
        assert canonical_json(document) == rfc8785.dumps(document), (number, document)


@pytest.mark.parametrize(
    "value",
    [enum.IntEnum("Level", "LOW HIGH").HIGH, enum.Enum("Mode", {"READ": "r"}, type=str).READ, collections.OrderedDict(b=1, a=2), ("t", 1)],
    ids=["int-enum", "str-enum", "ordered-dict", "tuple"],
)
def test_canonical_json_subclasses_match_rfc8785(value: object) -> None:
    import rfc8785

    from vault.custody.entry import canonical_json

    document = {"v": value, "list": [value]}

    assert canonical_json(document) == rfc8785.dumps(document)
