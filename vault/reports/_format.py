"""Turn report values into the text printed in the PDF."""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from vault.errors import InvalidInput
from vault.hashing.digest import HEX_LENGTHS, Digest

NOT_RECORDED = "not recorded"


def utc_time(value: datetime | str | None) -> str:
    """Format a time as RFC 3339 UTC with a trailing Z, and return strings unchanged."""
    if value is None:
        return NOT_RECORDED
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise InvalidInput(f"time {value.isoformat()} has no time zone. Pass a timezone-aware UTC datetime")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def byte_size(size: int | None) -> str:
    """Format a size as exact bytes with a binary-unit approximation."""
    if size is None:
        return NOT_RECORDED
    exact = f"{size:,} bytes"
    if size < 1024:
        return exact
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024:
            break
    return f"{exact} ({value:.1f} {unit})"


def digest_text(value: Any, algorithm: str | None = None) -> str:
    """Return a digest as `algorithm:hex`, raising InvalidInput when the algorithm is unknown.

    A bare hex value is accepted only when `algorithm` names its algorithm
    (for example the key of a `{"md5": "d73c…"}` mapping).
    """
    text = str(value).strip()
    if ":" in text:
        return str(Digest.parse(text))
    if algorithm is not None and algorithm.lower() in HEX_LENGTHS:
        return str(Digest(algorithm.lower(), text.lower()))
    raise InvalidInput(f"digest {text!r} does not name its algorithm. Write it as sha256:<hex>")


def labelled_digests(value: Any) -> list[tuple[str, str]]:
    """Normalize digests into (label, digest) pairs.

    Accepts a list of `algorithm:hex` strings (labelled by algorithm), or a
    mapping whose values are one digest or a list of digests (labelled by key).
    """
    if value is None:
        return []
    if isinstance(value, Mapping):
        pairs = []
        for label, digests in value.items():
            if isinstance(digests, str):
                pairs.append((humanize(label), digest_text(digests, str(label))))
            else:
                pairs.extend((humanize(label), digest_text(digest)) for digest in digests or [])
        return pairs
    if isinstance(value, str):
        value = [value]
    pairs = []
    for digest in value:
        text = digest_text(digest)
        pairs.append((text.partition(":")[0].upper(), text))
    return pairs


def checkpoint_root(value: Any) -> str:
    """Return a checkpoint root as `sha256:<hex>`, accepting the base64 form of a C2SP checkpoint."""
    if value is None:
        return NOT_RECORDED
    text = str(value).strip()
    if ":" in text:
        return digest_text(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise InvalidInput(f"checkpoint root {text!r} is neither sha256:<hex> nor base64") from error
    return str(Digest.from_bytes("sha256", raw))


def humanize(key: str) -> str:
    """Turn a mapping key such as `stored_md5` into a label such as `Stored MD5`."""
    words = [word.upper() if word.lower() in HEX_LENGTHS else word for word in str(key).replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def yes_no(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    return "yes" if value else "no"


def plain(value: Any) -> str:
    """Format any JSON-like value as one line of text."""
    if value is None:
        return NOT_RECORDED
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return utc_time(value)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return ", ".join(str(v) for v in value) if value else "none"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def details_summary(details: Any) -> str:
    """Summarize a ledger entry's details as `key: value` pairs, sorted by key, nothing left out."""
    if not details:
        return ""
    if not isinstance(details, Mapping):
        return plain(details)
    return "; ".join(f"{key}: {plain(details[key])}" for key in sorted(details))


def mapping_rows(value: Any) -> list[tuple[str, str]]:
    """Turn a text or a mapping (such as a container check result) into label/value rows."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(humanize(key), plain(item)) for key, item in value.items()]
    return [("Result", plain(value))]


def escaped_name(name: str, covered: set[int]) -> str | None:
    """Return the name with risky characters written as code points, or None when it has none.

    Risky characters are control and format characters (which include the
    bidirectional overrides that make a name read differently from its bytes)
    and characters the embedded font has no glyph for.
    """
    parts = []
    risky = False
    for char in name:
        hidden = unicodedata.category(char).startswith("C") or (ord(char) not in covered and not char.isspace())
        if hidden:
            risky = True
            parts.append(f"<U+{ord(char):04X}>")
        else:
            parts.append(char)
    return "".join(parts) if risky else None
