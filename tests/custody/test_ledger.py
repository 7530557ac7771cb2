"""The ledger on SQLite and PostgreSQL: one chain under concurrency, proofs, checkpoints, atomicity."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from tests.custody.tamper_tools import fill
from vault.custody.checkpoint import open_checkpoint
from vault.custody.db import create_engine_for
from vault.custody.entry import GENESIS_HASH, entry_hash
from vault.custody.ledger import Ledger
from vault.custody.models import Case, LedgerEntryRow
from vault.custody.note import NoteSigner
from vault.custody.proof import parse_receipt, verify_receipt
from vault.errors import InvalidInput, LedgerError
from vault.hashing.merkle import hash_leaf, verify_consistency, verify_inclusion


def assert_one_chain(ledger: Ledger, expected: int) -> None:
    entries = ledger.entries()
    assert [entry.index for entry in entries] == list(range(expected))
    prev = GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == prev, f"chain broken at entry {entry.index}"
        prev = entry.entry_hash


def test_first_entry_links_to_genesis(ledger: Ledger) -> None:
    entry = ledger.append("analyst.alice", "case.create", case_id="case-1", details={"reference": "IR-1"})

    assert entry.index == 0
    assert entry.prev_hash == GENESIS_HASH
    assert entry.entry_hash == entry_hash(entry.raw)
    assert ledger.entries() == [entry]


def test_sixteen_threads_leave_one_chain(ledger: Ledger) -> None:
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for round_no in range(25):
                ledger.append(f"writer.{number}", "access", details={"round": round_no})
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert_one_chain(ledger, 400)
    assert ledger.verify().ok


def test_two_ledger_instances_share_one_chain(make_ledger: Callable[..., Ledger], database_url: str) -> None:
    # Two engines stand for two server processes: only the database lock orders them.
    first = make_ledger()
    second_engine = create_engine_for(database_url)
    second = make_ledger(second_engine)
    errors: list[BaseException] = []

    def writer(ledger: Ledger, name: str) -> None:
        try:
            for round_no in range(60):
                ledger.append(name, "access", details={"round": round_no})
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(ledger, f"{tag}.{n}")) for n in range(4) for tag, ledger in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second_engine.dispose()

    assert errors == []
    assert_one_chain(first, 480)
    assert first.verify().ok
    assert first.inclusion_proof(479) == second.inclusion_proof(479)


def test_32_writers_500_appends_all_proofs_verify(make_ledger: Callable[..., Ledger]) -> None:
    ledger = make_ledger(checkpoint_interval=2.0)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for round_no in range(500):
                ledger.append(f"writer.{number}", "access", item_id=f"item-{number}", details={"round": round_no})
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checkpoint = ledger.checkpoint()
    entries = ledger.entries()

    assert errors == []
    assert checkpoint.size == 16_000
    assert_one_chain(ledger, 16_000)
    for number in range(32):
        rounds = [entry.details["round"] for entry in entries if entry.actor == f"writer.{number}"]
        assert rounds == list(range(500)), f"writer {number} lost or reordered appends"
    for entry in entries:
        proof = ledger.inclusion_proof(entry.index, checkpoint.size)
        verify_inclusion(hash_leaf(entry.raw), entry.index, checkpoint.size, proof, checkpoint.root)
    for checkpoint_before in ledger.checkpoints():
        proof = ledger.consistency_proof(checkpoint_before.size, checkpoint.size)
        verify_consistency(checkpoint_before.size, checkpoint.size, checkpoint_before.root, checkpoint.root, proof)
    assert ledger.verify().ok


def test_proofs_at_every_tree_size(ledger: Ledger) -> None:
    fill(ledger, 37)
    entries = ledger.entries()
    roots = {size: ledger.root(size) for size in range(38)}

    for size in range(1, 38):
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            verify_inclusion(hash_leaf(entries[index].raw), index, size, proof, roots[size])
        for old_size in range(1, size + 1):
            verify_consistency(old_size, size, roots[old_size], roots[size], ledger.consistency_proof(old_size, size))


def test_proof_for_size_beyond_log_rejected(ledger: Ledger) -> None:
    fill(ledger, 3)

    with pytest.raises(InvalidInput):
        ledger.inclusion_proof(0, 4)


def test_receipt_is_tlog_proof_that_verifies(ledger: Ledger, signer: NoteSigner) -> None:
    fill(ledger, 9)

    receipt = ledger.proof_receipt(4)
    parsed, checkpoint = verify_receipt(receipt, signer.verifier_key)

    assert receipt.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert "\nindex 4\n" in receipt
    assert parsed.extra == ledger.entries()[4].raw
    assert checkpoint.size == 9
    assert receipt.endswith(checkpoint.note.decode())


def test_receipt_with_other_entry_rejected(ledger: Ledger, signer: NoteSigner) -> None:
    fill(ledger, 5)
    receipt = ledger.proof_receipt(2)
    other = ledger.entries()[3].raw

    with pytest.raises(Exception, match="differ"):
        verify_receipt(receipt, signer.verifier_key, entry=other)
    assert parse_receipt(receipt).index == 2


def test_checkpoints_reach_sink(ledger: Ledger, stored_notes: dict[int, bytes], signer: NoteSigner) -> None:
    fill(ledger, 6)

    checkpoints = ledger.checkpoints()

    assert [checkpoint.size for checkpoint in checkpoints] == [1, 2, 3, 4, 5, 6]
    assert sorted(stored_notes) == [1, 2, 3, 4, 5, 6]
    for size, note in stored_notes.items():
        assert open_checkpoint(note, signer.verifier_key).size == size
    assert ledger.checkpoint().size == 6
    assert len(ledger.checkpoints()) == 6


def test_checkpoint_timer_signs_later(make_ledger: Callable[..., Ledger], stored_notes: dict[int, bytes]) -> None:
    ledger = make_ledger(checkpoint_interval=0.2)
    ledger.append("a", "access")  # the first batch signs at once
    ledger.append("a", "access")  # this one waits for the timer
    waited = threading.Event()

    for _ in range(50):
        if 2 in stored_notes:
            break
        waited.wait(0.1)

    assert sorted(stored_notes) == [1, 2]


def test_transaction_commits_rows_with_entries(ledger: Ledger, migrated_engine: Engine) -> None:
    case_id = str(uuid.uuid4())

    with ledger.transaction() as txn:
        txn.session.add(Case(id=case_id, reference="IR-2026-001", title="Breach", classification="data breach", status="open"))
        entry = txn.append("analyst.alice", "case.create", case_id=case_id, details={"reference": "IR-2026-001"})

    with migrated_engine.connect() as connection:
        reference = connection.execute(select(Case.reference).where(Case.id == case_id)).scalar_one()
    assert reference == "IR-2026-001"
    assert ledger.entries(case_id=case_id) == [entry]


def test_transaction_failure_writes_nothing(ledger: Ledger, migrated_engine: Engine) -> None:
    fill(ledger, 2)

    with pytest.raises(RuntimeError, match="storage write failed"):
        with ledger.transaction() as txn:
            txn.session.add(Case(id="c-1", reference="IR-9", title="t", classification="x", status="open"))
            txn.append("analyst.alice", "item.intake")
            raise RuntimeError("storage write failed")

    with migrated_engine.connect() as connection:
        assert connection.execute(select(Case.id)).all() == []
    assert ledger.size() == 2
    assert ledger.append("analyst.alice", "access").index == 2
    assert ledger.verify().ok


def test_failed_append_raises_and_keeps_committed(ledger: Ledger, migrated_engine: Engine) -> None:
    fill(ledger, 3)
    with migrated_engine.begin() as connection:
        # A trigger that fails one insert simulates a disk or network failure.
        if migrated_engine.dialect.name == "postgresql":
            connection.execute(text(
                "CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'simulated write failure'; END; $$"
            ))
            connection.execute(text(
                "CREATE TRIGGER fail_insert BEFORE INSERT ON ledger_entries FOR EACH ROW "
                "WHEN (NEW.actor = 'doomed') EXECUTE FUNCTION fail_insert()"
            ))
        else:
            connection.execute(text(
                "CREATE TRIGGER fail_insert BEFORE INSERT ON ledger_entries WHEN NEW.actor = 'doomed' "
                "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"
            ))

    with pytest.raises(LedgerError, match="simulated write failure"):
        ledger.append("doomed", "access")

    assert ledger.size() == 3
    assert ledger.append("analyst.bob", "access").index == 3
    assert_one_chain(ledger, 4)
    assert ledger.verify().ok


def test_float_details_rejected_before_writing(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="float"):
        ledger.append("analyst.alice", "access", details={"ratio": 0.25})

    assert ledger.size() == 0


def test_time_round_trips_without_changing_hash(make_ledger: Callable[..., Ledger], migrated_engine: Engine) -> None:
    offset = timezone(timedelta(hours=-9, minutes=-30))
    local = datetime(2026, 3, 29, 1, 59, 59, 999_999, tzinfo=offset)
    ledger = make_ledger(clock=lambda: local)

    written = ledger.append("analyst.alice", "access")
    read = ledger.entries()[0]
    with migrated_engine.connect() as connection:
        stored_time = connection.execute(select(LedgerEntryRow.time)).scalar_one()

    assert written.time == "2026-03-29T11:29:59.999999Z"
    assert read == written
    assert read.entry_hash == "sha256:" + hashlib.sha256(read.raw).hexdigest()
    assert stored_time == datetime(2026, 3, 29, 11, 29, 59, 999_999, tzinfo=timezone.utc)
    assert stored_time.utcoffset() == timedelta(0)


@pytest.mark.parametrize("table", ["ledger_entries", "checkpoints"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET created_at = created_at", "DELETE FROM {table}"])
def test_triggers_reject_update_and_delete(ledger: Ledger, migrated_engine: Engine, table: str, statement: str) -> None:
    fill(ledger, 2)
    if table == "ledger_entries":
        statement = statement.replace("created_at = created_at", "actor = 'mallory'")

    with pytest.raises(Exception, match=f"{table} is append-only"):
        with migrated_engine.begin() as connection:
            connection.execute(text(statement.format(table=table)))

    assert ledger.verify().ok
    assert ledger.size() == 2
