"""The custody ledger: a hash chain and an RFC 6962 Merkle log over stored entry bytes.

Guarantees:
- Appends are serialized by one sequencer (an in-process lock plus the
  database lock of `db.sequenced_connection`), so concurrent writers in any
  number of threads or processes never fork the chain.
- Entries queued while another thread holds the lock are written by the lock
  holder in one transaction (group commit).
- A failed append raises LedgerError and leaves every committed entry as it was.
- A checkpoint is signed at most `checkpoint_interval` seconds after an append
  batch, and only after checking that it is consistent with the previous one.
"""

from __future__ import annotations

import json
import logging
import threading
import time as _time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vault.custody.checkpoint import SignedCheckpoint, checkpoint_body, open_checkpoint
from vault.custody.db import sequenced_connection
from vault.custody.entry import GENESIS_HASH, canonical_entry, check_entry_fields, entry_hash, format_time, parse_entry
from vault.custody.models import CheckpointRow, LedgerEntryRow, utc_now
from vault.custody.note import NoteSigner
from vault.custody.proof import format_receipt
from vault.errors import LedgerError, NotFound, ProofError, VaultError
from vault.hashing.merkle import EMPTY_ROOT, MerkleTree, hash_leaf, verify_consistency

if TYPE_CHECKING:
    from vault.custody.verdict import AuditVerdict

logger = logging.getLogger(__name__)

# Default seconds between signed checkpoints while appends keep arriving.
CHECKPOINT_INTERVAL_S = 2.0

_ENTRIES = LedgerEntryRow.__table__
_CHECKPOINTS = CheckpointRow.__table__


@dataclass(frozen=True)
class LedgerEntry:
    """One custody entry as read back from its stored bytes."""

    index: int
    time: str
    actor: str
    action: str
    case_id: str | None
    item_id: str | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str
    raw: bytes

    @classmethod
    def from_raw(cls, raw: bytes) -> "LedgerEntry":
        """Parse stored entry bytes. Raises InvalidInput when they are not a canonical entry."""
        document = parse_entry(raw)
        return cls(
            index=document["index"],
            time=document["time"],
            actor=document["actor"],
            action=document["action"],
            case_id=document["case"],
            item_id=document["item"],
            details=document["details"],
            prev_hash=document["prev"],
            entry_hash=entry_hash(raw),
            raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "case_id": self.case_id,
            "item_id": self.item_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


@dataclass
class _QueuedAppend:
    actor: str
    action: str
    case_id: str | None
    item_id: str | None
    details: dict[str, Any]
    result: LedgerEntry | None = None
    error: VaultError | None = None
    done: bool = False


@dataclass
class _Pending:
    """Entries written in the current transaction, not yet committed."""

    first_index: int
    prev_hash: str
    leaves: list[bytes] = field(default_factory=list)

    @property
    def next_index(self) -> int:
        return self.first_index + len(self.leaves)


class LedgerTransaction:
    """A database transaction that holds the sequencer lock.

    `session` is a SQLAlchemy Session inside that transaction; rows added to
    it commit together with the entries appended here, or not at all. Do not
    call `session.commit()`: the transaction commits when the `with` block ends.
    """

    def __init__(self, ledger: "Ledger", session: Session, pending: _Pending) -> None:
        self.session = session
        self._ledger = ledger
        self._pending = pending

    def append(
        self,
        actor: str,
        action: str,
        *,
        case_id: str | None = None,
        item_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> LedgerEntry:
        """Append one entry in this transaction. Raises InvalidInput for a malformed entry."""
        row, entry = self._ledger._build_row(self._pending, actor, action, case_id, item_id, details or {})
        self.session.execute(insert(_ENTRIES), [row])
        return entry


class Ledger:
    """The custody ledger stored in one database and signed with one note key.

    The Merkle tree over all leaf hashes is kept in memory (about 150 bytes per
    entry) and caught up from the database before every write and proof, so
    several processes may share one database.
    """

    def __init__(
        self,
        engine: Engine,
        signer: NoteSigner,
        checkpoint_sink: Callable[[int, bytes], None] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        checkpoint_interval: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._sink = checkpoint_sink
        self._clock = clock
        self._checkpoint_interval = checkpoint_interval

        # The sequencer: `_busy` is True while one thread writes. Appends that
        # arrive meanwhile wait in `_queue`, and the next thread to take over
        # writes them all as one batch.
        self._condition = threading.Condition()
        self._busy = False
        self._queue: list[_QueuedAppend] = []
        self._tree_lock = threading.Lock()
        self._tree = MerkleTree()
        self._unsunk: dict[int, bytes] = {}
        self._last_checkpoint_at = float("-inf")
        self._timer: threading.Timer | None = None
        self._closed = False

        with self._read_connection() as connection:
            self._catch_up(connection)

    @property
    def origin(self) -> str:
        return self._signer.name

    @property
    def verifier_key(self) -> str:
        return self._signer.verifier_key

    # Appending ---------------------------------------------------------------

    def append(
        self,
        actor: str,
        action: str,
        *,
        case_id: str | None = None,
        item_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> LedgerEntry:
        """Append one entry and return it once it is committed.

        Raises InvalidInput for a malformed entry (nothing is written) and
        LedgerError when the database write fails (nothing is written either).
        """
        details = details or {}
        # Check the fields before queueing, so that invalid input fails only this call.
        check_entry_fields(actor, action, case_id, item_id, details)

        request = _QueuedAppend(actor, action, case_id, item_id, details)
        with self._condition:
            self._queue.append(request)
            while self._busy and not request.done:
                self._condition.wait()
            if not request.done:
                self._busy = True
                batch, self._queue = self._queue, []
            else:
                batch = []
        if batch:
            try:
                self._write_batch(batch)
            finally:
                self._release_sequencer()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _write_batch(self, batch: list[_QueuedAppend]) -> None:
        """Write queued appends in one transaction; the caller owns the sequencer."""
        pending: _Pending | None = None
        entries: list[LedgerEntry] = []
        try:
            with sequenced_connection(self._engine) as connection:
                size, last_hash = self._catch_up(connection)
                pending = _Pending(size, last_hash)
                rows = []
                for request in batch:
                    row, entry = self._build_row(
                        pending, request.actor, request.action, request.case_id, request.item_id, request.details
                    )
                    rows.append(row)
                    entries.append(entry)
                connection.execute(insert(_ENTRIES), rows)
        except Exception as error:  # noqa: BLE001 - every failure must reach each waiting writer
            failure = error if isinstance(error, LedgerError) else LedgerError(f"ledger append failed, nothing was written: {error}")
            logger.error("ledger.append.failed batch=%s error=%s", len(batch), str(error))
            for request in batch:
                request.error = failure
                request.done = True
            return

        for request, entry in zip(batch, entries):
            request.result = entry
            request.done = True
        self._after_commit(pending)

    def _build_row(
        self,
        pending: _Pending,
        actor: str,
        action: str,
        case_id: str | None,
        item_id: str | None,
        details: dict[str, Any],
    ) -> tuple[dict[str, Any], LedgerEntry]:
        time = self._clock()
        raw = canonical_entry(pending.next_index, time, actor, action, case_id, item_id, details, pending.prev_hash)
        entry = LedgerEntry(
            index=pending.next_index,
            time=format_time(time),
            actor=actor,
            action=action,
            case_id=case_id,
            item_id=item_id,
            details=json.loads(raw)["details"],  # a copy the caller cannot change later
            prev_hash=pending.prev_hash,
            entry_hash=entry_hash(raw),
            raw=raw,
        )
        leaf = hash_leaf(raw)
        row = {
            "index": entry.index,
            "entry": raw,
            "entry_hash": entry.entry_hash,
            "leaf_hash": leaf,
            "time": time,
            "actor": actor,
            "action": action,
            "case_id": case_id,
            "item_id": item_id,
        }
        pending.leaves.append(leaf)
        pending.prev_hash = entry.entry_hash
        return row, entry

    def _acquire_sequencer(self) -> None:
        with self._condition:
            while self._busy:
                self._condition.wait()
            self._busy = True

    def _release_sequencer(self) -> None:
        with self._condition:
            self._busy = False
            self._condition.notify_all()

    @contextmanager
    def _sequencer(self) -> Iterator[None]:
        """Hold the in-process side of the sequencer; the database lock is taken per transaction."""
        self._acquire_sequencer()
        try:
            yield
        finally:
            self._release_sequencer()

    @contextmanager
    def transaction(self) -> Iterator[LedgerTransaction]:
        """Open a transaction that holds the sequencer lock, for entries plus other rows.

        Everything added through `txn.session` and `txn.append` commits together
        when the block ends, or is rolled back when it raises. SQLAlchemy errors
        are raised as LedgerError; other exceptions pass through unchanged.
        """
        with self._sequencer():
            try:
                with sequenced_connection(self._engine) as connection:
                    size, last_hash = self._catch_up(connection)
                    pending = _Pending(size, last_hash)
                    with Session(bind=connection, expire_on_commit=False) as session:
                        yield LedgerTransaction(self, session, pending)
                        session.flush()
            except SQLAlchemyError as error:
                logger.error("ledger.transaction.failed error=%s", str(error))
                raise LedgerError(f"ledger transaction failed, nothing was written: {error}") from error
            self._after_commit(pending)

    def _after_commit(self, pending: _Pending) -> None:
        with self._tree_lock:
            if self._tree.size == pending.first_index:
                self._tree.extend(pending.leaves)
            elif self._tree.size < pending.next_index:
                # A reader caught up part of this batch; only happens if rows were
                # visible before commit, which neither database allows.
                raise LedgerError(
                    f"ledger tree has {self._tree.size} leaves after committing entries "
                    f"{pending.first_index}..{pending.next_index - 1}; restart the service"
                )
        if pending.leaves:
            self._schedule_checkpoint()

    # Reading -----------------------------------------------------------------

    @contextmanager
    def _read_connection(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise LedgerError(f"ledger read failed: {error}") from error

    def _catch_up(self, connection: Connection) -> tuple[int, str]:
        """Load leaves committed by others into the tree; return (size, last entry hash)."""
        last = connection.execute(
            select(_ENTRIES.c.index, _ENTRIES.c.entry_hash).order_by(_ENTRIES.c.index.desc()).limit(1)
        ).first()
        size = 0 if last is None else last.index + 1
        last_hash = GENESIS_HASH if last is None else last.entry_hash
        with self._tree_lock:
            known = self._tree.size
            if size < known:
                raise LedgerError(
                    f"the ledger database contains {size} entries but {known} were read before; "
                    "entries were deleted or the database was restored from an older copy"
                )
            if size > known:
                leaves = connection.execute(
                    select(_ENTRIES.c.leaf_hash).where(_ENTRIES.c.index >= known).order_by(_ENTRIES.c.index)
                ).scalars().all()
                if len(leaves) != size - known:
                    raise LedgerError(
                        f"ledger entries {known}..{size - 1} have gaps: found {len(leaves)} of {size - known}; "
                        "run `evidence-vault audit verify` to find the missing entries"
                    )
                self._tree.extend([bytes(leaf) for leaf in leaves])
        return size, last_hash

    def _refresh(self) -> None:
        with self._read_connection() as connection:
            self._catch_up(connection)

    def size(self) -> int:
        """Return the number of committed entries."""
        with self._read_connection() as connection:
            maximum = connection.execute(select(func.max(_ENTRIES.c.index))).scalar()
        return 0 if maximum is None else maximum + 1

    def entries(
        self,
        *,
        case_id: str | None = None,
        item_id: str | None = None,
        start: int = 0,
        end: int | None = None,
    ) -> list[LedgerEntry]:
        """Return committed entries with `start <= index < end`, optionally for one case or item."""
        query = select(_ENTRIES.c.entry).where(_ENTRIES.c.index >= start).order_by(_ENTRIES.c.index)
        if end is not None:
            query = query.where(_ENTRIES.c.index < end)
        if case_id is not None:
            query = query.where(_ENTRIES.c.case_id == case_id)
        if item_id is not None:
            query = query.where(_ENTRIES.c.item_id == item_id)
        with self._read_connection() as connection:
            raws = connection.execute(query).scalars().all()
        return [LedgerEntry.from_raw(bytes(raw)) for raw in raws]

    def entry(self, index: int) -> LedgerEntry:
        """Return one entry. Raises NotFound when no entry has that index."""
        with self._read_connection() as connection:
            raw = connection.execute(select(_ENTRIES.c.entry).where(_ENTRIES.c.index == index)).scalar()
        if raw is None:
            raise NotFound(f"no ledger entry with index {index}")
        return LedgerEntry.from_raw(bytes(raw))

    # Proofs ------------------------------------------------------------------

    def root(self, tree_size: int | None = None) -> bytes:
        self._refresh()
        with self._tree_lock:
            return self._tree.root(tree_size)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """Return the RFC 6962 inclusion proof of entry `index` in the tree of `tree_size` entries."""
        self._refresh()
        with self._tree_lock:
            return self._tree.inclusion_proof(index, tree_size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the RFC 6962 consistency proof between two tree sizes."""
        self._refresh()
        with self._tree_lock:
            return self._tree.consistency_proof(old_size, new_size)

    def proof_receipt(self, index: int) -> str:
        """Return a C2SP tlog-proof@v1 text proving entry `index` against the latest checkpoint.

        The entry bytes travel base64-encoded on the `extra` line, so the
        receipt alone lets anyone recompute the leaf. Raises NotFound when no
        entry has that index.
        """
        checkpoint = self.checkpoint()
        if not 0 <= index < checkpoint.size:
            raise NotFound(f"no ledger entry with index {index}; the log has {checkpoint.size} entries")
        entry = self.entry(index)
        proof = self.inclusion_proof(index, checkpoint.size)
        return format_receipt(index, proof, checkpoint.note, extra=entry.raw)

    # Checkpoints -------------------------------------------------------------

    def checkpoint(self) -> SignedCheckpoint:
        """Sign a checkpoint for the current size if none exists yet, and return the latest.

        Raises LedgerError when the new tree is not consistent with the latest
        stored checkpoint; nothing is signed then.
        """
        with self._sequencer():
            return self._sign_checkpoint_locked()

    def _sign_checkpoint_locked(self) -> SignedCheckpoint:
        signed: SignedCheckpoint | None = None
        try:
            with sequenced_connection(self._engine) as connection:
                size, _last_hash = self._catch_up(connection)
                with self._tree_lock:
                    root = self._tree.root(size)
                latest = connection.execute(
                    select(_CHECKPOINTS.c.size, _CHECKPOINTS.c.root, _CHECKPOINTS.c.note)
                    .order_by(_CHECKPOINTS.c.size.desc())
                    .limit(1)
                ).first()
                if latest is not None:
                    previous = self._check_previous_checkpoint(bytes(latest.note), size, root)
                    if previous.size == size:
                        self._last_checkpoint_at = _time.monotonic()
                        return previous
                body = checkpoint_body(self.origin, size, root)
                note = self._signer.sign(body)
                connection.execute(
                    insert(_CHECKPOINTS), [{"size": size, "root": root, "note": note, "created_at": utc_now()}]
                )
                signed = SignedCheckpoint(self.origin, size, root, note)
        except SQLAlchemyError as error:
            logger.error("ledger.checkpoint.failed error=%s", str(error))
            raise LedgerError(f"signing a ledger checkpoint failed: {error}") from error

        self._last_checkpoint_at = _time.monotonic()
        logger.info("ledger.checkpoint.signed tree_size=%s", signed.size)
        self._unsunk[signed.size] = signed.note
        self._flush_sink()
        return signed

    def _check_previous_checkpoint(self, note: bytes, size: int, root: bytes) -> SignedCheckpoint:
        """Check the latest stored checkpoint against the current tree before signing another."""
        try:
            previous = open_checkpoint(note, self._signer.verifier_key, self.origin)
        except ProofError as error:
            raise LedgerError(f"refusing to sign: the latest stored checkpoint does not verify ({error})") from error
        if previous.size > size:
            raise LedgerError(
                f"refusing to sign: the latest checkpoint covers {previous.size} entries but the database holds {size}; "
                "entries were deleted or the database was restored from an older copy"
            )
        with self._tree_lock:
            proof = self._tree.consistency_proof(previous.size, size)
        try:
            if previous.size == 0 and previous.root != EMPTY_ROOT:
                raise ProofError("empty-tree checkpoint root differs", expected=EMPTY_ROOT.hex(), computed=previous.root.hex())
            if previous.size in (0, size):
                if previous.size == size and previous.root != root:
                    raise ProofError("checkpoint root differs from the ledger's", expected=previous.root.hex(), computed=root.hex())
            else:
                verify_consistency(previous.size, size, previous.root, root, proof)
        except ProofError as error:
            raise LedgerError(
                f"refusing to sign: the ledger is not consistent with checkpoint {previous.size} ({error}); "
                "run `evidence-vault audit verify` to locate the change"
            ) from error
        return previous

    def _flush_sink(self) -> None:
        if self._sink is None:
            self._unsunk.clear()
            return
        for size in sorted(self._unsunk):
            try:
                self._sink(size, self._unsunk[size])
            except Exception as error:  # noqa: BLE001 - any sink failure is retried on the next checkpoint
                # NOTE: the checkpoint stays in the database and is retried with the
                # next one; until then storage lags behind the database.
                logger.error("ledger.checkpoint.sink_failed tree_size=%s error=%s", size, str(error))
                return
            del self._unsunk[size]

    def _schedule_checkpoint(self) -> None:
        """Sign now if the interval has passed, otherwise once it has (the caller owns the sequencer)."""
        wait = self._last_checkpoint_at + self._checkpoint_interval - _time.monotonic()
        if wait <= 0:
            try:
                self._sign_checkpoint_locked()
            except VaultError as error:
                logger.error("ledger.checkpoint.failed error=%s", str(error))
            return
        if self._timer is None and not self._closed:
            self._timer = threading.Timer(wait, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        with self._sequencer():
            self._timer = None
            if self._closed:
                return
            try:
                self._sign_checkpoint_locked()
            except VaultError as error:
                logger.error("ledger.checkpoint.failed error=%s", str(error))

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Return every stored checkpoint, smallest tree first, each verified against the log key."""
        with self._read_connection() as connection:
            notes = connection.execute(select(_CHECKPOINTS.c.note).order_by(_CHECKPOINTS.c.size)).scalars().all()
        return [open_checkpoint(bytes(note), self._signer.verifier_key, self.origin) for note in notes]

    def stop_timer(self) -> None:
        """Cancel a pending checkpoint timer without signing anything."""
        with self._sequencer():
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def close(self) -> None:
        """Stop the checkpoint timer and sign a final checkpoint for any unsigned entries.

        A failure to sign is logged, not raised, so that shutdown continues.
        """
        with self._sequencer():
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            try:
                self._sign_checkpoint_locked()
            except VaultError as error:
                logger.error("ledger.close.checkpoint_failed error=%s", str(error))

    # Verification ------------------------------------------------------------

    def verify(self, *, trusted_checkpoint: bytes | None = None, storage_notes: Iterable[bytes] = ()) -> "AuditVerdict":
        """Recompute every leaf, chain link and checkpoint root from the database.

        Hashes are recomputed from the entry bytes; the hash and query columns
        are compared with them as well. `storage_notes` are checkpoints read
        from WORM storage, which catch a database restored from an older copy.
        """
        from vault.custody._verify import StoredColumns, verify_log

        columns = (_ENTRIES.c.index, _ENTRIES.c.entry, _ENTRIES.c.entry_hash, _ENTRIES.c.leaf_hash,
                   _ENTRIES.c.actor, _ENTRIES.c.action, _ENTRIES.c.case_id, _ENTRIES.c.item_id)
        with self._read_connection() as connection:
            rows = connection.execute(select(*columns).order_by(_ENTRIES.c.index)).all()
            notes = connection.execute(select(_CHECKPOINTS.c.note).order_by(_CHECKPOINTS.c.size)).scalars().all()
        return verify_log(
            [(row.index, bytes(row.entry)) for row in rows],
            [bytes(note) for note in notes],
            self._signer.verifier_key,
            trusted_checkpoint=trusted_checkpoint,
            storage_notes=list(storage_notes),
            stored_columns=[
                StoredColumns(row.entry_hash, bytes(row.leaf_hash), row.actor, row.action, row.case_id, row.item_id)
                for row in rows
            ],
        )
