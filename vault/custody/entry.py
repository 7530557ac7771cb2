"""The custody entry format: RFC 8785 (JCS) JSON bytes, hashed exactly as stored.

An entry is the canonical JSON object

    {"action", "actor", "case", "details", "index", "item", "prev", "time", "version"}

where `time` is RFC 3339 UTC with microseconds and a trailing `Z`, and `prev`
is the `sha256:` hash of the previous entry's bytes (64 zeros for entry 0).
Only integers are allowed as numbers, so every verifier re-derives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any

import orjson
import rfc8785

from vault.errors import InvalidInput

ENTRY_VERSION = 1
GENESIS_HASH = "sha256:" + "0" * 64
ENTRY_KEYS = frozenset({"version", "index", "time", "actor", "action", "case", "item", "details", "prev"})

_HASH_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")
_TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def format_time(time: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with microseconds, e.g. `2026-12-04T19:48:43.123456Z`."""
    if time.tzinfo is None or time.utcoffset() is None:
        raise InvalidInput(f"entry time {time.isoformat()} has no time zone; pass an aware datetime")
    return time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse the entry time format back into an aware UTC datetime."""
    return _check_time_text(text).replace(tzinfo=timezone.utc)


def _check_time_text(text: Any) -> datetime:
    """Check the entry time format and calendar; return the naive UTC datetime."""
    if not isinstance(text, str) or not _TIME_PATTERN.match(text):
        raise InvalidInput(f"invalid entry time {text!r}: expected YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        return datetime.fromisoformat(text[:-1])
    except ValueError as error:
        raise InvalidInput(f"invalid entry time {text!r}: {error}") from error


def entry_hash(raw: bytes) -> str:
    """Return the chain hash of stored entry bytes: `sha256:` + SHA-256(raw)."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def canonical_entry(
    index: int,
    time: datetime,
    actor: str,
    action: str,
    case_id: str | None,
    item_id: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> bytes:
    """Serialize one custody entry as RFC 8785 bytes.

    Raises InvalidInput for a negative index, a naive time, an empty actor or
    action, a malformed `prev_hash`, or details that hold floats, non-string
    keys or integers outside the I-JSON range (±2**53).
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidInput(f"invalid entry index {index!r}: expected an integer >= 0")
    if not isinstance(prev_hash, str) or not _HASH_PATTERN.match(prev_hash):
        raise InvalidInput(f"invalid previous-entry hash {prev_hash!r}: expected sha256:<64 lower-case hex>")
    check_entry_fields(actor, action, case_id, item_id, details)

    document = {
        "version": ENTRY_VERSION,
        "index": index,
        "time": format_time(time),
        "actor": actor,
        "action": action,
        "case": case_id,
        "item": item_id,
        "details": details,
        "prev": prev_hash,
    }
    try:
        return canonical_json(document)
    except rfc8785.CanonicalizationError as error:
        raise InvalidInput(f"entry details cannot be canonicalized (RFC 8785): {error}") from error


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

# UTF-8 lead bytes of characters beyond U+FFFF.
_NON_BMP = re.compile(rb"[\xf0-\xf4]")

# orjson writes JSON values of the types named in `canonical_json` as RFC 8785
# does, in about 0.2 µs per entry against 3 µs for the standard library (measured
# on the development machine). The pass-through options send datetimes,
# dataclasses and subclasses of str, int, dict and list to the standard-library
# path, so the fast path never serializes a type that `json` would reject.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def canonical_json(document: Any) -> bytes:
    """Serialize JSON made of dicts, lists, strings, integers, booleans and None as RFC 8785 bytes.

    For such values, JSON with sorted keys, no spaces and literal non-ASCII
    text is RFC 8785: the same string escapes, integer digits and key order.
    The one exception is a key with a character beyond U+FFFF, because
    RFC 8785 sorts keys by UTF-16 code units. Output with such characters, or
    with unpaired surrogates, therefore comes from the `rfc8785` package.
    `tests/custody/test_entry.py` compares the fast path with `rfc8785` over
    the Basic Multilingual Plane. Integer range and float checks are the
    caller's job.
    """
    try:
        fast = orjson.dumps(document, option=_ORJSON_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        # Integers beyond 64 bits, unpaired surrogates and the pass-through types.
        return _canonical_json_stdlib(document)
    if not fast.isascii() and _NON_BMP.search(fast):
        return rfc8785.dumps(document)
    return fast


def _canonical_json_stdlib(document: Any) -> bytes:
    try:
        fast = _ENCODER.encode(document).encode("utf-8")
    except UnicodeEncodeError:
        return rfc8785.dumps(document)
    if _NON_BMP.search(fast):
        return rfc8785.dumps(document)
    return fast


def check_entry_fields(actor: str, action: str, case_id: str | None, item_id: str | None, details: dict[str, Any]) -> None:
    """Check the caller-supplied fields of an entry; raise InvalidInput when one cannot be written."""
    for name, value in (("actor", actor), ("action", action)):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"invalid entry {name} {value!r}: expected a non-empty string")
        _check_json_value(value, name)
    for name, value in (("case", case_id), ("item", item_id)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"invalid entry {name} id {value!r}: expected a string or None")
        _check_json_value(value, name)
    if not isinstance(details, dict):
        raise InvalidInput(f"entry details must be a JSON object, got {type(details).__name__}")
    try:
        _check_json_value(details, "details")
    except RecursionError:
        raise InvalidInput("entry details are nested too deeply to serialize: flatten them to a few levels") from None


# I-JSON (RFC 7493) integers, which RFC 8785 requires: at most 2**53 - 1 in magnitude.
_MAX_SAFE_INTEGER = 2**53 - 1


def _check_json_value(value: Any, path: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidInput(f"{path} is not valid Unicode text: {error}") from error
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INTEGER:
        raise InvalidInput(f"{path} is {value}, beyond the I-JSON integer range ±(2**53 - 1); write it as a string")
    if isinstance(value, float):
        raise InvalidInput(f"{path} is a float ({value!r}); custody entries allow integers only, so write it as a string or scaled integer")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{path} has a non-string key {key!r}")
            _check_json_value(key, f"{path} key")
            _check_json_value(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            _check_json_value(item, f"{path}[{position}]")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise InvalidInput(f"{path} has a value of type {type(value).__name__}, which JSON cannot hold")


def _reject_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer")


def _parse_safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > _MAX_SAFE_INTEGER:
        raise ValueError(f"integer {text} is beyond the I-JSON range")
    return value


# The strict decoder checks the range of every integer in Python, which costs
# about a microsecond per number. An integer beyond the I-JSON range has at
# least 16 digits, so bytes without 16 digits in a row go to the fast decoder,
# whose integers are parsed in C. Both reject floats.
_STRICT_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_int=_parse_safe_int)
_FAST_DECODER = json.JSONDecoder(parse_float=_reject_float)
# Maps every ASCII digit to b"0", so that one substring search finds 16 digits in a row
# (a regular expression for the same costs several times more per entry).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SIXTEEN_DIGITS = b"0" * 16


def parse_entry(raw: bytes) -> dict[str, Any]:
    """Decode stored entry bytes and check that they are a well-formed canonical entry.

    Raises InvalidInput when the bytes are not UTF-8 JSON, are nested too deeply
    to decode, lack or add keys, hold a field that `canonical_entry` would not
    write, or differ from their own RFC 8785 form (which means they were edited
    by hand).
    """
    decoder = _STRICT_DECODER if _SIXTEEN_DIGITS in raw.translate(_DIGITS_TO_ZERO) else _FAST_DECODER
    try:
        # raw_decode stops after the object; anything after it fails the canonical comparison below.
        document, _end = decoder.raw_decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidInput(f"entry bytes are not UTF-8 JSON with integer numbers: {error}") from error
    except RecursionError:
        # Only an edited entry is nested this deeply, because canonical_entry rejects such details.
        raise InvalidInput("entry bytes are JSON nested too deeply to decode") from None
    if not isinstance(document, dict):
        raise InvalidInput("entry bytes are not a JSON object")
    if document.keys() != ENTRY_KEYS:
        missing = sorted(ENTRY_KEYS - document.keys())
        extra = sorted(document.keys() - ENTRY_KEYS)
        raise InvalidInput(f"entry keys differ from the format: missing {missing}, unexpected {extra}")
    version = document["version"]
    # JSON true decodes to True, which equals 1 in Python.
    if isinstance(version, bool) or version != ENTRY_VERSION:
        raise InvalidInput(f"unsupported entry version {version!r}; this vault reads version {ENTRY_VERSION}")
    index = document["index"]
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidInput(f"invalid entry index {index!r}")
    _check_time_text(document["time"])
    if not isinstance(document["prev"], str) or not _HASH_PATTERN.match(document["prev"]):
        raise InvalidInput(f"invalid previous-entry hash {document['prev']!r}")
    # The field types check_entry_fields enforces on the writer, in one expression because it runs
    # for every entry verified. The decoder has already rejected floats and out-of-range integers.
    actor, action, case, item = document["actor"], document["action"], document["case"], document["item"]
    if not (
        isinstance(actor, str) and actor and isinstance(action, str) and action
        and (case is None or isinstance(case, str)) and (item is None or isinstance(item, str))
        and isinstance(document["details"], dict)
    ):
        # One of the types is wrong, so the writer's own check raises with its message.
        check_entry_fields(actor, action, case, item, document["details"])
    try:
        canonical = canonical_json(document)
    except rfc8785.CanonicalizationError as error:
        raise InvalidInput(f"entry cannot be canonicalized (RFC 8785): {error}") from error
    if canonical != raw:
        raise InvalidInput("entry bytes are not in RFC 8785 canonical form")
    return document
