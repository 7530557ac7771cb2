"""Audit bundles: exported from the database, verified with no server and no database."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import rfc8785

from tests.custody.tamper_tools import fill
from vault.custody import verdict as kinds
from vault.custody.audit import export_ledger, verify_bundle
from vault.custody.ledger import Ledger
from vault.custody.note import NoteSigner
from vault.errors import Conflict


def rewrite_line(bundle: Path, index: int, change: Callable[[dict], None]) -> None:
    path = bundle / "entries.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[index])
    document = json.loads(base64.b64decode(record["entry"]))
    change(document)
    record["entry"] = base64.b64encode(rfc8785.dumps(document)).decode()
    lines[index] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")


def test_bundle_holds_entries_as_stored(ledger: Ledger, tmp_path: Path) -> None:
    fill(ledger, 12)
    bundle = tmp_path / "bundle"

    export_ledger(ledger, bundle)

    records = [json.loads(line) for line in (bundle / "entries.jsonl").read_text().splitlines()]
    assert [base64.b64decode(r["entry"]) for r in records] == [entry.raw for entry in ledger.entries()]
    assert sorted(p.name for p in (bundle / "checkpoints").iterdir())[:2] == ["1.note", "10.note"]
    assert (bundle / "key.vkey").read_text().strip() == ledger.verifier_key
    assert "entries.jsonl" in (bundle / "README.txt").read_text()


def test_bundle_verifies_offline(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 12)
    trusted = ledger.checkpoints()[4].note
    export_ledger(ledger, tmp_path / "bundle")
    ledger.stop_timer()

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key, trusted_checkpoint=trusted)

    assert verdict.ok, verdict.problems
    assert verdict.entry_count == 12
    assert verdict.consistent_with_trusted is True


def test_bundle_with_edited_entry_names_it(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 12)
    export_ledger(ledger, tmp_path / "bundle")
    rewrite_line(tmp_path / "bundle", 5, lambda document: document.update(actor="mallory"))

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key)

    assert verdict.first_problem is not None
    assert (verdict.first_problem.kind, verdict.first_problem.index) == (kinds.FIELD_CHANGED, 5)


def test_bundle_edited_newest_entry_is_rewrite(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    # No later entry links to the newest one, so only the checkpoint that covers it can catch the edit.
    fill(ledger, 12)
    export_ledger(ledger, tmp_path / "bundle")
    rewrite_line(tmp_path / "bundle", 11, lambda document: document.update(actor="mallory"))

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key)

    assert verdict.chain_intact
    assert not verdict.root_matches_checkpoint
    assert verdict.first_problem is not None
    assert (verdict.first_problem.kind, verdict.first_problem.index) == (kinds.REWRITE, 11)


def test_bundle_deeply_nested_entry_named(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 12)
    export_ledger(ledger, tmp_path / "bundle")
    path = tmp_path / "bundle" / "entries.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[5])
    raw = base64.b64decode(record["entry"])
    record["entry"] = base64.b64encode(raw.replace(b'"details":{', b'"details":{"deep":' + b"[" * 5000 + b"]" * 5000 + b",", 1)).decode()
    lines[5] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key)

    assert verdict.first_problem is not None
    assert (verdict.first_problem.kind, verdict.first_problem.index) == (kinds.FIELD_CHANGED, 5)
    assert "nested" in verdict.first_problem.message


def test_bundle_truncation_names_removed_entries(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 12)
    export_ledger(ledger, tmp_path / "bundle")
    path = tmp_path / "bundle" / "entries.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:9]))

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key)

    assert verdict.first_problem is not None
    assert (verdict.first_problem.kind, verdict.first_problem.index) == (kinds.TRUNCATION, 9)
    assert "checkpoint 12 is signed" in verdict.first_problem.message
    assert "entries 9..11 were removed" in verdict.first_problem.message


def test_bundle_shorter_than_trusted_checkpoint_is_rollback(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 12)
    trusted = ledger.checkpoint().note
    export_ledger(ledger, tmp_path / "bundle")
    path = tmp_path / "bundle" / "entries.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:8]))
    for size in range(9, 13):
        (tmp_path / "bundle" / "checkpoints" / f"{size}.note").unlink()

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key, trusted_checkpoint=trusted)

    assert verdict.chain_intact and verdict.root_matches_checkpoint
    assert verdict.consistent_with_trusted is False
    assert verdict.first_problem is not None
    assert (verdict.first_problem.kind, verdict.first_problem.index) == (kinds.ROLLBACK, 8)


def test_bundle_checked_with_other_key_fails(ledger: Ledger, tmp_path: Path) -> None:
    fill(ledger, 3)
    export_ledger(ledger, tmp_path / "bundle")
    other = NoteSigner.generate(ledger.origin)

    verdict = verify_bundle(tmp_path / "bundle", other.verifier_key)

    assert not verdict.checkpoint_signature_valid
    assert verdict.kinds[0] == kinds.FOREIGN_SIGNATURE


def test_export_into_non_empty_directory_rejected(ledger: Ledger, tmp_path: Path) -> None:
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "old.txt").write_text("x")

    with pytest.raises(Conflict, match="not empty"):
        export_ledger(ledger, tmp_path / "bundle")


def test_structural_scan_finds_same_tampering(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 40)
    export_ledger(ledger, tmp_path / "bundle")
    rewrite_line(tmp_path / "bundle", 30, lambda document: document.update(action="disposal"))

    thorough = verify_bundle(tmp_path / "bundle", signer.verifier_key)
    quick = verify_bundle(tmp_path / "bundle", signer.verifier_key, canonical_check=False)

    assert quick == thorough
    assert quick.first_problem is not None
    assert quick.first_problem.index == 30


def test_structural_scan_parses_odd_entry(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    fill(ledger, 5)
    export_ledger(ledger, tmp_path / "bundle")
    path = tmp_path / "bundle" / "entries.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    record["entry"] = base64.b64encode(b"not json at all").decode()
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key, canonical_check=False)

    assert verdict.first_problem is not None
    assert (verdict.first_problem.kind, verdict.first_problem.index) == (kinds.FIELD_CHANGED, 2)
