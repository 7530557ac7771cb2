"""The input of a custody report: plain values gathered by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ReportData:
    """Everything a custody report shows, already read from the ledger and storage.

    The renderer reads these keys and prints "not recorded" for any that is
    missing. Digests are strings that carry their algorithm (`sha256:<hex>`).

    - `case`: reference, title, classification, jurisdiction, status.
    - `item`: id, description, status, set_kind, size, sha256, md5, sha1,
      merkle_root, leaf_size, declared or declared_hashes, media or
      media_hashes, container_check (text or mapping), warnings (list of
      text), empty, bucket, retention_mode, retain_until, legal_hold.
      A physical item (`kind` "physical") has no files or hashes; it has
      physical_details (location, seal, identifiers), registration_entry,
      moves and record_problems instead.
      Declared hashes are those of the acquisition, and media hashes those of
      the media inside a container. Both are a list of digests, or a mapping
      of label to one digest or a list of digests.
    - `files`: one mapping per stored file: file_no, original_name or name,
      size, digests (list or mapping), merkle_root, bucket, object_key,
      version_id, retention_mode, retain_until, legal_hold. File values
      override the item's storage values.
    - `timeline`: ledger entries: index, time, actor, action, details
      (mapping), entry_hash.
    - `checkpoint`: origin, size, root, note (the signed note text).
    - `custody_json`: the machine-readable record attached as `custody.json`.
    - `signer`: optional description of the report signing key, as returned
      by `ReportSigner.describe()`, so the body names the key that signs it.
    """

    case: dict
    item: dict
    files: list[dict]
    timeline: list[dict]
    checkpoint: dict | None
    custody_json: bytes
    generated_at: datetime
    generated_by: str
    signer: dict | None = field(default=None)
