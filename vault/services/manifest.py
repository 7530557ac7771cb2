"""The upload manifest: what the client says it is about to send.

An upload is one HTTP request whose body is the item's files concatenated in
segment order. The manifest travels in the `Vault-Manifest` header as
base64url-encoded JSON, so Unicode file names arrive exactly:

    {"files": [{"name": "ímynd.dd", "size": 102400}],
     "expect": ["md5:…"], "acquisition_hash": ["md5:…"],
     "description": "…", "algorithms": ["md5", "sha1"],
     "acquisition": {…}}

`acquisition` is optional; when present it is checked by
`vault.services.records.acquisition.validate_acquisition`, and its hashes
serve as `acquisition_hash` when that is not given.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from dataclasses import dataclass

from vault.errors import InvalidInput
from vault.hashing.digest import Digest

MANIFEST_HEADER = "Vault-Manifest"
MAX_FILES = 10_000
MAX_NAME_BYTES = 1024
MAX_FILE_SIZE = 5 * 2**40  # the largest object S3 stores
# Explicit text-direction controls (embeddings, overrides, isolates, marks) that can disguise a name.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
EXTRA_ALGORITHMS = ("md5", "sha1")


@dataclass(frozen=True)
class FileSpec:
    name: str
    size: int


@dataclass(frozen=True)
class UploadManifest:
    files: tuple[FileSpec, ...]
    expect: tuple[Digest, ...] = ()
    acquisition_hash: tuple[Digest, ...] = ()
    description: str = ""
    algorithms: tuple[str, ...] = ()
    acquisition: dict | None = None

    @property
    def employee_device(self) -> bool:
        """True when the acquisition record says the source device is employee-owned."""
        return bool(self.acquisition and self.acquisition["source_device"].get("employee_owned"))

    @property
    def total_size(self) -> int:
        return sum(spec.size for spec in self.files)

    def needed_algorithms(self) -> tuple[str, ...]:
        """Return the extra digests (md5, sha1) that the declared hashes or the client ask for."""
        wanted = set(self.algorithms)
        wanted.update(d.algorithm for d in self.expect + self.acquisition_hash)
        return tuple(a for a in EXTRA_ALGORITHMS if a in wanted)

    def encode(self) -> str:
        document = {
            "files": [{"name": f.name, "size": f.size} for f in self.files],
            "expect": [str(d) for d in self.expect],
            "acquisition_hash": [str(d) for d in self.acquisition_hash],
            "description": self.description,
            "algorithms": list(self.algorithms),
        }
        if self.acquisition is not None:
            document["acquisition"] = self.acquisition
        return base64.urlsafe_b64encode(json.dumps(document, ensure_ascii=False).encode("utf-8")).decode("ascii")

    @classmethod
    def decode(cls, header: str | None) -> "UploadManifest":
        if not header:
            raise InvalidInput(f"missing {MANIFEST_HEADER} header; upload with the evidence-vault CLI or send the manifest as base64url JSON")
        try:
            padded = header + "=" * (-len(header) % 4)
            document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
            # JSON may escape lone surrogates (\ud800), which no UTF-8 ledger entry can hold.
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except (ValueError, UnicodeError) as error:
            raise InvalidInput(f"invalid {MANIFEST_HEADER} header: not base64url-encoded UTF-8 JSON ({error})") from None
        except RecursionError:
            raise InvalidInput(f"invalid {MANIFEST_HEADER} header: JSON nested too deeply") from None
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: object) -> "UploadManifest":
        if not isinstance(document, dict):
            raise InvalidInput("invalid manifest: expected a JSON object")
        files = document.get("files")
        if not isinstance(files, list) or not files:
            raise InvalidInput("invalid manifest: 'files' must list at least one file")
        if len(files) > MAX_FILES:
            raise InvalidInput(f"invalid manifest: {len(files)} files, at most {MAX_FILES} per item")
        specs = []
        seen = set()
        for number, entry in enumerate(files):
            if not isinstance(entry, dict):
                raise InvalidInput(f"invalid manifest: file {number} is not an object")
            name, size = entry.get("name"), entry.get("size")
            if not isinstance(name, str) or not name or "/" in name or "\x00" in name or name in (".", ".."):
                raise InvalidInput(f"invalid file name {name!r} for file {number}: give the base name without '/' or NUL")
            hidden = [c for c in name if unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS]
            if hidden:
                codes = ", ".join(f"U+{ord(c):04X}" for c in hidden)
                raise InvalidInput(
                    f"invalid file name {name!r} for file {number}: it contains control or text-direction characters ({codes}) "
                    "that would hide its real name in listings and reports; rename the file"
                )
            if len(name.encode("utf-8")) > MAX_NAME_BYTES:
                raise InvalidInput(f"invalid file name for file {number}: longer than {MAX_NAME_BYTES} bytes")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size > MAX_FILE_SIZE:
                raise InvalidInput(
                    f"invalid size {size!r} for file {name!r}: expected a whole number of bytes from 0 to {MAX_FILE_SIZE} (5 TiB, the S3 object limit)"
                )
            folded = unicodedata.normalize("NFC", name)
            if folded in seen:
                raise InvalidInput(f"file name {name!r} appears twice in one item")
            seen.add(folded)
            specs.append(FileSpec(name, size))
        algorithms = document.get("algorithms") or []
        if not isinstance(algorithms, list) or any(a not in EXTRA_ALGORITHMS for a in algorithms):
            raise InvalidInput(f"invalid 'algorithms' {algorithms!r}: choose from {', '.join(EXTRA_ALGORITHMS)}")
        description = document.get("description") or ""
        if not isinstance(description, str):
            raise InvalidInput("invalid 'description': expected text")
        acquisition_hash = _parse_digests(document.get("acquisition_hash"), "acquisition_hash")
        acquisition = None
        if document.get("acquisition") is not None:
            from vault.services.records.acquisition import validate_acquisition

            acquisition = validate_acquisition(document["acquisition"])
            recorded = _parse_digests(acquisition["hashes"], "acquisition.hashes")
            if not acquisition_hash:
                acquisition_hash = recorded
            elif recorded and {str(d) for d in recorded} != {str(d) for d in acquisition_hash}:
                raise InvalidInput(
                    f"the acquisition record lists hashes {', '.join(map(str, recorded))} but 'acquisition_hash' is "
                    f"{', '.join(map(str, acquisition_hash))}; give one set of acquisition hashes"
                )
        return cls(
            files=tuple(specs),
            expect=_parse_digests(document.get("expect"), "expect"),
            acquisition_hash=acquisition_hash,
            description=description,
            algorithms=tuple(a for a in EXTRA_ALGORITHMS if a in algorithms),
            acquisition=acquisition,
        )


def _parse_digests(values: object, field: str) -> tuple[Digest, ...]:
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"invalid {field!r}: expected a list of ALGORITHM:HEX strings")
    digests = tuple(Digest.parse(v) for v in values)
    algorithms = [d.algorithm for d in digests]
    if len(set(algorithms)) != len(algorithms):
        raise InvalidInput(f"invalid {field!r}: one digest per algorithm, got {', '.join(map(str, digests))}")
    return digests
