"""Audit bundles: export the ledger for an auditor and verify it offline.

A bundle is a directory that needs no server and no database to check:

    README.txt            what each file is and how to verify it
    entries.jsonl         one line per entry: {"index": N, "entry": base64 of the stored bytes}
    checkpoints/<N>.note  each signed checkpoint, byte for byte, named by tree size
    key.vkey              the log's signed-note verifier key (informational; verify with a key you trust)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from vault.custody import verdict as kinds
from vault.custody._verify import verify_log
from vault.custody.checkpoint import read_checkpoint_unverified
from vault.custody.ledger import Ledger
from vault.custody.verdict import AuditVerdict, Problem
from vault.errors import Conflict, InvalidInput, NotFound, ProofError

ENTRIES_FILE = "entries.jsonl"
CHECKPOINTS_DIR = "checkpoints"
KEY_FILE = "key.vkey"
README_FILE = "README.txt"

README_TEXT = """Evidence Vault custody ledger: audit bundle
=============================================

entries.jsonl
    One JSON object per line, in index order: {"index": N, "entry": "<base64>"}.
    The base64 decodes to the exact bytes the vault hashed: an RFC 8785 (JCS)
    JSON object with version, index, time (RFC 3339 UTC), actor, action, case,
    item, details and prev (the sha256 of the previous entry's bytes; 64 zeros
    for entry 0).

checkpoints/<N>.note
    Signed checkpoints of the log at tree size N, exactly as signed: a C2SP
    tlog-checkpoint body (origin, size, base64 RFC 6962 Merkle root) inside a
    C2SP signed note with an Ed25519 signature.
    Leaf hash = SHA-256(0x00 || entry bytes); node hash = SHA-256(0x01 || left || right).

key.vkey
    The log's verifier key as exported. Do not trust it because it is here:
    compare it with the key you received from the vault operator out of band.

To verify:
    evidence-vault audit verify BUNDLE --key KEY [--trusted-checkpoint FILE]

Verification recomputes every entry hash, every chain link and the Merkle
root at each checkpoint, checks each checkpoint signature, and, given the
checkpoint you saved at your last audit, checks that the log only grew since.
Keep the newest checkpoint from this bundle for your next audit.
"""


def export_bundle(entries_raw: Iterable[bytes], checkpoint_notes: Iterable[bytes], verifier_key: str, dest: Path) -> None:
    """Write an audit bundle to `dest`, which must not exist or be empty.

    `entries_raw` must be the stored entry bytes in index order. Raises
    Conflict when `dest` already contains files.
    """
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(f"bundle directory {dest} is not empty; choose a new directory")
    (dest / CHECKPOINTS_DIR).mkdir(parents=True, exist_ok=True)

    with (dest / ENTRIES_FILE).open("w", encoding="ascii", newline="\n") as handle:
        for index, raw in enumerate(entries_raw):
            handle.write(json.dumps({"index": index, "entry": base64.b64encode(raw).decode("ascii")}) + "\n")

    for note in checkpoint_notes:
        size = read_checkpoint_unverified(note).size
        (dest / CHECKPOINTS_DIR / f"{size}.note").write_bytes(note)

    (dest / KEY_FILE).write_text(verifier_key.strip() + "\n", encoding="ascii")
    (dest / README_FILE).write_text(README_TEXT, encoding="utf-8")


def export_ledger(ledger: Ledger, dest: Path) -> None:
    """Write the whole ledger and its checkpoints as an audit bundle."""
    export_bundle(
        (entry.raw for entry in ledger.entries()),
        (checkpoint.note for checkpoint in ledger.checkpoints()),
        ledger.verifier_key,
        dest,
    )


def read_bundle(bundle: Path) -> tuple[list[tuple[int, bytes]], list[bytes], str | None]:
    """Read (entries, checkpoint notes, exported key) from a bundle directory.

    Raises NotFound when the entries file is missing and InvalidInput when a
    line is malformed.
    """
    entries_path = bundle / ENTRIES_FILE
    if not entries_path.is_file():
        raise NotFound(f"{entries_path} not found; is {bundle} an audit bundle?")
    entries: list[tuple[int, bytes]] = []
    with entries_path.open("r", encoding="ascii") as handle:
        for line_no, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
                entries.append((int(record["index"]), base64.b64decode(record["entry"], validate=True)))
            except (ValueError, KeyError, TypeError, binascii.Error) as error:
                raise InvalidInput(f"{entries_path} line {line_no} is malformed: {error}") from error

    notes: list[bytes] = []
    checkpoint_dir = bundle / CHECKPOINTS_DIR
    if checkpoint_dir.is_dir():
        notes = [path.read_bytes() for path in sorted(checkpoint_dir.glob("*.note"))]

    key_path = bundle / KEY_FILE
    exported_key = key_path.read_text(encoding="ascii").strip() if key_path.is_file() else None
    return entries, notes, exported_key


def verify_bundle(
    bundle: Path,
    verifier_key: str,
    trusted_checkpoint: bytes | None = None,
    storage_notes: Iterable[bytes] = (),
    canonical_check: bool = True,
) -> AuditVerdict:
    """Verify an audit bundle offline against the log key the auditor trusts.

    See `vault.custody._verify.verify_log` for the steps. `storage_notes` are
    checkpoints read from WORM storage rather than from the bundle; one beyond
    the bundle's entries is reported as a rollback. A `key.vkey` in the bundle
    that differs from `verifier_key` is reported as a foreign key.
    `canonical_check=False` trades the per-entry RFC 8785 form check for speed.
    """
    entries, notes, exported_key = read_bundle(bundle)
    verdict = verify_log(
        entries,
        notes,
        verifier_key,
        trusted_checkpoint=trusted_checkpoint,
        storage_notes=list(storage_notes),
        canonical_check=canonical_check,
    )
    if exported_key is not None and exported_key != verifier_key.strip():
        extra = Problem(kinds.FOREIGN_SIGNATURE, None, f"the bundle's key.vkey is {exported_key}, not the key you trust ({verifier_key.strip()})")
        return _with_problem(verdict, extra)
    return verdict


def verify_against_storage(ledger: Ledger, stored_checkpoints: Mapping[int, bytes], verifier_key: str) -> AuditVerdict:
    """Verify the live database against the checkpoints WORM storage holds.

    `stored_checkpoints` maps the tree size in each object key
    (`checkpoints/<size>`) to the note stored there. A stored checkpoint
    beyond the database's entries means the database was rolled back.
    """
    if verifier_key.strip() != ledger.verifier_key:
        raise InvalidInput(f"verifier key {verifier_key.strip()} is not the ledger's key {ledger.verifier_key}")
    mislabelled: list[Problem] = []
    for size, note in sorted(stored_checkpoints.items()):
        try:
            inner = read_checkpoint_unverified(note).size
        except ProofError:
            continue  # reported by the signature step
        if inner != size:
            mislabelled.append(Problem(kinds.MALFORMED, None, f"storage object checkpoints/{size} holds checkpoint {inner}"))

    verdict = ledger.verify(storage_notes=[stored_checkpoints[size] for size in sorted(stored_checkpoints)])
    for problem in mislabelled:
        verdict = _with_problem(verdict, problem)
    return verdict


def _with_problem(verdict: AuditVerdict, problem: Problem) -> AuditVerdict:
    signature_valid = verdict.checkpoint_signature_valid and problem.kind != kinds.FOREIGN_SIGNATURE
    return replace(verdict, checkpoint_signature_valid=signature_valid, problems=verdict.problems + (problem,))
