"""Tampering by a database administrator, each caught and named by verification.

Every test first drops the append-only triggers, as an attacker with DBA
rights would, then edits the ledger tables directly. Verification must name
the kind of tampering and the first entry that disagrees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import rfc8785
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.custody.tamper_tools import (
    all_raw,
    drop_append_only_triggers,
    drop_snapshot,
    fill,
    genesis_or,
    read_raw,
    rechain,
    replace_entry,
    rewrite_from,
    snapshot_database,
)
from vault.custody import verdict as kinds
from vault.custody.audit import export_ledger, verify_against_storage, verify_bundle
from vault.custody.checkpoint import checkpoint_body
from vault.custody.db import create_engine_for, migrate
from vault.custody.ledger import Ledger
from vault.custody.note import NoteSigner
from vault.errors import LedgerError


def tampered_ledger(make_ledger: Callable[..., Ledger], engine: Engine, count: int = 20) -> Ledger:
    ledger = make_ledger()
    fill(ledger, count)
    assert ledger.verify().ok
    drop_append_only_triggers(engine)
    return ledger


def test_untouched_ledger_verifies(make_ledger: Callable[..., Ledger]) -> None:
    ledger = make_ledger()
    fill(ledger, 20)

    verdict = ledger.verify()

    assert verdict.ok, verdict.problems
    assert verdict.entry_count == 20
    assert verdict.latest_checkpoint_size == 20


def test_changed_field_in_middle_entry_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    document = json.loads(read_raw(migrated_engine, 7))
    document["actor"] = "mallory"
    replace_entry(migrated_engine, 7, rfc8785.dumps(document))

    verdict = ledger.verify()

    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.FIELD_CHANGED
    assert verdict.first_problem.index == 7
    assert not verdict.chain_intact
    assert not verdict.root_matches_checkpoint
    assert verdict.entries_intact


def test_changed_newest_entry_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    # No later entry links to the newest one, so only the checkpoint that covers it can catch the edit.
    ledger = tampered_ledger(make_ledger, migrated_engine)
    document = json.loads(read_raw(migrated_engine, 19))
    document["actor"] = "mallory"
    replace_entry(migrated_engine, 19, rfc8785.dumps(document))

    verdict = ledger.verify()

    assert verdict.chain_intact
    assert not verdict.root_matches_checkpoint
    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.REWRITE
    assert verdict.first_problem.index == 19


def test_changed_column_only_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entries SET actor = 'mallory' WHERE \"index\" = 3"))

    verdict = ledger.verify()

    assert [(p.kind, p.index) for p in verdict.problems] == [(kinds.STORED_COLUMN_CHANGED, 3)]


def test_deleted_middle_entry_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(text('DELETE FROM ledger_entries WHERE "index" = 9'))

    verdict = ledger.verify()

    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.ENTRY_DELETED
    assert verdict.first_problem.index == 9
    assert not verdict.entries_intact
    assert not verdict.chain_intact


def test_truncated_last_five_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(text('DELETE FROM ledger_entries WHERE "index" >= 15'))

    verdict = ledger.verify()

    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.TRUNCATION
    assert verdict.first_problem.index == 15
    assert verdict.chain_intact
    assert not verdict.root_matches_checkpoint
    with pytest.raises(LedgerError, match="deleted or the database was restored"):
        ledger.append("analyst.alice", "access")


def test_swapped_entries_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(text('UPDATE ledger_entries SET "index" = 1000 WHERE "index" = 4'))
        connection.execute(text('UPDATE ledger_entries SET "index" = 4 WHERE "index" = 11'))
        connection.execute(text('UPDATE ledger_entries SET "index" = 11 WHERE "index" = 1000'))

    verdict = ledger.verify()

    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.REORDER
    assert verdict.first_problem.index == 4
    assert not verdict.entries_intact


def test_forged_insertion_with_recomputed_chain_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    raws = all_raw(migrated_engine)
    forged = dict(json.loads(raws[5]), actor="analyst.mallory", action="transfer", details={"to": "mallory"})
    documents = [forged] + [json.loads(raw) for raw in raws[6:]]
    rewrite_from(migrated_engine, 6, rechain(documents, 6, genesis_or(raws, 6)), time_column_from=5)

    verdict = ledger.verify()

    assert verdict.entries_intact
    assert verdict.chain_intact
    assert not verdict.root_matches_checkpoint
    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.FORGED_INSERTION
    assert verdict.first_problem.index == 6


def test_rewrite_with_recomputed_chain_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    raws = all_raw(migrated_engine)
    documents = [json.loads(raw) for raw in raws[12:]]
    documents[0]["details"] = {"n": 999}
    rewrite_from(migrated_engine, 12, rechain(documents, 12, genesis_or(raws, 12)), time_column_from=12)

    verdict = ledger.verify()

    assert verdict.chain_intact
    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.REWRITE
    assert verdict.first_problem.index == 12


def test_rolled_back_database_detected_against_storage(
    make_ledger: Callable[..., Ledger],
    migrated_engine: Engine,
    database_url: str,
    signer: NoteSigner,
    stored_notes: dict[int, bytes],
    tmp_path: Path,
) -> None:
    ledger = make_ledger()
    fill(ledger, 10)
    backup_url = snapshot_database(migrated_engine, database_url, tmp_path)
    fill(ledger, 10, start=10)
    restored_engine = create_engine_for(backup_url)
    try:
        # The operator restores last night's copy and restarts the vault on it.
        restored = make_ledger(restored_engine)

        alone = restored.verify()
        verdict = verify_against_storage(restored, stored_notes, signer.verifier_key)
    finally:
        restored_engine.dispose()
        drop_snapshot(backup_url)

    assert alone.ok, "the restored copy is self-consistent; only storage can tell"
    assert max(stored_notes) == 20
    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.ROLLBACK
    assert verdict.first_problem.index == 10
    assert not verdict.root_matches_checkpoint


def test_checkpoint_signed_by_other_key_detected(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    ledger = tampered_ledger(make_ledger, migrated_engine)
    impostor = NoteSigner.generate(ledger.origin)
    forged_note = impostor.sign(checkpoint_body(ledger.origin, 10, ledger.root(10)))
    with migrated_engine.begin() as connection:
        connection.execute(text("UPDATE checkpoints SET note = :note WHERE size = 10"), {"note": forged_note})

    verdict = ledger.verify()

    assert not verdict.checkpoint_signature_valid
    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.FOREIGN_SIGNATURE
    assert "checkpoint 10" in verdict.first_problem.message
    assert verdict.chain_intact


def test_checkpoint_inconsistent_with_trusted_detected(
    make_ledger: Callable[..., Ledger], signer: NoteSigner, tmp_path: Path
) -> None:
    ledger = make_ledger()
    fill(ledger, 15)
    # A forked copy of the log, signed with the same key, shown to the auditor earlier.
    fork_engine = create_engine_for(f"sqlite:///{tmp_path / 'fork.db'}")
    migrate(fork_engine)
    fork = Ledger(fork_engine, signer, checkpoint_interval=0.0)
    fill(fork, 5)
    fork.append("analyst.mallory", "disposal", item_id="item-1")
    fill(fork, 4, start=6)
    trusted = fork.checkpoint().note
    fork.stop_timer()
    fork_engine.dispose()
    export_ledger(ledger, tmp_path / "bundle")

    verdict = verify_bundle(tmp_path / "bundle", signer.verifier_key, trusted_checkpoint=trusted)

    assert verdict.entries_intact
    assert verdict.chain_intact
    assert verdict.root_matches_checkpoint
    assert verdict.consistent_with_trusted is False
    assert verdict.first_problem is not None
    assert verdict.first_problem.kind == kinds.INCONSISTENT_CHECKPOINT


def test_rewritten_ledger_not_signed(make_ledger: Callable[..., Ledger], migrated_engine: Engine, stored_notes: dict[int, bytes]) -> None:
    tampered_ledger(make_ledger, migrated_engine, count=8)
    raws = all_raw(migrated_engine)
    documents = [json.loads(raw) for raw in raws[3:]]
    documents[0]["actor"] = "mallory"
    rewrite_from(migrated_engine, 3, rechain(documents, 3, genesis_or(raws, 3)), time_column_from=3)
    fresh = make_ledger()  # a restarted service reads the rewritten rows
    fresh.append("analyst.alice", "access")

    with pytest.raises(LedgerError, match="refusing to sign"):
        fresh.checkpoint()
    assert max(stored_notes) == 8
