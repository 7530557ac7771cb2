"""Reading items: metadata, downloads, verification and range proofs.

Every read through these functions checks the caller against the item's case
(`vault.services.access.authorize`), then appends a custody entry first (a
view, a download, a verification), so the record shows each access even when
the transfer that follows fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import Case, Item, ItemFile
from vault.errors import InvalidInput, NotFound
from vault.hashing.engine import StreamHasher
from vault.hashing.ranges import build_range_proof
from vault.services.access import Permission, Principal, authorize

log = logging.getLogger(__name__)


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value.utcoffset() is not None else value.isoformat() + "Z"
    return str(value)


def case_to_dict(case: Case) -> dict:
    return {
        "id": case.id,
        "reference": case.reference,
        "title": case.title,
        "classification": case.classification,
        "jurisdiction": case.jurisdiction,
        "status": case.status,
        "created_at": _iso(case.created_at),
    }


def file_to_dict(record: ItemFile, bucket: str) -> dict:
    digests = [d for d in (record.sha256, record.md5, record.sha1) if d]
    return {
        "file_no": record.file_no,
        "name": record.original_name,
        "size": record.size,
        "digests": digests,
        "sha256": record.sha256,
        "merkle_root": record.merkle_root,
        "leaf_count": record.leaf_count,
        "bucket": bucket,
        "object_key": record.object_key,
        "version_id": record.version_id,
        "merkle_key": record.merkle_key,
        "merkle_version_id": record.merkle_version_id,
        "checksum_sha256": record.checksum_sha256,
    }


def item_to_dict(item: Item, case: Case, files: list[ItemFile], bucket: str) -> dict:
    physical = item.kind == "physical"
    return {
        "id": item.id,
        "case": case.reference,
        "case_id": case.id,
        "kind": item.kind,
        "status": item.status,
        "description": item.description,
        "set_kind": item.set_kind,
        "size": item.size,
        "empty": item.size == 0,
        "sha256": item.sha256,
        "md5": item.md5,
        "sha1": item.sha1,
        "merkle_root": item.merkle_root,
        "leaf_size": item.leaf_size,
        "media_hashes": item.media_hashes or [],
        "container_check": item.container_check,
        "declared_hashes": item.declared_hashes or {},
        "warnings": item.warnings or [],
        # A physical item has no object under S3 Object Lock, so its retain-until date only blocks disposal.
        "retention_mode": None if physical else "COMPLIANCE",
        "retain_until": _iso(item.retain_until),
        "legal_hold": bool(item.legal_hold),
        "created_at": _iso(item.created_at),
        "created_by": item.created_by,
        "files": [file_to_dict(f, bucket) for f in files],
        **({"physical_details": dict(item.physical_details or {})} if physical else {}),
    }


def _load(session: Session, item_id: str) -> tuple[Item, Case, list[ItemFile]]:
    item = session.get(Item, item_id)
    if item is None:
        raise item_not_found(item_id)
    case = session.get(Case, item.case_id)
    files = list(session.scalars(select(ItemFile).where(ItemFile.item_id == item_id).order_by(ItemFile.file_no)))
    return item, case, files


def get_item_record(vault, item_id: str) -> dict:
    """Return an item's metadata without recording a view, its evidence facts taken from the intake entry.

    The item and file rows are ordinary, editable database rows; the intake entry
    is hash-chained and checkpointed. Storage pointers (key, version id) and the
    digests every check compares against therefore come from the intake entry,
    and any row that disagrees is listed in `record_problems`.
    """
    with Session(vault.engine) as session:
        item, case, files = _load(session, item_id)
        record = item_to_dict(item, case, files, vault.store.settings.bucket)
    if record["kind"] == "physical":
        return _anchor_to_registration(vault, record)
    return _anchor_to_intake(vault, record)


# File fields that the intake entry fixes: (field in the record, field in the entry's file record).
_ANCHORED_FILE_FIELDS = (
    ("name", "name"), ("size", "size"), ("object_key", "object_key"), ("version_id", "version_id"),
    ("merkle_root", "merkle_root"), ("merkle_key", "merkle_key"), ("merkle_version_id", "merkle_version_id"),
)


def _anchor_to_intake(vault, record: dict) -> dict:
    problems: list[str] = []
    entries = vault.ledger.entries(item_id=record["id"])
    intake = next((e for e in entries if e.action == "intake"), None)
    if intake is None:
        record["intake_entry"] = None
        record["record_problems"] = [f"item {record['id']} has no intake entry in the ledger; its database rows cannot be trusted"]
        return record
    recorded = {f["file_no"]: f for f in intake.details.get("files", [])}
    if sorted(recorded) != [f["file_no"] for f in record["files"]]:
        problems.append(f"the database lists files {[f['file_no'] for f in record['files']]} but intake entry #{intake.index} "
                        f"recorded files {sorted(recorded)}")
    for file in record["files"]:
        entry_file = recorded.get(file["file_no"])
        if entry_file is None:
            continue
        entry_file = {**entry_file, "sha256": next((d for d in entry_file.get("digests", []) if d.startswith("sha256:")), None)}
        for field, source in _ANCHORED_FILE_FIELDS + (("sha256", "sha256"),):
            if source not in entry_file:
                continue  # recorded by an older intake format
            if file.get(field) != entry_file[source]:
                problems.append(f"file {file['file_no']}: database {field} {file.get(field)!r} differs from intake entry "
                                f"#{intake.index}, which recorded {entry_file[source]!r}")
                file[field] = entry_file[source]
        file["digests"] = entry_file.get("digests", file["digests"])
    recorded_sha256 = next((d for d in intake.details.get("digests", []) if d.startswith("sha256:")), None)
    if recorded_sha256 and record["sha256"] != recorded_sha256:
        problems.append(f"item sha256 in the database {record['sha256']} differs from intake entry #{intake.index} ({recorded_sha256})")
        record["sha256"] = recorded_sha256
    problems += _anchor_custody_state(record, entries, intake, intake.details.get("status"))
    record["intake_entry"] = intake.index
    record["record_problems"] = problems
    return record


def _anchor_custody_state(record: dict, entries: list, origin, status: str | None) -> list[str]:
    """Replace retain-until, legal hold and status with the values the ledger recorded, and list each database value that differs.

    `origin` is the entry that created the item (intake or physical.registered)
    and `status` the status it recorded. Later `retention.extended`,
    `hold.placed`, `hold.released` and `item.disposed` entries change them.
    """
    problems = []
    state = {"retain_until": (origin.details.get("retain_until"), origin), "legal_hold": (False, origin), "status": (status, origin)}
    for entry in entries:
        if entry.index <= origin.index:
            continue
        if entry.action == "retention.extended":
            state["retain_until"] = (entry.details.get("to"), entry)
        elif entry.action in ("hold.placed", "hold.released"):
            state["legal_hold"] = (entry.action == "hold.placed", entry)
        elif entry.action == "item.disposed":
            state["status"] = ("disposed", entry)

    for field, (recorded, source) in state.items():
        if recorded is None:
            continue  # written by an older entry format that did not record it
        stored = record.get(field)
        same = _same_moment(stored, recorded) if field == "retain_until" else stored == recorded
        if not same:
            problems.append(f"database {field} {stored!r} differs from {source.action} entry #{source.index}, "
                            f"which recorded {recorded!r}")
            record[field] = recorded
    return problems


def _same_moment(first: str | None, second: str | None) -> bool:
    """Compare two RFC 3339 times that may be written with different precision."""
    if first is None or second is None:
        return first == second
    try:
        return datetime.fromisoformat(first) == datetime.fromisoformat(second)
    except ValueError:  # not a time at all, so it differs and is listed
        return False


def _anchor_to_registration(vault, record: dict) -> dict:
    """Replace a physical item's description, location and seal with what the ledger recorded.

    A physical item has no intake entry: `physical.registered` creates it, and
    each `physical.moved` entry changes its location and seal. The ledger's
    values win, and every database value that disagrees is listed in `record_problems`.
    """
    problems: list[str] = []
    entries = vault.ledger.entries(item_id=record["id"])
    registration = next((e for e in entries if e.action == "physical.registered"), None)
    record["intake_entry"] = None
    if registration is None:
        record["registration_entry"] = None
        record["moves"] = 0
        record["record_problems"] = [
            f"physical item {record['id']} has no physical.registered entry in the ledger; its database rows cannot be trusted"
        ]
        return record

    # Fold the registration and every later move into the state the ledger vouches for.
    recorded = registration.details
    state = {"identifiers": recorded.get("identifiers") or {}, "location": recorded.get("location"), "seal": recorded.get("seal")}
    moves = [e for e in entries if e.action == "physical.moved" and e.index > registration.index]
    for move in moves:
        if move.details.get("from") != state["location"]:
            problems.append(f"physical.moved entry #{move.index} moved the item from {move.details.get('from')!r}, "
                            f"but the ledger last recorded it at {state['location']!r}")
        # `move_physical` copies the seal from the database row, so an edited row shows up here first.
        if move.details.get("seal_before") != state["seal"]:
            problems.append(f"physical.moved entry #{move.index} found seal {move.details.get('seal_before')!r}, "
                            f"but the ledger last recorded seal {state['seal']!r}")
        state["location"] = move.details.get("to")
        state["seal"] = move.details.get("seal_after")

    stored = record.get("physical_details") or {}
    last_place = moves[-1] if moves else registration
    for field in ("location", "seal", "identifiers"):
        if stored.get(field) != state[field]:
            source = registration if field == "identifiers" else last_place
            problems.append(f"database {field} {stored.get(field)!r} differs from {source.action} entry #{source.index}, "
                            f"which recorded {state[field]!r}")
    if record["description"] != recorded.get("description"):
        problems.append(f"database description {record['description']!r} differs from physical.registered entry "
                        f"#{registration.index}, which recorded {recorded.get('description')!r}")
        record["description"] = recorded.get("description")
    record["physical_details"] = {**stored, **state}
    problems += _anchor_custody_state(record, entries, registration, "accepted")
    record["registration_entry"] = registration.index
    record["moves"] = len(moves)
    record["record_problems"] = problems
    return record


def item_not_found(item_id: str) -> NotFound:
    """Return the error for a missing item, also raised for an item the caller may not see."""
    return NotFound(f"item {item_id!r} not found; list a case's items with: evidence-vault case show CASE")


def visible_item(vault, principal: Principal, item_id: str, permission: Permission) -> dict:
    """Return an item's metadata after checking that the caller may use `permission` on it.

    Raises PermissionDenied when the role lacks the permission, and the same
    NotFound as for a missing item when the caller may not see the item.
    """
    authorize(vault, principal, permission, object_id=item_id)
    record = get_item_record(vault, item_id)
    authorize(vault, principal, permission, case_id=record["case_id"], item_id=item_id, hidden_as=item_not_found(item_id))
    return record


def show_item(vault, item_id: str, principal: Principal) -> dict:
    record = visible_item(vault, principal, item_id, Permission.ITEM_READ)
    vault.ledger.append(principal.name, "item.viewed", case_id=record["case_id"], item_id=item_id, details={})
    return record


def _file(record: dict, file_no: int) -> dict:
    for entry in record["files"]:
        if entry["file_no"] == file_no:
            return entry
    if record.get("kind") == "physical":
        raise NotFound(f"item {record['id']} is a physical item and has no stored files; "
                       f"see its location and seal with: evidence-vault show {record['id']}")
    raise NotFound(f"item {record['id']} has no file number {file_no}; it has files 0..{len(record['files']) - 1}")


@dataclass(frozen=True)
class Download:
    file: dict
    offset: int
    length: int
    chunks: Iterator[bytes]


def open_download(vault, item_id: str, file_no: int, principal: Principal, offset: int = 0,
                  length: int | None = None) -> Download:
    """Record the download, then return a stream of the stored bytes (optionally a byte range)."""
    record = visible_item(vault, principal, item_id, Permission.ITEM_CONTENT)
    entry = _file(record, file_no)
    size = entry["size"]
    if offset < 0 or offset > size:
        raise InvalidInput(f"offset {offset} is outside file {file_no} of item {item_id} ({size} bytes)")
    if length is None:
        length = size - offset
    if length < 0 or offset + length > size:
        raise InvalidInput(f"range {offset}+{length} goes beyond the end of file {file_no} ({size} bytes)")
    details = {"file_no": file_no, "name": entry["name"], "offset": offset, "length": length, "version_id": entry["version_id"]}
    vault.ledger.append(principal.name, "item.downloaded", case_id=record["case_id"], item_id=item_id, details=details)
    chunks = iter(()) if length == 0 else vault.store.read(entry["object_key"], entry["version_id"], offset=offset, length=length)
    return Download(entry, offset, length, chunks)


@dataclass(frozen=True)
class FileVerdict:
    file_no: int
    name: str
    bytes_intact: bool
    merkle_intact: bool
    leaves_intact: bool
    expected_sha256: str
    computed_sha256: str
    expected_merkle_root: str
    computed_merkle_root: str
    retention_mode: str | None
    retain_until: str | None


@dataclass(frozen=True)
class ItemVerdict:
    """The result of `verify_item`, with one verdict per kind of check.

    `bytes_intact` is None for a physical item, which has no stored bytes.
    `records_intact` is False when the database rows disagree with the ledger.
    """

    item_id: str
    files: tuple[FileVerdict, ...]
    bytes_intact: bool | None
    chain_intact: bool
    ledger: dict
    problems: tuple[str, ...]
    kind: str = "digital"
    records_intact: bool = True
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.bytes_intact is not False and self.records_intact and self.chain_intact

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def verify_item(vault, item_id: str, principal: Principal) -> ItemVerdict:
    """Re-read every stored byte of an item and check it and the ledger.

    Steps:
    1. For each file, stream the stored version and recompute SHA-256 and the Merkle root.
    2. Compare with the values recorded at intake, and the stored leaf hashes with the recomputed ones.
    3. Check the stored version is still under COMPLIANCE retention.
    4. Verify the whole ledger: entry bytes, chain links, Merkle root against the signed checkpoint.
    5. Record the verification and its result as a custody entry.
    """
    record = visible_item(vault, principal, item_id, Permission.ITEM_VERIFY)
    if record["kind"] == "physical":
        return _verify_physical(vault, record, principal)
    problems: list[str] = []
    verdicts = []
    for entry in record["files"]:
        # 1. Recompute from storage.
        hasher = StreamHasher()
        for chunk in vault.store.read(entry["object_key"], entry["version_id"]):
            hasher.update(chunk)
        result = hasher.finish()

        # 2. Compare with intake.
        bytes_intact = str(result.sha256) == entry["sha256"] and result.size == entry["size"]
        merkle_intact = str(result.merkle_root) == entry["merkle_root"]
        stored_leaves = vault.store.read_all(entry["merkle_key"], entry["merkle_version_id"])
        leaves_intact = stored_leaves == result.leaf_hashes
        if not bytes_intact:
            problems.append(
                f"file {entry['file_no']} ({entry['name']}) key {entry['object_key']} version {entry['version_id']}: "
                f"expected {entry['sha256']}, computed {result.sha256}"
            )
        if not merkle_intact:
            problems.append(f"file {entry['file_no']}: Merkle root expected {entry['merkle_root']}, computed {result.merkle_root}")
        if not leaves_intact:
            problems.append(f"file {entry['file_no']}: stored leaf hashes {entry['merkle_key']} differ from the recomputed ones")

        # 3. Retention still in force.
        head = vault.store.head(entry["object_key"], entry["version_id"])
        if head.retention_mode != "COMPLIANCE":
            problems.append(f"file {entry['file_no']}: retention mode is {head.retention_mode!r}, expected 'COMPLIANCE'")
        verdicts.append(
            FileVerdict(
                entry["file_no"], entry["name"], bytes_intact, merkle_intact, leaves_intact,
                entry["sha256"], str(result.sha256), entry["merkle_root"], str(result.merkle_root),
                head.retention_mode, _iso(head.retain_until),
            )
        )

    # 4. The ledger.
    ledger, chain_intact = _verify_ledger(vault, problems)

    problems.extend(record["record_problems"])
    bytes_intact = not record["record_problems"] and all(v.bytes_intact and v.merkle_intact and v.leaves_intact for v in verdicts)
    verdict = ItemVerdict(item_id, tuple(verdicts), bytes_intact, chain_intact, ledger, tuple(problems),
                          records_intact=not record["record_problems"])

    # 5. Record it.
    vault.ledger.append(
        principal.name,
        "item.verified",
        case_id=record["case_id"],
        item_id=item_id,
        details={"bytes_intact": bytes_intact, "chain_intact": chain_intact, "problems": list(problems),
                 "files": [{"file_no": v.file_no, "sha256": v.computed_sha256, "merkle_root": v.computed_merkle_root} for v in verdicts]},
    )
    log.info("item.verified item=%s bytes_intact=%s chain_intact=%s", item_id, bytes_intact, chain_intact)
    return verdict


def _verify_ledger(vault, problems: list[str]) -> tuple[dict, bool]:
    """Verify the whole ledger: entry bytes, chain links, Merkle root against the signed checkpoint."""
    ledger_verdict = vault.ledger.verify()
    ledger = ledger_verdict.to_dict() if hasattr(ledger_verdict, "to_dict") else asdict(ledger_verdict)
    chain_intact = bool(ledger_verdict.ok)
    if not chain_intact:
        problems.extend(ledger.get("problems", []) or ["ledger verification failed"])
    return ledger, chain_intact


def _verify_physical(vault, record: dict, principal: Principal) -> ItemVerdict:
    """Check what the vault stores of a physical item: its ledger record, not any bytes.

    Steps:
    1. The `physical.registered` entry exists, the `physical.moved` entries after
       it form one chain of locations, and the database agrees with them
       (`_anchor_to_registration` found any disagreement).
    2. Verify the whole ledger.
    3. Record the verification and its result as a custody entry.
    """
    # 1. The registration and the moves.
    problems = list(record["record_problems"])
    records_intact = not record["record_problems"]
    details = record.get("physical_details") or {}
    if record.get("registration_entry") is None:
        checked = "it has no physical.registered entry to check"
    else:
        checked = (f"checked its physical.registered entry #{record['registration_entry']}, "
                   f"{record['moves']} physical.moved entr{'y' if record['moves'] == 1 else 'ies'} and the ledger chain")
    notes = (f"physical item: there are no stored bytes to re-hash; {checked}",)

    # 2. The ledger.
    ledger, chain_intact = _verify_ledger(vault, problems)
    verdict = ItemVerdict(record["id"], (), None, chain_intact, ledger, tuple(problems), kind="physical",
                          records_intact=records_intact, notes=notes)

    # 3. Record it.
    vault.ledger.append(
        principal.name,
        "item.verified",
        case_id=record["case_id"],
        item_id=record["id"],
        details={"kind": "physical", "records_intact": records_intact, "chain_intact": chain_intact,
                 "problems": list(problems), "registration_entry": record.get("registration_entry"),
                 "location": details.get("location"), "seal": details.get("seal")},
    )
    log.info("item.verified item=%s kind=physical records_intact=%s chain_intact=%s", record["id"], records_intact, chain_intact)
    return verdict


def range_proof(vault, item_id: str, file_no: int, offset: int, length: int, principal: Principal) -> dict:
    record = visible_item(vault, principal, item_id, Permission.ITEM_READ)
    entry = _file(record, file_no)
    leaves = vault.store.read_all(entry["merkle_key"], entry["merkle_version_id"])
    proof = build_range_proof(leaves, entry["size"], offset, length, record["leaf_size"] or 1 << 20)
    vault.ledger.append(
        principal.name, "item.range_proof", case_id=record["case_id"], item_id=item_id,
        details={"file_no": file_no, "offset": offset, "length": length},
    )
    return {"item_id": item_id, "file_no": file_no, "merkle_root": entry["merkle_root"], "proof": proof.to_json()}
